"""The default foreground stream of the sample, through the real `aura dev up` (not a
terminal): every app line, aura's own lines and Dapr's warnings before "ready", no info
line of a sidecar or of the infra, repeats folded with the right counts, Dapr's facts in the
summary; `--verbose` prints everything; the store keeps every line either way."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from aura_dev.logs.style import compact_runtime_line
from conftest import aura_bin, run_aura
from support.stack import SAMPLE, copy_workspace, edit_workspace, state, wait_for

pytestmark = pytest.mark.e2e

NOISY_APP = '''
import time as _time
for _ in range(3):
    print("warming the conversation cache", flush=True)   # three writes apart: folded across chunks
    _time.sleep(0.05)
print("burst\\nburst\\nburst\\nburst", flush=True)          # one write: folded within a chunk
print("cache warm", flush=True)
'''
NOISY_LINES = {"warming the conversation cache", "burst", "cache warm"}
INFRA = ("redis", "placement", "scheduler")
COUNT = re.compile(r" \(×(\d+)\)$")


def sample_that_warns(root: Path) -> Path:
    """The sample, with a sidecar that warns (daprd skips a JSON file among its resources, per
    resource kind, twice in a row for subscriptions) and an app that repeats itself."""
    copy_workspace(SAMPLE, root)
    (root / "services/sessions/extra").mkdir()
    (root / "services/sessions/extra/notes.json").write_text("{}\n")
    edit_workspace(root, lambda data: data["services"]["sessions"].update(dapr={"resources": ["extra"]}))
    app = root / "services/conversation/app.py"
    app.write_text(app.read_text() + NOISY_APP)
    return root


def up_until_ready(root: Path, out: Path, *flags: str) -> str:
    with out.open("wb") as sink:
        proc = subprocess.Popen([aura_bin(), "dev", "up", *flags, "-w", str(root)], stdout=sink,
                                stderr=subprocess.STDOUT, env=dict(os.environ, NO_COLOR="1"))
    try:
        wait_for(lambda: b"services ready" in out.read_bytes(), timeout=180, interval=0.2, what="the summary")
        wait_for(lambda: b"cache warm" in out.read_bytes(), timeout=30, what="the app's last line")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    assert state(root) is None
    return out.read_text()


def shown_lines(text: str) -> list[tuple[str, str]]:
    """(unit label, text) of each prefixed line, before the summary."""
    before = text.split("services ready", 1)[0]
    return [(label.strip(), body) for label, sep, body in (line.partition(" | ") for line in before.splitlines())
            if sep]


def unfolded(shown: list[tuple[str, str]], label: str, texts: set[str]) -> list[str]:
    """The lines of `texts` a unit's screen lines stand for: a count line `x (×n)` stands for
    n - 1 more of the `x` shown before it."""
    lines: list[str] = []
    for unit, body in shown:
        count = COUNT.search(body)
        text = body[:count.start()] if count else body
        if unit != label or text not in texts:
            continue
        if count:
            assert lines and lines[-1] == text, f"{body!r} does not follow its first line"
        lines.extend([text] * (int(count[1]) - 1 if count else 1))
    return lines


def stored(root: Path, *args: str) -> list[dict[str, str]]:
    done = run_aura("dev", "logs", "--json", "-w", str(root), *args, timeout=60)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def label_of(record: dict[str, str]) -> str:
    return record["service"] + ("·dapr" if record["source"] == "sidecar" else "")


def test_the_default_stream_shows_what_a_person_needs(tmp_path: Path) -> None:
    root = sample_that_warns(tmp_path / "ws")
    text = up_until_ready(root, tmp_path / "quiet.txt")
    shown = shown_lines(text)
    records = stored(root)

    # Every app line logged before the last app was ready is on screen (repeats count in full).
    on_screen: Counter[tuple[str, str]] = Counter()
    for label, body in shown:
        count = COUNT.search(body)
        if count:
            on_screen[(label, body[:count.start()])] += int(count[1]) - 1  # the first was shown on its own
        else:
            on_screen[(label, body)] += 1
    ready_at = max(r["ts"] for r in records if r["source"] == "app" and r["stream"] == "aura"
                   and r["text"].startswith("ready in"))
    app_lines = Counter((label_of(r), r["text"]) for r in records
                        if r["source"] == "app" and r["stream"] != "aura" and r["ts"] < ready_at)
    assert app_lines, "the apps wrote nothing?"
    missing = app_lines - on_screen
    assert not missing, f"app lines not on screen: {missing}"

    # Of the sidecars and the infra, only warnings and errors (and aura's own ▶ lines).
    alarms = {compact_runtime_line(r["text"].encode())[0].decode() for r in records
              if r["source"] != "app" and r["level"] in ("warn", "error")}
    runtime = [body for label, body in shown if (label.endswith("·dapr") or label in INFRA)
               and not body.startswith("▶ ")]
    assert runtime, "the sidecar's warnings should be on screen"
    assert all(COUNT.sub("", body) in alarms for body in runtime), runtime
    info_lines = sum(1 for r in records if r["source"] != "app" and r["stream"] != "aura" and r["level"] == "info")
    assert info_lines > 200, "the store must still hold Dapr's info lines"
    for chatter in ("Component loaded", "Starting Dapr Runtime", "Sidecar connected", "etcd: ", "mTLS is disabled"):
        assert not any(chatter in body for _label, body in shown), chatter

    # The warning on purpose, its repeat folded; the app's repeats folded with the right counts.
    lines = [f"{label} | {body}" for label, body in shown]
    assert "sessions·dapr | A non-YAML resiliency file notes.json was detected, it will not be loaded  [runtime]" in lines
    subscription = "sessions·dapr | A non-YAML Subscription file notes.json was detected, it will not be loaded  " \
                   "[runtime.loader.disk]"
    assert lines.count(subscription) == 1 and lines.count(subscription + " (×2)") == 1
    # A line of aura's about the unit (its start taking a while) may end a run early: then the
    # rest is a run of its own. Unfolded, the screen says exactly what the app wrote, in order.
    assert unfolded(shown, "conversation", NOISY_LINES) == ["warming the conversation cache"] * 3 + ["burst"] * 4 \
        + ["cache warm"]
    assert any(line.startswith("conversation | warming the conversation cache (×") for line in lines), lines
    assert lines.count("conversation | burst") == 1 and lines.count("conversation | burst (×4)") == 1

    # What Dapr's lines said is in the summary; the stop is one line.
    flat = " ".join(text.split())  # the summary table wraps long cells
    assert "2 components loaded (pubsub, statestore)" in flat and "actors: SessionActor" in flat
    assert re.search(r"\d+ Dapr info lines not printed", text)
    assert "while stopping, sidecars and infra wrote" in text

    # The store has every line, repeats included.
    sessions_sidecar = [r["text"] for r in stored(root, "sessions", "--source", "sidecar")]
    assert sum("A non-YAML Subscription file notes.json" in t for t in sessions_sidecar) == 2
    assert any("Component loaded: statestore" in t for t in sessions_sidecar)
    conversation = [r["text"] for r in stored(root, "conversation", "--source", "app")]
    assert conversation.count("warming the conversation cache") == 3 and conversation.count("burst") == 4

    # --verbose: every line as it comes.
    loud = up_until_ready(root, tmp_path / "verbose.txt", "--verbose")
    loud_lines = [f"{label} | {body}" for label, body in shown_lines(loud)]
    assert any("Component loaded: statestore" in line for line in loud_lines)
    assert any(line.startswith("scheduler") and "etcd: " in line for line in loud_lines)
    assert loud_lines.count("conversation | warming the conversation cache") == 3
    assert loud_lines.count("conversation | burst") == 4
    assert loud_lines.count(subscription) == 2
    assert not any(COUNT.search(line) for line in loud_lines)
    assert len(loud_lines) > 3 * len(lines)


def test_contradicting_flags_are_refused(tmp_path: Path) -> None:
    root = copy_workspace(SAMPLE, tmp_path / "ws")
    for flags, words in ((["--verbose", "--quiet-sidecars"], "use one"), (["--tui", "-d"], "--detach"),
                         (["--tui", "-v"], "--verbose")):
        done = run_aura("dev", "up", *flags, "-w", str(root))
        assert done.returncode == 2 and words in done.stderr, (flags, done.stderr)
    assert state(root) is None and not (root / ".aura" / "run" / "supervisor.lock").exists()
