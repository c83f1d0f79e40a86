"""Nothing lost: the sample's state, actor state, jobs and actor reminders are there after
`down` and `up`, and after a supervisor killed -9 and `up` again — with both backends —
until `down --wipe` deletes them (after a confirmation)."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from aura_dev.engine.runstate import same_process
from conftest import aura_bin, require, run_aura
from support.stack import SAMPLE, copy_workspace, http, tiny_workspace, use_backend, wait_for

pytestmark = pytest.mark.e2e


def status(root: Path) -> dict[str, Any]:
    done = run_aura("dev", "status", "--json", "-w", str(root))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def up(root: Path) -> dict[str, Any]:
    done = run_aura("dev", "up", "--detach", "-w", str(root), timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    return status(root)


# A user of this test alone: sidecars resolve app ids by mDNS, machine-wide, so another
# sample stack on this machine (its README example chats as alice) can reach our services.
USER = f"alice-{os.getpid()}"


def chat(snap: dict[str, Any], text: str) -> dict[str, Any]:
    """What the gateway's /chat does, without its invocation by app id (which another
    stack's `conversation` could answer): the conversation app stores through its own
    sidecar; the actor is reached through this stack's placement."""
    conversation = snap["services"]["conversation"]["url"]
    code, body = http("POST", f"{conversation}/messages", {"user": USER, "text": text}, timeout=30)
    assert code == 200, body
    code, session = http("POST", f"{sidecar(snap, 'assistant-gateway')}/v1.0/actors/SessionActor/{USER}/method/Touch",
                         {"text": text}, timeout=30)
    assert code == 200, session
    return {"conversation": body, "session": session}


def sidecar(snap: dict[str, Any], service: str) -> str:
    return f"http://127.0.0.1:{snap['services'][service]['daprHttpPort']}"


def job_and_reminder(snap: dict[str, Any]) -> tuple[int, int]:
    """The status of reading back the job and the actor reminder made by `schedule`."""
    job = http("GET", f"{sidecar(snap, 'conversation')}/v1.0-alpha1/jobs/nightly-digest")[0]
    reminder = http("GET", f"{sidecar(snap, 'sessions')}/v1.0/actors/SessionActor/{USER}/reminders/nudge")[0]
    return job, reminder


def schedule(snap: dict[str, Any]) -> None:
    code, body = http("POST", f"{sidecar(snap, 'conversation')}/v1.0-alpha1/jobs/nightly-digest",
                      {"schedule": "@every 1h", "data": "digest"})
    assert code == 204, body
    code, body = http("POST", f"{sidecar(snap, 'sessions')}/v1.0/actors/SessionActor/{USER}/reminders/nudge",
                      {"dueTime": "1h", "period": "1h", "data": "nudge"})
    assert code == 204, body


@pytest.mark.parametrize("backend", ["native", "docker"])
def test_state_jobs_and_reminders_are_kept_until_wiped(tmp_path: Path, runtime: Any, backend: str,
                                                       request: pytest.FixtureRequest) -> None:
    require((SAMPLE / "services/notifications/node_modules").is_dir(), "npm ci was not run for the sample")
    root = copy_workspace(SAMPLE, tmp_path / "ws")
    if backend == "docker":
        use_backend(root, "docker", request.getfixturevalue("docker_images"))
    else:
        request.getfixturevalue("redis_server_bin")
        use_backend(root, "native")
    try:
        snap = up(root)
        assert [chat(snap, t)["conversation"]["count"] for t in ("hello", "again")] == [1, 2]
        schedule(snap)

        down = run_aura("dev", "down", "-w", str(root))
        assert down.returncode == 0, down.stderr
        snap = up(root)
        answer = chat(snap, "after down and up")
        assert answer["conversation"]["count"] == 3 and answer["session"]["count"] == 3
        assert job_and_reminder(snap) == (200, 200)

        # A supervisor killed -9, then `up` again: cleaned up, started, nothing lost.
        supervisor = snap["supervisor"]
        os.kill(supervisor["pid"], signal.SIGKILL)
        wait_for(lambda: not same_process(supervisor["pid"], supervisor["create_time"]), timeout=10)
        snap = up(root)
        assert chat(snap, "after a killed supervisor")["conversation"]["count"] == 4
        assert job_and_reminder(snap) == (200, 200)

        # Without a terminal and without --yes, --wipe refuses and changes nothing.
        refused = run_aura("dev", "down", "--wipe", "-w", str(root), input="y\n")
        assert refused.returncode == 2 and "pass --yes" in refused.stderr
        assert status(root)["running"] is True

        wiped = run_aura("dev", "down", "--wipe", "--yes", "-w", str(root), timeout=120)
        assert wiped.returncode == 0, wiped.stderr
        assert "deleted Redis data" in wiped.stdout and "deleted scheduler data" in wiped.stdout
        assert not (root / ".aura" / "redis").exists() and not (root / ".aura" / "scheduler").exists()
        snap = up(root)
        assert chat(snap, "a fresh start")["conversation"]["count"] == 1
        assert 200 not in job_and_reminder(snap)
    finally:
        run_aura("dev", "down", "-w", str(root), timeout=120)


def answer_in_a_terminal(argv: list[str], answer: str, timeout: float = 60.0) -> tuple[int, str]:
    """Run `argv` with a terminal as its stdin/stdout and type `answer` at its question."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, close_fds=True,
                            env=dict(os.environ, NO_COLOR="1"))
    os.close(follower)
    output = b""
    deadline = time.monotonic() + timeout
    answered = False
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            import select

            ready, _, _ = select.select([leader], [], [], 0.1)
            if ready:
                output += os.read(leader, 4096)
        except OSError:
            break
        if not answered and b"[y/N]" in output:
            os.write(leader, answer.encode() + b"\n")
            answered = True
    proc.wait(timeout=10)
    try:
        while True:
            data = os.read(leader, 4096)
            if not data:
                break
            output += data
    except OSError:
        pass
    os.close(leader)
    return proc.returncode, output.decode(errors="replace")


def test_wipe_asks_first_in_a_terminal(tmp_path: Path) -> None:
    root = tiny_workspace(tmp_path / "ws", {"a": []})
    redis = root / ".aura" / "redis" / "appendonlydir"
    redis.mkdir(parents=True)
    (redis / "appendonly.aof.1.incr.aof").write_text("*1\r\n$4\r\nPING\r\n")
    code, text = answer_in_a_terminal([aura_bin(), "dev", "down", "--wipe", "-w", str(root)], "n")
    assert code == 1 and "Redis data: redis" in text and "nothing was stopped or deleted" in text, text
    assert redis.is_dir()
    code, text = answer_in_a_terminal([aura_bin(), "dev", "down", "--wipe", "-w", str(root)], "y")
    assert code == 0 and "deleted Redis data" in text, text
    assert not (root / ".aura" / "redis").exists()
