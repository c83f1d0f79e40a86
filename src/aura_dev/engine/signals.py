"""Signals of the supervisor.  Handlers only record what arrived; the event loop acts on it
(as uvicorn does): the first SIGINT/SIGTERM/SIGHUP asks for a clean stop, a second Ctrl-C
from a person forces, and SIGUSR1 writes where every task waits (a supervisor that seems
stuck can say why)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from aura_dev.engine.events import EventHub
from aura_dev.logs.record import Level

SECOND_PRESS_SECONDS = 0.5  # `timeout` and friends deliver one SIGINT twice within microseconds
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PARENT_POLL_SECONDS = 0.5


def hangup_ignored() -> bool:
    """Started under `nohup` (SIGHUP ignored): the user asked for the stack to outlive its
    terminal, so neither a hangup nor the end of the parent stops it."""
    return signal.getsignal(signal.SIGHUP) is signal.SIG_IGN


def install(hub: EventHub, stopping: asyncio.Event, request_stop: Callable[[], None],
            force: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    first_signal_at: list[float] = []

    def on_signal(sig: signal.Signals) -> None:
        now = time.monotonic()
        if stopping.is_set():
            # Only a second press by a person forces, not a duplicate delivery.
            if sig == signal.SIGINT and first_signal_at and now - first_signal_at[0] > SECOND_PRESS_SECONDS:
                hub.notice(None, "second Ctrl-C: killing everything now", Level.WARN)
                force()
                os._exit(130)
            return
        first_signal_at.append(now)
        hub.notice(None, f"{sig.name}: stopping (Ctrl-C again to force)")
        request_stop()

    for sig in STOP_SIGNALS:
        if sig == signal.SIGHUP and hangup_ignored():
            continue
        loop.add_signal_handler(sig, on_signal, sig)
    loop.add_signal_handler(signal.SIGUSR1, dump_tasks)


async def stop_when_orphaned(parent: int, hub: EventHub, request_stop: Callable[[], None]) -> None:
    """A foreground stack ends with whatever started it (a shell, an IDE, a script killed
    -9) even when no hangup reaches us — output to a file, a parent that was not our
    terminal: once we are handed to another parent, stop cleanly."""
    while os.getppid() == parent:
        await asyncio.sleep(PARENT_POLL_SECONDS)
    hub.notice(None, f"the process that started aura (pid {parent}) is gone: stopping", Level.WARN)
    request_stop()


def dump_tasks() -> None:
    """`kill -USR1 <supervisor pid>`: where every task of a stuck supervisor is waiting,
    on its stderr (for a detached one, .aura/run/supervisor.log)."""
    tasks = asyncio.all_tasks()
    print(f"--- {len(tasks)} tasks at {time.strftime('%H:%M:%S')} ---", file=sys.stderr)
    for task in tasks:
        print(f"{task.get_name()}:", file=sys.stderr)
        # Task.print_stack shows only a suspended task's outermost frame: follow the chain
        # of awaits down to what it waits on.
        awaited: Any = task.get_coro()
        while awaited is not None:
            frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
            if frame is None:
                print(f"    waits on {awaited!r:.200}", file=sys.stderr)
                break
            print(f"    {frame.f_code.co_qualname} ({frame.f_code.co_filename}:{frame.f_lineno})", file=sys.stderr)
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    sys.stderr.flush()
