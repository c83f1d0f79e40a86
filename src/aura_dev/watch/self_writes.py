"""Apps that would reload themselves for ever.

An app that writes a file into its own folder as it starts (a note of its starts, a pid
file, a cache) is not restarted by it on `up` — the watch begins once the start has
settled — but once a save has reloaded it, its new process writes the file again, the
watch sees a change in the service's folder, and the app reloads, writes, reloads: three
restarts a second, for ever, measured on a 7-line app.  Nothing tells aura which process
wrote a file (inotify does not say), so the loop is recognised by its shape instead:

- a reload's batch of changed files arrived while the app was still starting after the
  reload before it (from that reload until the app was ready, plus `START_SLACK`);
- so had the batches of the `LOOP_AFTER` reloads before it, and they were exactly the same
  files;
- and none of them is source code (a save of `app.py` made faster than the app restarts,
  again and again, is an impatient user, not a loop).

Then those files stop reloading the app for the rest of the run, and the user is told so,
with the line for `aura.yaml` that says it for good.  The cost is `LOOP_AFTER` restarts
more than needed.  Not one sighting, because a user can make the same pattern: an editor
that saves a data file every second while the app restarts in less — it has to happen
`LOOP_AFTER + 1` times in a row, and the line says what aura concluded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

START_SLACK = 1.0  # seconds after an app is ready in which its writes still count as its start's
LOOP_AFTER = 2  # reloads in a row for the same files, each made while the app started: then a loop

# What an app reads as code or templates: never taken for the app's own writes.
SOURCE_SUFFIXES = frozenset({
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".tsx", ".jsx", ".go", ".java", ".kt",
    ".kts", ".scala", ".groovy", ".rs", ".rb", ".cs", ".fs", ".vb", ".php", ".ex", ".exs", ".erl", ".clj",
    ".swift", ".c", ".h", ".cc", ".cpp", ".hpp", ".lua", ".pl", ".sh", ".html", ".htm", ".css", ".scss",
    ".sass", ".less", ".vue", ".svelte", ".proto", ".tpl", ".tmpl", ".jinja", ".j2", ".hbs", ".ejs",
})


def is_source(path: Path) -> bool:
    return path.suffix.lower() in SOURCE_SUFFIXES or path.name.startswith(".env")


def while_starting(began: float, ready_at: float | None, detected: float) -> bool:
    """Whether a change first seen at `detected` came while the app reloaded at `began` was
    still starting: not ready since (`ready_at` is the app's latest ready time, any process's)
    or ready less than `START_SLACK` before it.  All times from `time.monotonic()`."""
    if detected < began:
        return False
    return ready_at is None or ready_at < began or detected <= ready_at + START_SLACK


@dataclass(frozen=True)
class ReloadStart:
    """A reload of one service: when it began, the files that asked for it, and for how many
    reloads in a row those same files had changed while the app was starting after the
    reload before (0: not while it started)."""
    began: float
    trigger: frozenset[Path]
    streak: int


class SelfWrites:
    """Per service: the last reload, and the files found to be the app's own writes."""

    def __init__(self) -> None:
        self.last: dict[str, ReloadStart] = {}
        self.ignored: dict[str, set[Path]] = {}

    def unignored(self, name: str, files: Iterable[Path]) -> list[Path]:
        """`files` without those the app of `name` was found to write itself."""
        own = self.ignored.get(name, set())
        return [path for path in files if path not in own]

    def decide(self, name: str, files: Iterable[Path], *, detected: float, ready_at: float | None,
               now: float) -> frozenset[Path]:
        """Before reloading `name` for `files` (first seen at `detected`): the files that are
        the app's own writes — from now on ignored for it, and no reload — or an empty set,
        and the reload beginning `now` is remembered."""
        trigger = frozenset(files)
        previous = self.last.get(name)
        streak = 0
        if previous is not None and while_starting(previous.began, ready_at, detected):
            streak = previous.streak + 1 if trigger == previous.trigger else 1
        if streak > LOOP_AFTER and not any(is_source(path) for path in trigger):
            self.ignored.setdefault(name, set()).update(trigger)
            del self.last[name]
            return trigger
        self.last[name] = ReloadStart(now, trigger, streak)
        return frozenset()
