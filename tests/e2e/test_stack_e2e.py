"""The sample workspace, end to end, on the real runtime: once with native infra, once with
Docker.  Requests flow through the sidecars; state lands in Redis; the event reaches the
Node subscriber; the actor answers; the cron binding runs its job; killed units come back;
`down` leaves nothing."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from aura_dev.engine.runstate import same_process
from conftest import require, run_aura
from support.sockets import listeners, non_loopback
from support.stack import SAMPLE, all_ports, copy_workspace, http, state, unit_pids, use_backend, wait_for

pytestmark = pytest.mark.e2e


def status(root: Path) -> dict[str, Any]:
    done = run_aura("dev", "status", "--json", "-w", str(root))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def identities(snapshot: dict[str, Any]) -> list[tuple[int, float]]:
    return [(u["pid"], u["create_time"]) for u in snapshot["units"].values() if isinstance(u.get("pid"), int)]


def assert_nothing_left(root: Path, snapshot: dict[str, Any], docker_client: Any = None) -> None:
    survivors = [pid for pid, created in identities(snapshot) if same_process(pid, created)]
    assert survivors == [], f"processes still alive after down: {survivors}"
    assert listeners(all_ports(snapshot)) == [], "ports still listening after down"
    if docker_client is not None:
        left = docker_client.containers.list(all=True, filters={"label": f"dev.aura.workspace={snapshot['key']}"})
        assert left == [], f"containers left: {[c.name for c in left]}"
    assert state(root) is None


def wait_ready_again(root: Path, label: str, old_pid: int) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        snap = status(root)
        unit = snap["units"][label]
        return snap if unit.get("pid") not in (None, old_pid) and unit["state"] == "ready" else None
    return wait_for(check, timeout=60, interval=0.2, what=f"{label} to come back")


def chat(gateway: str, user: str, text: str) -> dict[str, Any]:
    code, body = http("POST", f"{gateway}/chat", {"user": user, "text": text}, timeout=30)
    assert code == 200, body
    return body


def run_sample_scenario(root: Path, backend: str, docker_client: Any = None) -> None:
    import redis

    up = run_aura("dev", "up", "--detach", "-w", str(root), timeout=240)
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        snap = status(root)
        assert snap["running"] and snap["backend"] == backend
        assert all(s["ready"] for s in snap["services"].values()), snap["services"]
        # Zipkin starts once the stack is up, and nothing waits for it.
        assert {u["state"] for label, u in snap["units"].items() if label != "zipkin"} == {"ready"}
        gateway = snap["services"]["assistant-gateway"]["url"]

        # Invocation (gateway -> conversation), state, pub/sub and the actor, through the sidecars.
        first = chat(gateway, "alice", "hello")
        second = chat(gateway, "alice", "again")
        assert first["conversation"]["count"] == 1 and second["conversation"]["count"] == 2
        assert second["session"] == {"user": "alice", "count": 2, "last": "again"}

        redis_port = snap["units"]["redis"]["ports"]["main"]
        store = redis.Redis(host="127.0.0.1", port=redis_port)
        raw = store.hget("conversation||conversation-alice", "data")
        assert raw is not None and b"hello" in raw and b"again" in raw
        assert store.exists("sessions||SessionActor||alice||session")

        notifications = snap["services"]["notifications"]["url"]
        events = wait_for(lambda: (lambda r: r[1] if r[1] and r[1]["count"] >= 2 else None)(
            http("GET", f"{notifications}/notifications")), timeout=20, what="events at the subscriber")
        assert [e["text"] for e in events["events"]] == ["hello", "again"]

        # Dapr tooling sees the apps: the metadata `dapr run` registers.
        dapr_http = snap["services"]["conversation"]["daprHttpPort"]
        code, metadata = http("GET", f"http://127.0.0.1:{dapr_http}/v1.0/metadata")
        assert code == 200 and metadata["id"] == "conversation"
        extended = metadata["extended"]
        assert extended["appPID"] == str(snap["units"]["conversation"]["pid"])
        assert extended["cliPID"] == str(snap["supervisor"]["pid"])
        assert extended["runTemplatePath"] == str(root / "aura.yaml")
        assert "uvicorn" in extended["appCommand"]

        # Every listener of the stack is on loopback (Dapr 1.18.2 ignores
        # --healthz-listen-address for placement/scheduler: see README, native only).
        exposed = non_loopback(listeners(all_ports(snap)))
        allowed = {snap["units"][n]["ports"]["healthz"] for n in ("placement", "scheduler")} if backend == "native" else set()
        assert {port for _ip, port, _pid in exposed} <= allowed, exposed

        # Bindings: the cron input binding runs conversation's periodic job (every 5 s), which
        # counts its runs in the state store.
        job = wait_for(lambda: store.hget("conversation||housekeeping", "data"), timeout=30,
                       what="the cron binding to run conversation's job")
        assert json.loads(job)["runs"] >= 1

        # kill -9 an app: it comes back (its sidecar untouched), and serves again.
        pids = unit_pids(snap)
        os.kill(pids["conversation"], signal.SIGKILL)
        snap = wait_ready_again(root, "conversation", pids["conversation"])
        assert snap["units"]["conversation·dapr"]["pid"] == pids["conversation·dapr"]
        assert snap["units"]["conversation"]["restarts"] == 1
        assert chat(gateway, "alice", "after app crash")["conversation"]["count"] == 3

        # kill -9 a sidecar: it comes back, the app keeps its pid.
        pids = unit_pids(snap)
        os.kill(pids["conversation·dapr"], signal.SIGKILL)
        snap = wait_ready_again(root, "conversation·dapr", pids["conversation·dapr"])
        assert snap["units"]["conversation"]["pid"] == pids["conversation"]
        wait_for(lambda: http("POST", f"{gateway}/chat", {"user": "alice", "text": "after sidecar crash"})[0] == 200,
                 timeout=30, what="the gateway to reach conversation again")
    finally:
        final = status(root)
        down = run_aura("dev", "down", "-w", str(root), timeout=120)
    assert down.returncode == 0, down.stderr
    if final.get("running"):
        assert_nothing_left(root, final, docker_client)


def test_sample_workspace_with_native_infra(tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    root = copy_workspace(SAMPLE, tmp_path / "ws")
    use_backend(root, "native")
    require((SAMPLE / "services/notifications/node_modules").is_dir(), "npm ci was not run for the sample")
    run_sample_scenario(root, "native")


def test_sample_workspace_with_docker_infra(tmp_path: Path, runtime: Any, docker_client: Any,
                                            docker_images: dict[str, str]) -> None:
    root = copy_workspace(SAMPLE, tmp_path / "ws")
    use_backend(root, "docker", docker_images)
    run_sample_scenario(root, "docker", docker_client)
