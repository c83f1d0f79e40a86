"""Resources written for `dapr init`, run unchanged: the addresses `dapr init` gives its
Redis (`localhost:6379`) and Zipkin (`localhost:9411`) are pointed at aura's own.

Only two places are read, with a YAML parser, never by searching the text: the values of a
Dapr `Component`'s `spec.metadata` items, and a `Configuration`'s
`spec.tracing.zipkin.endpointAddress`.  The new address is written over the old scalar at
its exact position (PyYAML's marks), so the rest of the file stays byte for byte as the
user wrote it; the user's own file is never touched, only aura's rendered copy.  An address
that is not a `dapr init` default is left alone, and so is a Zipkin address while aura runs
no Zipkin.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

REDIS_DEFAULTS = frozenset({"localhost:6379", "127.0.0.1:6379"})
ZIPKIN_DEFAULTS = frozenset({"localhost:9411", "127.0.0.1:9411"})
REDIS, ZIPKIN = "Redis", "Zipkin"
_PROPERTIES = re.compile(r"(?:[&!]\S*\s+)*")  # `&anchor` and `!tag` before a scalar (part of its node)


@dataclass(frozen=True)
class InfraTargets:
    """Where aura's own infra listens (host:port), or None for what it does not run."""

    redis_host: str | None = None
    zipkin_host: str | None = None


@dataclass(frozen=True)
class DefaultAddress:
    """One `dapr init` default found in a resource, and what aura's copy says instead."""

    file: Path
    resource: str  # metadata.name of the Component or Configuration
    infra: str  # REDIS or ZIPKIN
    address: str  # as the file writes it
    new_address: str | None  # in aura's copy; None: left as is (aura runs no such infra)

    @property
    def placeholder(self) -> str:
        return "{redis_host}" if self.infra == REDIS else "{zipkin_host}"

    def notice(self) -> str:
        """What `aura dev up` says about it, once per run."""
        if self.new_address is None:
            return (f"{self.resource}: {self.address} is `dapr init`'s {self.infra}; aura runs no {self.infra}, "
                    "so it is left as is")
        shown = self.new_address if self.infra == REDIS else urlsplit(self.new_address).netloc
        return (f"{self.resource}: {_host(self.address)} → aura's {self.infra} {shown}; "
                f"write `{self.placeholder}` to make it explicit")

    def import_note(self) -> str:
        """What `aura dev import` says about it (aura's ports are chosen at `up`)."""
        if self.infra == ZIPKIN:
            return f"{self.resource}: {self.address} → aura's Zipkin when it runs one (left as is otherwise)"
        return f"{self.resource}: {self.address} → aura's Redis; write `{self.placeholder}` to make it explicit"


def map_defaults(text: str, file: Path, targets: InfraTargets) -> tuple[str, list[DefaultAddress]]:
    """`text` with every `dapr init` default pointed at `targets`, and what was found.  A
    file that does not parse is returned unchanged (daprd reports it)."""
    found: list[tuple[yaml.ScalarNode, DefaultAddress]] = []
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return text, []
    seen: set[int] = set()
    for document in documents:
        for node, found_address in _defaults_in(document, file, targets):
            if id(node) not in seen:  # an alias is the node it names: one change
                seen.add(id(node))
                found.append((node, found_address))
    changed = text
    for node, address in sorted(found, key=lambda pair: pair[0].start_mark.index, reverse=True):
        if address.new_address is not None:
            start, end = node.start_mark.index, node.end_mark.index
            properties = _PROPERTIES.match(changed, start, end)  # an anchor or tag before the value stays
            start = properties.end() if properties else start
            changed = changed[:start] + json.dumps(address.new_address) + changed[end:]
    return changed, [address for _node, address in found]


def find_defaults(text: str, file: Path) -> list[DefaultAddress]:
    """The `dapr init` defaults in `text`, without changing anything (for `aura dev import`)."""
    return map_defaults(text, file, InfraTargets())[1]


def _defaults_in(document: yaml.Node | None, file: Path,
                 targets: InfraTargets) -> list[tuple[yaml.ScalarNode, DefaultAddress]]:
    kind = _scalar(_get(document, "kind"))
    name = _scalar(_get(_get(document, "metadata"), "name")) or file.name
    spec = _get(document, "spec")
    found: list[tuple[yaml.ScalarNode, DefaultAddress]] = []
    if kind == "Component":
        items = _get(spec, "metadata")
        for item in items.value if isinstance(items, yaml.SequenceNode) else []:
            value = _get(item, "value")
            text = _scalar(value)
            if isinstance(value, yaml.ScalarNode) and text in REDIS_DEFAULTS and not _same(text, targets.redis_host):
                found.append((value, DefaultAddress(file, name, REDIS, text, targets.redis_host)))
    elif kind == "Configuration":
        endpoint = _get(_get(_get(spec, "tracing"), "zipkin"), "endpointAddress")
        text = _scalar(endpoint)
        if isinstance(endpoint, yaml.ScalarNode) and text is not None:
            parts = urlsplit(text if "//" in text else f"http://{text}")
            if parts.netloc in ZIPKIN_DEFAULTS and not _same(parts.netloc, targets.zipkin_host):
                new = urlunsplit(parts._replace(netloc=targets.zipkin_host)) if targets.zipkin_host else None
                found.append((endpoint, DefaultAddress(file, name, ZIPKIN, text, new)))
    return found


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value of `key` in a mapping node (the last one, as YAML loaders keep)."""
    if not isinstance(node, yaml.MappingNode):
        return None
    found = None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            found = value_node
    return found


def _scalar(node: yaml.Node | None) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _same(address: str, target: str | None) -> bool:
    """Already aura's own address (aura's infra on dapr init's port)."""
    return target is not None and address.replace("localhost:", "127.0.0.1:") == target.replace("localhost:", "127.0.0.1:")


def _host(address: str) -> str:
    return urlsplit(address).netloc if "//" in address else address
