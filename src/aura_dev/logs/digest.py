"""What Dapr's own info lines say, in a few words per unit, for the start-up view.

The quiet console does not print sidecar and infra info lines; it hands them here, and the
live table (and the summary after it) says what they meant: "2 components loaded (pubsub,
statestore), placement connected".  The facts are read from the shortened message
(`style.compact_runtime_line`), by a handful of patterns for the lines that matter; every
other line is only counted.

`EXPECTED_WARNINGS` are warnings that come from the way aura runs Dapr, not from anything a
user wrote: each says why.  The quiet console treats them as info lines; the store, `aura
dev logs --level warn` and `--verbose` still have them as warnings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from aura_dev.logs.record import Level, UnitRef

EXPECTED_WARNINGS: tuple[tuple[bytes, str], ...] = (
    (b"mTLS is disabled", "aura runs Dapr on loopback without Sentry, on purpose"),
    (b"The default value for 'spec.metric.http.increasedCardinality'", "a notice about a default of Dapr's own"),
    (b"Graceful shutdown timeout is infinite", "aura bounds every stop itself (SIGKILL after the grace period)"),
    (b"etcd: Running http and grpc server on single port", "the scheduler's embedded etcd, as Dapr sets it up"),
    (b"etcd: exceeded recommended request limit", "the scheduler's embedded etcd, as Dapr sets it up"),
    (b"etcd: simple token is not cryptographically signed", "the scheduler's embedded etcd, as Dapr sets it up"),
    (b"etcd: quota exceeds the maximum value", "the scheduler's embedded etcd, as Dapr sets it up"),
    (b"WARNING Memory overcommit must be enabled",
     "a host setting; aura's Redis takes no RDB snapshots, and a dev stack's AOF rewrites are small"),
)


def expected_warning(text: bytes) -> bool:
    """A warning that aura's own way of running Dapr causes (see EXPECTED_WARNINGS)."""
    return any(known in text for known, _why in EXPECTED_WARNINGS)


class UnitFacts:
    """What one unit's lines said.  A plain class, not a dataclass: this module is imported on
    `aura dev up`'s start-up path, where generating a dataclass costs millions of instructions."""

    def __init__(self) -> None:
        self.components: dict[str, str] = {}  # name -> type
        self.topics: list[str] = []
        self.actors: list[str] = []
        self.links: dict[str, bool] = {}  # placement / scheduler -> connected
        self.peers: set[str] = set()  # sidecars connected to placement / the scheduler
        self.notes: dict[str, str] = {}  # role, version, readiness, app health
        self.hidden = 0  # info lines not printed
        self.warnings = 0
        self.errors = 0

    def summary(self) -> str:
        parts = [self.notes[key] for key in ("version", "role", "ready") if key in self.notes]
        if self.components:
            count = len(self.components)
            parts.append(f"{count} component{'s' if count > 1 else ''} loaded ({', '.join(self.components)})")
        if self.topics:
            parts.append(f"subscribed to {', '.join(self.topics)}")
        if self.actors:
            parts.append(f"actors: {', '.join(self.actors)}")
        for up, word in ((True, "connected"), (False, "disconnected")):
            names = [name for name in ("placement", "scheduler") if self.links.get(name) is up]
            if names:
                parts.append(f"{' and '.join(names)} {word}")
        if self.peers:
            parts.append(f"{len(self.peers)} sidecar{'s' if len(self.peers) > 1 else ''} connected")
        if self.notes.get("app"):
            parts.append(self.notes["app"])
        if self.warnings:
            parts.append(f"{self.warnings} warning{'s' if self.warnings > 1 else ''}")
        if self.errors:
            parts.append(f"{self.errors} error{'s' if self.errors > 1 else ''}")
        return ", ".join(parts)


Rule = Callable[[UnitFacts, "re.Match[str]"], None]


def _component(facts: UnitFacts, match: re.Match[str]) -> None:
    facts.components[match["name"]] = match["type"]


def _topics(facts: UnitFacts, match: re.Match[str]) -> None:
    for topic in re.findall(r"[^\[\]\s,]+", match["topics"]):
        if topic not in facts.topics:
            facts.topics.append(topic)


