"""A unit runner and the requests that reach it at awkward moments, on real processes.

The case that hung a CI run: a restart asked for while the process is still being spawned
(a port conflict of the partner unit, a save during start).  At that moment there is no
process to stop yet; the runner must stop the one that appears and start again, not wait
for it for ever in "starting".
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aura_dev.engine.events import EventHub
from aura_dev.logs.record import Source, UnitRef
from aura_dev.logs.store import LogStore
from aura_dev.units.process import ProcessUnit
from aura_dev.engine.runner import UnitRunner
from aura_dev.engine.unit_state import RestartPolicy, UnitState
from aura_dev.workspace.model import RestartSettings

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]


class GatedUnit(ProcessUnit):
    """A real process whose spawn waits for the test to let it go."""

    def __init__(self, gate: asyncio.Event, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.gate = gate

    async def start(self) -> None:
        await self.gate.wait()
        await super().start()


def new_hub(tmp_path: Path) -> EventHub:
    return EventHub(LogStore(tmp_path / "logs", max_file_size=1 << 20, max_total_size=1 << 24))


def stored_text(hub: EventHub, tmp_path: Path) -> str:
    """Everything the runner wrote to the log store (its notices included)."""
    hub.store.close()
    return "\n".join(p.read_text() for p in (tmp_path / "logs").rglob("*.log"))


def make_runner(tmp_path: Path, units: list[ProcessUnit], gates: list[asyncio.Event],
                ready: list[bool]) -> UnitRunner:
    hub = new_hub(tmp_path)
    ref = UnitRef("svc", Source.APP)

    def make_unit() -> ProcessUnit:
        gate = asyncio.Event()
        gates.append(gate)
        unit = GatedUnit(gate, ref, SLEEPER, env={}, cwd=tmp_path, sink=hub.chunk)
        units.append(unit)
        return unit

    async def probe() -> bool:
        return ready[0]

    return UnitRunner(ref, make_unit=make_unit, probe=probe,
                      policy=RestartPolicy(RestartSettings.model_validate({})), hub=hub,
                      ready_timeout=30.0, stop_grace=2.0, poll_interval=0.01)


async def until(condition: object, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_restart_requested_while_the_process_is_spawned_starts_a_fresh_one(tmp_path: Path) -> None:
    async def scenario() -> None:
        units: list[ProcessUnit] = []
        gates: list[asyncio.Event] = []
        ready = [False]
        runner = make_runner(tmp_path, units, gates, ready)
        runner.launch()
        await until(lambda: gates and runner.state is UnitState.STARTING)
        await runner.restart("a partner changed ports")  # nothing is running yet: nothing to stop
        gates[0].set()  # now the first process appears
        await until(lambda: len(gates) == 2)  # the runner stopped it and made a new unit
        assert units[0].returncode is not None, "the process spawned during the request was left running"
        gates[1].set()
        ready[0] = True
        await asyncio.wait_for(runner.ready.wait(), 10)
        assert runner.state is UnitState.READY and units[1].running
        await asyncio.wait_for(runner.shutdown(), 10)
        assert units[1].returncode is not None

    asyncio.run(scenario())


def test_shutdown_requested_while_the_process_is_spawned_leaves_nothing(tmp_path: Path) -> None:
    async def scenario() -> None:
        units: list[ProcessUnit] = []
        gates: list[asyncio.Event] = []
        runner = make_runner(tmp_path, units, gates, [False])
        runner.launch()
        await until(lambda: gates and runner.state is UnitState.STARTING)
        stopping = asyncio.ensure_future(runner.shutdown())
        await asyncio.sleep(0.05)
        gates[0].set()
        await asyncio.wait_for(stopping, 10)
        assert len(units) == 1 and units[0].returncode is not None
        assert runner.state is UnitState.STOPPED

    asyncio.run(scenario())


def test_a_restart_that_lands_during_shutdown_starts_nothing(tmp_path: Path) -> None:
    """A control request accepted just before a `down` (its restart still in flight) must
    not bring the unit back under the stop, nor keep the stop waiting for ever."""
    async def scenario() -> None:
        units: list[ProcessUnit] = []
        gates: list[asyncio.Event] = []
        ready = [True]
        runner = make_runner(tmp_path, units, gates, ready)
        runner.launch()
        await until(lambda: bool(gates))
        gates[0].set()
        await asyncio.wait_for(runner.ready.wait(), 10)
        stopping = asyncio.ensure_future(runner.shutdown())
        await asyncio.sleep(0)  # the shutdown has asked; now the late requests arrive
        await runner.restart("a restart from another terminal")
        runner.start()
        await runner.stop()
        await asyncio.wait_for(stopping, 10)
        assert len(units) == 1 and units[0].returncode is not None
        assert runner.state is UnitState.STOPPED and runner.task is not None and runner.task.done()

    asyncio.run(scenario())


class BrokenStart(ProcessUnit):
    """A real process, then a fault in aura's own start-up code."""

    async def start(self) -> None:
        await super().start()
        raise RuntimeError("a bug after the spawn")


