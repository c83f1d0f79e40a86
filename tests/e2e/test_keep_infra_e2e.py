"""`infra.keep: true` on the real runtime through the real `aura`: Redis, placement and the
scheduler outlive `down` (apps and sidecars do not), the next `up` reuses the very same
processes (an in-memory Redis still holds what was written), their new output still
reaches `aura dev logs`, and `down --all` leaves nothing; a changed setting or a kept unit
killed between runs gets a fresh one, one that dies under a run is started again as a kept
unit; the leftovers reaper spares kept infra; `down --wipe` stops it before wiping."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
from pathlib import Path
from typing import Any

import pytest

from aura_dev.engine.runstate import same_process
from aura_dev.net import can_bind
from conftest import run_aura
from support.stack import all_ports, edit_workspace, http, tiny_workspace, wait_for

pytestmark = pytest.mark.e2e

INFRA = ("redis", "placement", "scheduler")
QUIET = {"AURA_ZIPKIN": "off"}  # no JVM beside the stack on a shared machine: not what is tested here


def aura(*args: str, timeout: float = 240) -> Any:
    return run_aura(*args, env=QUIET, timeout=timeout)


def status(root: Path) -> dict[str, Any]:
    done = aura("dev", "status", "--json", "-w", str(root))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def up(root: Path) -> dict[str, Any]:
    done = aura("dev", "up", "--detach", "-w", str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    snap = status(root)
    assert snap["running"], snap
    return snap


def down(root: Path, *flags: str) -> str:
    done = aura("dev", "down", *flags, "-w", str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def processes(snap: dict[str, Any], labels: tuple[str, ...] | list[str]) -> dict[str, tuple[int, float]]:
    return {label: (snap["units"][label]["pid"], snap["units"][label]["create_time"]) for label in labels}


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def redis_command(port: int, *words: str) -> bytes:
    request = f"*{len(words)}\r\n" + "".join(f"${len(w.encode())}\r\n{w}\r\n" for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request.encode())
        return sock.recv(65536)


def logs(root: Path, *args: str) -> str:
    done = aura("dev", "logs", "-w", str(root), "--raw", *args)
    return done.stdout


def workspace(tmp_path: Path, service: str) -> Path:
    # Redis in memory only (persist: false): what survives a `down` survived in the same process.
    return tiny_workspace(tmp_path / "ws", {service: []},
                          infra="{backend: native, keep: true, redis: {persist: false}}")


def test_kept_infra_survives_down_is_reused_and_down_all_stops_it(tmp_path: Path, runtime: Any,
                                                                  redis_server_bin: str) -> None:
    service = f"keep{os.getpid()}"
    root = workspace(tmp_path, service)
    try:
        first = up(root)
        infra = processes(first, INFRA)
        services = processes(first, [service, f"{service}·dapr"])
        service_ports = {p for label in services for p in (first["units"][label]["ports"] or {}).values() if p}
        infra_ports = all_ports(first) - service_ports
        sidecar = f"http://127.0.0.1:{first['services'][service]['daprHttpPort']}"
        code, body = http("POST", f"{sidecar}/v1.0/state/statestore", [{"key": "kept", "value": "still here"}])
        assert code == 204, body

        said = down(root)
        assert "kept running (infra.keep)" in said and "aura dev down --all" in said, said
        for label, (pid, created) in infra.items():
            assert same_process(pid, created), f"kept {label} did not survive down"
            # Its own session, and its output in files (a pipe to a supervisor that has gone
            # would kill a Go program with SIGPIPE at its next write).
            assert os.getsid(pid) == pid
            assert os.readlink(f"/proc/{pid}/fd/1") == str(root / ".aura" / "run" / "kept" / f"{label}.out.log")
            assert os.readlink(f"/proc/{pid}/fd/2") == str(root / ".aura" / "run" / "kept" / f"{label}.err.log")
        assert all(answers(port) for port in infra_ports)
        assert not any(same_process(pid, created) for pid, created in services.values())
        assert all(can_bind(port) for port in service_ports)
        idle = status(root)
        assert idle["running"] is False
        assert {k["unit"]: (k["state"], k["pid"]) for k in idle["kept"]} == \
            {label: ("kept", pid) for label, (pid, _c) in infra.items()}

        second = up(root)
        assert processes(second, INFRA) == infra  # the very same processes, adopted
        assert all(second["units"][label]["state"] == "ready" for label in INFRA)
        sidecar = f"http://127.0.0.1:{second['services'][service]['daprHttpPort']}"
        assert http("GET", f"{sidecar}/v1.0/state/statestore/kept") == (200, "still here")
        # Output of an adopted unit, written during this run, reaches the log stream.
        assert redis_command(second["units"]["redis"]["ports"]["main"], "SAVE").startswith(b"+OK")
        wait_for(lambda: "DB saved on disk" in logs(root, "--source", "infra", "--grep", "DB saved"),
                 timeout=15, what="Redis's line in `aura dev logs`")
        assert "reusing the kept redis" in logs(root, "--grep", "reusing the kept")
        # Adopted as it runs: the scheduler's leadership lease is its own, live one (revoking
        # it as a dead scheduler's would make it start its server again, seconds of waiting).
        assert logs(root, "--source", "infra", "--grep", "Dapr Scheduler is starting").count("is starting") == 1

        said = down(root, "--all")
        assert "nothing left running" in said, said
        for label, (pid, created) in infra.items():
            assert not same_process(pid, created), f"{label} outlived down --all"
        assert [port for port in all_ports(second) if not can_bind(port)] == []
        assert "kept" not in status(root)
        assert not (root / ".aura" / "run" / "kept.json").exists()
    finally:
        down(root, "--all")


def test_changed_or_killed_kept_units_are_replaced_and_the_reaper_spares_them(tmp_path: Path, runtime: Any,
                                                                             redis_server_bin: str) -> None:
    service = f"keepb{os.getpid()}"
    root = workspace(tmp_path, service)
    try:
        first = up(root)
        infra = processes(first, INFRA)
        down(root)

        # A changed setting (Redis's port): that unit is replaced, the others are reused.
        new_port = next(p for p in range(first["units"]["redis"]["ports"]["main"] + 200, 65000) if can_bind(p))
        edit_workspace(root, lambda data: data["infra"]["redis"].update(port=new_port))
        second = up(root)
        now = processes(second, INFRA)
        assert now["placement"] == infra["placement"] and now["scheduler"] == infra["scheduler"]
        assert now["redis"] != infra["redis"] and second["units"]["redis"]["ports"]["main"] == new_port
        assert not same_process(*infra["redis"])
        assert "infra.redis.port changed): stopping it and starting a new one" in logs(root, "--grep", "the kept redis")

        # A kept unit killed between runs: started fresh, and said why.
        down(root)
        os.kill(now["placement"][0], signal.SIGKILL)
        wait_for(lambda: not same_process(*now["placement"]), timeout=10)
        third = up(root)
        after = processes(third, INFRA)
        assert after["placement"] != now["placement"] and third["units"]["placement"]["state"] == "ready"
        assert after["redis"] == now["redis"] and after["scheduler"] == now["scheduler"]
        assert "is no longer running: starting a new one" in logs(root, "--grep", "the kept placement")

        # A supervisor killed -9: `down` cleans up its apps and sidecars, never the kept infra.
        supervisor = third["supervisor"]
        os.kill(supervisor["pid"], signal.SIGKILL)
        wait_for(lambda: not same_process(supervisor["pid"], supervisor["create_time"]), timeout=10)
        down(root)
        assert all(same_process(*process) for process in after.values())
        assert not any(same_process(*p) for p in processes(third, [service, f"{service}·dapr"]).values())
        fourth = up(root)
        assert processes(fourth, INFRA) == after

        # An adopted unit that dies is started again (its exit status cannot be read: not
        # our child), as a kept unit: it outlives the next `down` too.
        os.kill(after["redis"][0], signal.SIGKILL)
        restarted = wait_for(lambda: (lambda u: u if u["state"] == "ready" and u["pid"] != after["redis"][0]
                                      else None)(status(root)["units"]["redis"]), timeout=30, what="redis again")
        assert re.search(r"redis +\| ▶ exited; restarting", logs(root, "--grep", "exited; restarting"))
        down(root)
        assert same_process(restarted["pid"], restarted["create_time"])
        kept = {**after, "redis": (restarted["pid"], restarted["create_time"])}

        # keep turned off: the kept units are replaced by ordinary ones, which `down` stops.
        edit_workspace(root, lambda data: data["infra"].update(keep=False))
        fifth = up(root)
        assert not any(same_process(*process) for process in kept.values())
        assert logs(root, "--grep", "infra.keep is off").count("stopping it and starting a new one") == 3
        said = down(root)
        assert "nothing left running" in said, said
        assert not any(same_process(*p) for p in processes(fifth, INFRA).values())
        assert [port for port in all_ports(fifth) if not can_bind(port)] == []

        # --wipe stops kept infra before it deletes the data that infra writes.
        edit_workspace(root, lambda data: data["infra"].update(keep=True))
        sixth = up(root)
        down(root)
        wiped = down(root, "--wipe", "--yes")
        assert "deleted scheduler data" in wiped and "deleted kept infra's output" in wiped, wiped
        assert not any(same_process(*process) for process in processes(sixth, INFRA).values())
        assert [port for port in all_ports(sixth) if not can_bind(port)] == []
        assert not (root / ".aura" / "scheduler").exists() and "kept" not in status(root)
    finally:
        down(root, "--all")
