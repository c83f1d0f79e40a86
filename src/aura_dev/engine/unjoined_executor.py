"""The supervisor's default executor (`asyncio.to_thread`), which does not hold its exit.

At the end of a run asyncio waits for every thread of the default executor
(`shutdown_default_executor`).  Right after `up` some of them are still importing what the
dashboard and the metrics scraper serve with (starlette, httpx: hundreds of milliseconds
on a loaded machine), so a `down` soon after an `up` waited for those imports before the
supervisor could exit (seen: 40–500 ms between its last cleanup and its exit).  Nothing
such a thread does matters once the stack is down and its run files are cleaned up: the
supervisor does not wait for it.  (A detached supervisor then ends with `os._exit`; a
foreground one's interpreter still joins the threads at exit, as before.)
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


class UnjoinedExecutor(ThreadPoolExecutor):
    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=True)
