"""`aura dev up` and `aura dev down` without typer: the fast path (`cli/fast.py`) and the
typer commands both run these, after their own checks of the options.

Starting is on the clock (`up` should spawn its first process within ~100 ms of being
run): this module imports nothing heavy at the top, and the stack's engine only when it
is needed.  Printing through rich waits until the processes are spawned.
"""

from __future__ import annotations

from pathlib import Path
BACKENDS = ("auto", "docker", "native")


def valid_backend(backend: str | None) -> bool:
    return backend is None or backend in BACKENDS


def valid_timeout(seconds: float | None) -> bool:
    return seconds is None or seconds > 0  # also refuses NaN


def process_created() -> float:
    """When this process was created (wall clock): the origin of the start's timeline.

    From its age in clock ticks (/proc), not psutil's create time: that adds the ticks to
    the boot time, which the kernel gives in whole seconds — an error of up to a second."""
    import os
    import time

    try:
        with open("/proc/self/stat", "rb") as stat, open("/proc/uptime", "rb") as uptime:
            started_ticks = int(stat.read().rsplit(b")", 1)[1].split()[19])
            age = float(uptime.read().split()[0]) - started_ticks / os.sysconf("SC_CLK_TCK")
        return time.time() - max(0.0, age)
    except (OSError, ValueError, IndexError):
        import psutil

        return float(psutil.Process().create_time())


def valid_flags(*, detach: bool, verbose: bool, quiet_sidecars: bool, tui: bool) -> bool:
    """Flags that go together (the typer command says why the others do not)."""
    return not (verbose and quiet_sidecars) and not (tui and (detach or verbose))


def start_stack(services: list[str], workspace: Path | None, *, detach: bool, reload: bool, backend: str | None,
                verbose: bool, tui: bool, ready_timeout: float | None, timings: bool) -> int:
    """Load and check the workspace, start the stack; the exit code."""
    invoked_at = process_created()
    from aura_dev.engine.up_options import UpOptions

    options = UpOptions(selected=list(services), backend=backend, reload=reload, ready_timeout=ready_timeout,
                        invoked_at=invoked_at)
    if detach:  # the supervisor is forked first: its head start begins at once
        from aura_dev.cli import detached_start

        return detached_start.start(list(services), workspace, options, timings=timings)
    from aura_dev.units import head_start
    from aura_dev.workspace.locate import discover

    file = discover(explicit=workspace)
    if not tui:
        head_start.launch_for(file, options.selected, options.backend, options.reload)
    try:
        from aura_dev.cli import stack_view
        from aura_dev.workspace.disk import require_writable
        from aura_dev.workspace.load import load_workspace

        ws = load_workspace(file, reuse_validation=True)
        ws.selection(list(services))  # an unknown service is refused before anything is written (or probed)
        require_writable(ws.state_dir, "aura keeps the stack's run state and logs there")
        if tui:
            return stack_view.run_tui(ws, options)
        return stack_view.run_foreground(ws, options, verbose=verbose, timings=timings)
    finally:
        head_start.release_unclaimed()  # refused, or stopped before every early process was adopted


def stop_stack(workspace: Path | None, everything: bool = False) -> None:
    """Stop the running stack and say so.  The stack's name comes from its snapshot (the
    workspace file is read only when there is none): `down` is on the clock too, so this
    imports only what a stop needs (`engine.stack_down`), and what `infra.keep` kept only
    when it kept something.  `everything`: infra kept running by `infra.keep` too (`down --all`)."""
    import sys
    import time

    from aura_dev.cli.console import colour_disabled
    from aura_dev.engine import run_files
    from aura_dev.engine.stack_down import bring_down_at
    from aura_dev.workspace.discover import STATE_DIR, discover

    file = discover(explicit=workspace).absolute()
    state_dir = file.parent / STATE_DIR
    state = run_files.raw_state(state_dir)
    name = state.get("name") if state is not None else None
    if not isinstance(name, str):
        from aura_dev.workspace.locate import locate

        name = locate(file).name
    seconds, cleaned = bring_down_at(state_dir)
    ended: list[str] = []
    left = "nothing left running"
    if everything or run_files.kept_path(state_dir).exists():
        from aura_dev.engine import kept_record

        if everything:
            began = time.monotonic()
            ended = kept_record.stop_kept(state_dir)
            seconds += time.monotonic() - began
        left = kept_record.left_running_now(state_dir)
    colour = sys.stdout.isatty() and not colour_disabled()
    yellow, green, plain = ("\033[33m", "\033[32m", "\033[0m") if colour else ("", "", "")
    if cleaned:
        print(f"{yellow}cleaned up leftovers of a supervisor that did not stop:{plain} {', '.join(cleaned)}")
    if ended:
        print(f"stopped the kept infra: {', '.join(ended)}")
    print(f"{green}✓{plain} {name} stopped in {seconds:.2f} s; {left}", flush=True)
