"""Debouncing restarts per service: a storm of saves (an editor's write-and-rename, a
formatter, `git checkout`) gives one restart, and a service already restarting gets one
more restart afterwards, not one per file."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

RestartService = Callable[[str, list[Path], float], Awaitable[None]]


class Coalescer:
    """Per service: wait until changes have been quiet for its debounce window (a storm of
    saves gives one restart, not one per save), then restart; changes that arrive while it
    restarts give one more restart afterwards, never several."""

    MAX_DELAY = 2.0  # a never-ending storm still restarts every so often
    BURST_WINDOW = 1.0  # seconds over which change batches are counted
    BURST_BATCHES = 3  # this many batches in the window: a storm (a checkout, a formatter, a script)
    BURST_QUIET = 0.3  # the quiet window during a storm

    def __init__(self, restart: RestartService, quiet: Callable[[str], float] = lambda name: 0.02) -> None:
        self.restart = restart
        self.quiet = quiet
        self.pending: dict[str, list[Path]] = {}
        self.detected_at: dict[str, float] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.running: dict[str, asyncio.Task[None]] = {}
        self.recent: dict[str, list[float]] = {}

    def request(self, name: str, files: list[Path], detected_at: float) -> None:
        self.pending.setdefault(name, []).extend(files)
        first = self.detected_at.setdefault(name, detected_at)
        timer = self.timers.pop(name, None)
        if timer is not None:
            timer.cancel()
        # A single save restarts after the short window; a storm of saves (whose gaps on a
        # busy machine exceed it) is recognised and waited out with a longer one.
        recent = self.recent.setdefault(name, [])
        recent.append(detected_at)
        del recent[: -self.BURST_BATCHES * 4]
        burst = sum(1 for t in recent if detected_at - t <= self.BURST_WINDOW) >= self.BURST_BATCHES
        quiet = max(self.quiet(name), self.BURST_QUIET) if burst else self.quiet(name)
        delay = max(0.0, min(quiet, first + self.MAX_DELAY - time.monotonic()))
        self.timers[name] = asyncio.get_running_loop().call_later(delay, self._fire, name)

    def _fire(self, name: str) -> None:
        self.timers.pop(name, None)
        if name not in self.running:
            self.running[name] = asyncio.ensure_future(self._drain(name))

    async def _drain(self, name: str) -> None:
        try:
            while name in self.pending and name not in self.timers:
                files = self.pending.pop(name)
                detected = self.detected_at.pop(name)
                await self.restart(name, files, detected)
        finally:
            self.running.pop(name, None)
            if name in self.pending and name not in self.timers:
                self._fire(name)  # changes that came in during the restart

    async def idle(self) -> None:
        while self.running or self.timers:
            await asyncio.sleep(0.01)