def _actors(facts: UnitFacts, match: re.Match[str]) -> None:
    facts.actors = match["types"].split()


def _link(name: str, up: bool) -> Rule:
    def apply(facts: UnitFacts, _match: re.Match[str]) -> None:
        facts.links[name] = up
    return apply


def _note(key: str, text: str) -> Rule:
    def apply(facts: UnitFacts, match: re.Match[str]) -> None:
        facts.notes[key] = text.format(**match.groupdict())
    return apply


def _peer(facts: UnitFacts, match: re.Match[str]) -> None:
    facts.peers.add(match["id"])


_RULES: tuple[tuple[str, Rule], ...] = (
    # daprd
    (r"^Component loaded: (?P<name>\S+) \((?P<type>[^)]+)\)", _component),
    (r"^app is subscribed to the following topics: (?P<topics>\[.*?\]) through pubsub", _topics),
    (r"^Registering hosted actors: \[(?P<types>[^\]]*)\]", _actors),
    (r"^Connected to placement", _link("placement", True)),
    (r"^Closing connection to placement", _link("placement", False)),
    (r"^Scheduler stream connected", _link("scheduler", True)),
    (r"^Scheduler stream disconnected", _link("scheduler", False)),
    (r"^App entered healthy status", _note("app", "")),  # the app's state says as much
    (r"^App entered unhealthy status", _note("app", "app unhealthy")),
    # placement and the scheduler
    (r"^Node id=\S+ has acquired leadership", _note("role", "leader")),
    (r"^Received status report connection from new namespace=\S+ id=(?P<id>\S+)", _peer),
    (r"^Sidecar connected: [^/\s]+/(?P<id>\S+)", _peer),
    (r"^Etcd server is ready", _note("ready", "etcd ready")),
    # Redis: `pid:M 03 Dec 2026 10:44:14.596 * Ready to accept connections`
    (r"[#*] Redis version=(?P<version>[\d.]+)", _note("version", "Redis {version}")),
    (r"[#*] Ready to accept connections", _note("ready", "accepting connections")),
)
# One cheap test before the rules: most lines match none of them.
_GATE = (rb"^(?:Component loaded|app is subscribed|Registering hosted|Connected to placement|Closing connection "
                   rb"to placement|Scheduler stream|App entered|Node id=|Received status report|Sidecar connected|"
         rb"Etcd server is ready)|[#*] (?:Redis version=|Ready to accept)")


@lru_cache(maxsize=1)
def _compiled() -> tuple[re.Pattern[bytes], tuple[tuple[re.Pattern[str], Rule], ...]]:
    """Compiled at the first runtime line, not at import: `aura dev up` of a stack without
    sidecars (and every other command) never pays for them."""
    return re.compile(_GATE), tuple((re.compile(pattern), rule) for pattern, rule in _RULES)


class RuntimeDigest:
    """Facts per sidecar or infra unit, from the lines the console reads."""

    def __init__(self) -> None:
        self.units: dict[UnitRef, UnitFacts] = {}

    def facts(self, unit: UnitRef) -> UnitFacts:
        found = self.units.get(unit)
        if found is None:
            found = self.units[unit] = UnitFacts()
        return found

    def read(self, unit: UnitRef, text: bytes, level: Level, shown: bool) -> None:
        """One shortened runtime line (`compact_runtime_line`) and whether the console printed it."""
        facts = self.facts(unit)
        if not shown:
            facts.hidden += 1
        elif level is Level.ERROR:
            facts.errors += 1
        elif level is Level.WARN:
            facts.warnings += 1
        gate, rules = _compiled()
        if gate.search(text) is None:
            return
        message = text.decode("utf-8", "replace")
        for pattern, rule in rules:
            match = pattern.search(message)
            if match:
                rule(facts, match)
                return

    def summary(self, unit: UnitRef) -> str:
        found = self.units.get(unit)
        return found.summary() if found else ""

    def hidden(self) -> int:
        return sum(facts.hidden for facts in self.units.values())
