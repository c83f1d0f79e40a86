"""The head start of `aura dev up`: the units the last successful start launched at once
(infra, sidecars, apps that depend on nothing) are spawned again from a record of that
start, milliseconds after `up` began — before aura has imported its engine or read the
workspace, which takes a few hundred milliseconds of CPU.

Nothing here decides what runs: when the engine, having planned the run the normal way,
starts a unit, it *claims* the early process only if that process is exactly what it would
spawn now — same argv, environment, folder, and the same content in the files aura
rendered for it — and adopts it (`units.adopted`).  An early process that does not match is
killed before its unit is spawned (its ports are needed); one never claimed is killed once
the start has settled.  So a stale record costs a wasted spawn, never a wrong run.

The record (`.aura/run/launch.json`) is used only when the workspace file, the services
asked for and the options are those it was written for, and every port it names is free.
Standard library only: this runs before anything else is imported.
"""

from __future__ import annotations

import collections
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aura_dev.loopback import can_bind

RECORD = "launch.json"
STATE_DIR = ".aura"  # as `workspace.locate` (not imported: this module comes before everything)
FORMAT = 1
F_SETPIPE_SZ = 1031
PIPE_BYTES = 1 << 20


class EarlyProcess:
    __slots__ = ("label", "argv", "env", "cwd", "files", "popen", "spawned_at")

    def __init__(self, label: str, argv: list[str], env: dict[str, str], cwd: str, files: dict[str, str],
                 popen: subprocess.Popen[bytes], spawned_at: float) -> None:
        self.label = label
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.files = files  # rendered file -> its digest when this process was spawned
        self.popen = popen
        self.spawned_at = spawned_at  # wall clock


_waiting: list[EarlyProcess] = []  # spawned, not yet claimed
_claimed: dict[str, float] = {}  # label -> when its adopted process was spawned (wall clock)
_first_spawn_cpu: list[float] = []
_early_ports: set[int] = set()  # every port the record gave to a process spawned early
# Spawns at once: each waits for its child to exec (vfork), which on a machine busy with the
# units already spawned waits for a CPU (~14 ms each, 23 units on 2 cores, one at a time).
SPAWNERS = 4
_PARKED = threading.Event()  # never set
# Released once per spawner when it has spawned its share; `_spawned` takes them all back
# (once) before anything reads what was spawned.
_finished = threading.Semaphore(0)
_spawners = 0


def record_key(workspace_file: Path, selected: Sequence[str], backend: str | None, reload: bool) -> str:
    """What the record must have been written for."""
    from aura_dev import __version__

    digest = hashlib.sha256()
    for part in (__version__, str(workspace_file.absolute()), "\0".join(selected), str(backend), str(reload),
                 os.environ.get("AURA_ZIPKIN", "")):
        digest.update(part.encode() + b"\0")
    try:
        digest.update(workspace_file.read_bytes())
    except OSError:
        return ""
    return digest.hexdigest()


def record_path(state_dir: Path) -> Path:
    return state_dir / "run" / RECORD