def test_a_fault_in_starting_a_unit_is_a_failed_start_not_a_dead_runner(tmp_path: Path) -> None:
    async def scenario() -> None:
        hub = new_hub(tmp_path)
        ref = UnitRef("svc", Source.APP)
        units: list[ProcessUnit] = []

        def make_unit() -> ProcessUnit:
            units.append(BrokenStart(ref, SLEEPER, env={}, cwd=tmp_path, sink=hub.chunk))
            return units[-1]

        async def probe() -> bool:
            return False

        settings = RestartSettings.model_validate({"maxRestarts": 1, "backoff": {"initial": "10ms", "max": "20ms"}})
        runner = UnitRunner(ref, make_unit=make_unit, probe=probe, policy=RestartPolicy(settings), hub=hub,
                            ready_timeout=30.0, stop_grace=2.0)
        runner.launch()
        await until(lambda: runner.state is UnitState.FAILED)
        assert runner.task is not None and not runner.task.done()  # still there for a restart request
        assert len(units) == 2 and all(unit.returncode is not None for unit in units)  # nothing left running
        await asyncio.wait_for(runner.shutdown(), 10)
        stored = stored_text(hub, tmp_path)
        assert "FAILED: cannot start (an error in aura): RuntimeError: a bug after the spawn" in stored

    asyncio.run(scenario())


def test_processes_that_exit_at_once_start_cleanly(tmp_path: Path) -> None:
    """A child can exit, and asyncio close its pipes, before the spawn returns; enlarging
    those pipes then failed (7% of starts of /bin/true here), which killed the runner."""
    async def scenario() -> None:
        for _ in range(200):
            unit = ProcessUnit(UnitRef("quick", Source.APP), ["/bin/true"], env={}, cwd=tmp_path,
                               sink=lambda chunk: None)
            await unit.start()
            assert await unit.wait() == 0

    asyncio.run(scenario())


def test_a_fault_in_supervising_a_unit_marks_it_failed_and_stops_its_process(tmp_path: Path) -> None:
    async def scenario() -> None:
        hub = new_hub(tmp_path)
        ref = UnitRef("svc", Source.APP)
        units: list[ProcessUnit] = []
        states: list[str] = []
        hub.state_listeners.append(lambda change: states.append(change.state))

        def make_unit() -> ProcessUnit:
            units.append(ProcessUnit(ref, SLEEPER, env={}, cwd=tmp_path, sink=hub.chunk))
            return units[-1]

        async def probe() -> bool:
            raise KeyError("a bug in a probe")

        runner = UnitRunner(ref, make_unit=make_unit, probe=probe,
                            policy=RestartPolicy(RestartSettings.model_validate({})), hub=hub, ready_timeout=30.0)
        runner.launch()
        await until(lambda: runner.finished.is_set())
        assert states[-1] == "failed" and "KeyError" in runner.detail
        assert units[0].returncode is not None  # its process did not outlive its supervision
        await asyncio.wait_for(runner.shutdown(), 10)
        stored = stored_text(hub, tmp_path)
        assert "supervision failed (an error in aura; please report it)" in stored and "a bug in a probe" in stored

    asyncio.run(scenario())
