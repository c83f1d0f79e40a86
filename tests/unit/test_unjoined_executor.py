"""The supervisor's default executor: the end of its run does not wait for a thread still
busy (an import of the dashboard right after `up`), so a `down` is not held by it."""

from __future__ import annotations

import asyncio
import threading

from aura_dev.engine.unjoined_executor import UnjoinedExecutor


def test_the_run_ends_while_a_thread_of_its_executor_is_still_busy() -> None:
    release = threading.Event()
    started = threading.Event()

    def busy() -> None:
        started.set()
        release.wait(30)

    async def main() -> None:
        asyncio.get_running_loop().set_default_executor(UnjoinedExecutor())
        asyncio.get_running_loop().run_in_executor(None, busy)
        await asyncio.to_thread(started.wait, 30)

    runner = threading.Thread(target=asyncio.run, args=(main(),))
    runner.start()
    runner.join(10)
    try:
        assert not runner.is_alive(), "asyncio.run waited for the busy thread"
    finally:
        release.set()
        runner.join(30)