def digest_files(paths: Iterable[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in paths:
        try:
            found[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            found[path] = ""
    return found


def launch(state_dir: Path, key: str) -> None:
    """Begin spawning what the record says, where it still applies, and return at once: the
    caller imports its engine meanwhile (the spawners mostly wait for their children's exec,
    without the GIL), and everything that reads what was spawned waits for the spawners."""
    global _spawners
    try:
        record = json.loads(record_path(state_dir).read_bytes())
    except (OSError, ValueError):
        return
    if not key or not isinstance(record, dict) or record.get("format") != FORMAT or record.get("key") != key:
        return
    pending = collections.deque(record.get("units", []))  # in the record's order: infra first

    def spawn_then_park() -> None:
        while pending:
            try:
                _spawn(pending.popleft())
            except IndexError:  # another spawner took the last one
                break
            except (OSError, KeyError, TypeError, ValueError):
                continue  # this unit starts the normal way
        _finished.release()
        # A unit's parent-death signal (setpriv --pdeathsig) follows the *thread* that
        # spawned it: this one must live as long as the process does.
        _PARKED.wait()

    _spawners = min(SPAWNERS, len(pending))
    for _ in range(_spawners):
        threading.Thread(target=spawn_then_park, name="head-start", daemon=True).start()


def spawned() -> int:
    """Once the head start has spawned all it will: how many of its processes wait to be
    claimed."""
    global _spawners
    while _spawners:
        _finished.acquire()
        _spawners -= 1
    return len(_waiting)


def launch_for(workspace_file: Path, selected: Sequence[str], backend: str | None, reload: bool) -> None:
    """`launch` for this workspace and these options (its state folder sits beside the file)."""
    launch(workspace_file.parent / STATE_DIR, record_key(workspace_file, selected, backend, reload))


def _spawn(unit: Mapping[str, Any]) -> None:
    if not all(can_bind(int(port)) for port in unit["ports"]):
        return
    files = digest_files(unit["files"])
    if files != unit["files"]:  # a file aura renders for it changed since: not the same unit
        return
    env = dict(os.environ)
    env.update(unit["env"])
    for name in unit["unset"]:
        env.pop(name, None)
    argv = [str(a) for a in unit["argv"]]
    popen = subprocess.Popen(argv, cwd=unit["cwd"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
    spawned_at = time.time()
    if not _first_spawn_cpu:
        _first_spawn_cpu.append(time.process_time())
    for stream in (popen.stdout, popen.stderr):
        try:
            fcntl.fcntl(stream.fileno(), F_SETPIPE_SZ, PIPE_BYTES)  # type: ignore[union-attr]
        except (OSError, ValueError, AttributeError):
            pass
    _early_ports.update(int(port) for port in unit["ports"])
    _waiting.append(EarlyProcess(str(unit["label"]), argv, env, str(unit["cwd"]), files, popen, spawned_at))


# Flags that change how a process works, not what it is: an early process that differs
# from the wanted one only in these is adopted.  The scheduler's etcd snapshot count is
# asked for only until etcd's first snapshot exists (`plan.infra.scheduler_snapshot_args`):
# without this, the start after a workspace's first would replace its early scheduler.
ADOPTION_NEUTRAL_FLAGS = frozenset({"--etcd-snapshot-count"})
# An early process that is not what this start wants is asked to stop (a scheduler that
# already leads must revoke its lease, or the next one waits ~20 s for it to expire),
# and killed after this long.
END_GRACE_SECONDS = 3.0


def comparable_argv(argv: Sequence[str]) -> list[str]:
    """`argv` without the flags (and their values) in `ADOPTION_NEUTRAL_FLAGS`."""
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg in ADOPTION_NEUTRAL_FLAGS:
            next(args, None)
        else:
            out.append(arg)
    return out


def claim(label: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> subprocess.Popen[bytes] | None:
    """The early process of `label`, if it is exactly what would be spawned now; an early
    process of that label that is not is ended first (it holds the unit's ports)."""
    spawned()
    for early in _waiting:
        if early.label == label:
            break
    else:
        return None
    _waiting.remove(early)
    if (comparable_argv(early.argv) == comparable_argv(argv) and early.env == dict(env) and early.cwd == str(cwd)
            and digest_files(early.files) == early.files):
        _claimed[label] = early.spawned_at
        return early.popen
    _end(early.popen)
    return None


def spawned_at(label: str) -> float | None:
    """When the process `label` adopted was spawned (before the engine saw it)."""
    return _claimed.get(label)


def first_spawn_cpu() -> float | None:
    """CPU seconds this process had used at its first early spawn, if one was claimed."""
    spawned()
    return _first_spawn_cpu[0] if _first_spawn_cpu and _claimed else None


def early_ports() -> frozenset[int]:
    """The ports the record gave to processes spawned early: the engine must not count
    them as taken by someone else."""
    spawned()
    return frozenset(_early_ports)


def release_unclaimed() -> None:
    """End every early process no unit claimed (the start settled without it, or failed):
    all asked at once, so that a refused start never waits out one grace after another."""
    spawned()
    popens = [early.popen for early in _waiting]
    _waiting.clear()
    _end(*popens)


def _end(*popens: subprocess.Popen[bytes]) -> None:
    """SIGTERM to each one's group; once each has exited or the grace is over, SIGKILL to
    what is left of the groups (nothing of an early process outlives this)."""
    for sig, grace in ((signal.SIGTERM, END_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        for popen in popens:
            try:
                os.killpg(popen.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + grace
        for popen in popens:
            try:
                popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
    for popen in popens:
        for stream in (popen.stdout, popen.stderr):
            if stream is not None:
                stream.close()


def write_record(state_dir: Path, key: str, units: Sequence[Mapping[str, Any]]) -> None:
    """Remember what this start launched at once (`units`: label, argv, env, cwd, ports,
    files), for the next start's head start.  The environment is kept as its difference
    from this process's own (no copy of the user's whole environment on disk)."""
    entries = []
    for unit in units:
        env: Mapping[str, str] = unit["env"]
        entries.append({
            "label": unit["label"], "argv": list(unit["argv"]), "cwd": str(unit["cwd"]),
            "env": {k: v for k, v in env.items() if os.environ.get(k) != v},
            "unset": sorted(k for k in os.environ if k not in env),
            "ports": sorted(set(unit["ports"])), "files": digest_files(unit["files"]),
        })
    path = record_path(state_dir)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # 0600: it holds the apps' own environment variables.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(json.dumps({"format": FORMAT, "key": key, "units": entries}))
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)  # no record: the next start is only slower
