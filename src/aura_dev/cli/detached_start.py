"""`aura dev up --detach`: the supervisor is forked first, before anything heavy is imported.

The forked supervisor starts the stack's head start (`units.head_start`: the units the last
start launched at once, spawned from its record) within milliseconds, then loads and checks
the workspace and runs the stack, while this process only waits and shows progress.  Its
processes are its own children from the first spawn, which is what lets the engine adopt
them (a unit spawned by this process could not be waited for by a sibling).

The two talk over a pipe: the supervisor sends a refusal (an `AuraError` or `OSError`,
pickled, shown here exactly as if this process had raised it), notes to print, and "settled"
once the start has settled.  End of file before that means it died: its log says why.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aura_dev.cli.detached_wait import HEADER, wait

if TYPE_CHECKING:
    from aura_dev.engine.orchestrator import Orchestrator, UpOptions

EXTRAS_QUIET_SECONDS = 1.0  # after the summary, before the dashboard, metrics and schema file start


class Channel:
    """The supervisor's end of the pipe: whole pickled messages, never blocking for long."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, kind: str, payload: Any = None) -> None:
        if self.fd < 0:
            return
        body = pickle.dumps((kind, payload))
        try:
            os.write(self.fd, HEADER.pack(len(body)) + body)
        except OSError:  # the waiting side is gone (Ctrl-C): the stack runs on regardless
            self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def start(services: list[str], workspace: Path | None, options: UpOptions, *, timings: bool) -> int:
    """Fork the supervisor, wait until its start has settled; the exit code."""
    sys.stdout.flush()
    sys.stderr.flush()
    options.cpu_before = time.process_time()  # the child's own CPU clock starts at zero
    readable, writable = os.pipe()
    waiting = os.getpid()
    child = os.fork()
    if child == 0:
        os.close(readable)
        _supervisor(Channel(writable), services, workspace, options, waiting)  # never returns
    os.close(writable)
    return wait(child, readable, workspace, timings=timings, invoked_at=options.invoked_at)


# ---------------------------------------------------------------------- the supervisor side


def _supervisor(channel: Channel, services: list[str], workspace: Path | None, options: UpOptions,
                waiting: int) -> None:
    code = 1
    try:
        os.setsid()
        code = _supervise(channel, services, workspace, options, waiting)
    except BaseException as exc:  # everything, even SystemExit: the waiting side must hear of it
        _refuse(channel, exc)
    finally:
        from aura_dev.units import head_start

        head_start.release_unclaimed()
        channel.close()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _refuse(channel: Channel, exc: BaseException) -> None:
    from aura_dev.errors import AuraError

    if isinstance(exc, (AuraError, OSError)):
        try:
            channel.send("error", exc)
            return
        except (pickle.PicklingError, TypeError, AttributeError):
            pass
    import traceback

    text = "".join(traceback.format_exception(exc))
    print(text, file=sys.stderr, flush=True)  # the supervisor's log, once it has one
    channel.send("crash", text.splitlines()[-25:])


def _supervise(channel: Channel, services: list[str], workspace: Path | None, options: UpOptions,
               waiting: int) -> int:
    from aura_dev.units import head_start
    from aura_dev.workspace.locate import discover

    file = discover(explicit=workspace)
    head_start.launch_for(file, options.selected, options.backend, options.reload)
    from aura_dev.cli.stack_view import supervisor_hooks
    from aura_dev.engine import session
    from aura_dev.engine.events import EventHub
    from aura_dev.workspace.disk import require_writable
    from aura_dev.workspace.load import load_workspace

    ws = load_workspace(file, reuse_validation=True)  # the spec last validated, when the file is unchanged
    ws.selection(list(services))  # an unknown service is refused before anything is written (or probed)
    require_writable(ws.state_dir, "aura keeps the stack's run state and logs there")
    prepared = session.prepare(ws, options)
    ws.keep_validation()
    if prepared.backend_reason:
        channel.send("note", f"infra backend auto → {prepared.backend}: {prepared.backend_reason}")
    session.detach_output(ws)

    def settled(_orch: Orchestrator) -> None:
        channel.send("settled")
        channel.close()

    async def after_the_summary() -> None:
        """The waiting command prints the summary and exits within milliseconds; the extras
        served beside the stack (dashboard, metrics, the schema file: ~0.4 s of CPU, most of
        it in this process, under the GIL of the loop that answers `down`) start a quiet
        second after that.  A `down` in that second finds the supervisor idle (it took
        0.4–0.8 s instead of 0.25 s on 10 services when the extras ran) and they never
        start; the dashboard's socket listens all along, so an early browser just waits."""
        await _exited(waiting, 1.0)
        import asyncio

        await asyncio.sleep(EXTRAS_QUIET_SECONDS)

        from aura_dev.workspace.resolved import ensure_schema_file

        # What the file's `$schema` line names: ~0.15 s of pydantic, in a thread so that the
        # loop keeps answering (a `down` right after `up`, health checks).
        await asyncio.to_thread(ensure_schema_file, ws.state_dir)

    store = session.log_store(ws)
    try:
        return session.supervise(ws, options, prepared, EventHub(store), on_started=settled,
                                 hooks=supervisor_hooks(), before_serving=after_the_summary)
    finally:
        store.close()


async def _exited(pid: int, timeout: float) -> None:
    """Until process `pid` has exited (a pidfd turns readable), `timeout` at most."""
    import asyncio

    try:
        fd = os.pidfd_open(pid)
    except OSError:  # gone already
        return
    loop = asyncio.get_running_loop()
    gone: asyncio.Future[None] = loop.create_future()
    loop.add_reader(fd, lambda: None if gone.done() else gone.set_result(None))
    try:
        await asyncio.wait_for(gone, timeout)
    except asyncio.TimeoutError:
        pass
    finally:
        loop.remove_reader(fd)
        os.close(fd)
