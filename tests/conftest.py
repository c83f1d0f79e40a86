"""Shared fixtures.  Integration and end-to-end tests use the real runtime, Redis and
Docker engine; under CI=true a missing prerequisite fails the test instead of skipping it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Stacks under test run without Zipkin (a JVM starting after each `up`, its pid appearing
# late): tests/e2e/test_traces_e2e.py turns it on for the stacks that read traces.
os.environ.setdefault("AURA_ZIPKIN", "off")


def require(condition: bool, reason: str) -> None:
    """Skip locally when a prerequisite is missing; fail under CI, where nothing may skip."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"prerequisite missing under CI: {reason}")
    pytest.skip(reason)


def aura_bin() -> str:
    found = shutil.which("aura") or str(Path(sys.executable).parent / "aura")
    return found


def run_aura(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120,
             input: str | None = None) -> subprocess.CompletedProcess[str]:
    merged = dict(os.environ)
    merged.setdefault("NO_COLOR", "1")
    merged.update(env or {})
    try:
        return subprocess.run([aura_bin(), *args], cwd=cwd, env=merged, capture_output=True, text=True,
                              timeout=timeout, input=input)
    except subprocess.TimeoutExpired as exc:
        root = Path(args[args.index("-w") + 1]) if "-w" in args else cwd
        raise AssertionError(f"`aura {' '.join(args)}` did not finish in {timeout:g} s\n"
                             + (what_the_stack_was_doing(root, merged) if root else "")) from exc


def what_the_stack_was_doing(root: Path, env: dict[str, str]) -> str:
    """What a hung command leaves to look at (CI keeps nothing else): each unit's state,
    the supervisor's own log and the last lines of the log store.  Then the stack is
    stopped, so one hang does not leave processes for the next tests."""
    import json

    parts: list[str] = []
    run_dir = root / ".aura" / "run"
    try:
        snap = json.loads((run_dir / "state.json").read_text())
        parts.append(f"settled: {snap.get('settled')}")
        parts += [f"  {name}: {u.get('state')} {u.get('detail') or ''} (restarts {u.get('restarts')})"
                  for name, u in snap.get("units", {}).items()]
        pid = (snap.get("supervisor") or {}).get("pid")
        if isinstance(pid, int):
            import signal
            import time

            os.kill(pid, signal.SIGUSR1)  # it writes where each of its tasks waits to supervisor.log
            time.sleep(1.0)
    except (OSError, ValueError) as exc:
        parts.append(f"no state file: {exc}")
    try:
        parts += ["supervisor.log:", *(run_dir / "supervisor.log").read_text(errors="replace").splitlines()[-150:]]
    except OSError:
        pass
    for argv, limit in ((["dev", "logs", "-n", "80"], 60.0), (["dev", "down"], 60.0)):
        try:
            done = subprocess.run([aura_bin(), *argv, "-w", str(root)], env=env, capture_output=True, text=True,
                                  timeout=limit)
            parts += [f"aura {' '.join(argv)} → {done.returncode}:", done.stdout[-8000:], done.stderr[-2000:]]
        except subprocess.TimeoutExpired:
            parts.append(f"aura {' '.join(argv)} did not finish either")
    return "\n".join(parts)


@pytest.fixture(scope="session")
def runtime() -> Any:
    from aura_dev.runtime import find_installed
    from aura_dev.versions import DEFAULT_RUNTIME_VERSION

    found = find_installed(DEFAULT_RUNTIME_VERSION)
    require(found is not None, f"the Dapr runtime {DEFAULT_RUNTIME_VERSION} is not installed (aura dev init)")
    return found


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    from aura_dev.errors import InfraError
    from aura_dev.infra.docker import docker_client as make_client

    try:
        client = make_client(timeout=10)
    except InfraError as exc:
        require(False, f"no Docker engine: {exc.message}")
        raise
    yield client
    client.close()


@pytest.fixture(scope="session")
def docker_images(docker_client: Any, runtime: Any) -> dict[str, str]:
    """Locally built images for the docker backend (no registry is reachable)."""
    from support.images import build_dapr_image, build_redis_image

    require(shutil.which("redis-server") is not None, "redis-server is needed to build the Redis image")
    return {
        "redis": build_redis_image(docker_client),
        "dapr": build_dapr_image(docker_client, runtime.bin_dir, runtime.version),
    }


@pytest.fixture
def redis_server_bin() -> str:
    found = shutil.which("redis-server")
    require(found is not None, "redis-server is not installed")
    assert found is not None
    return found


@pytest.fixture(autouse=True)
def no_stack_outlives_its_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """A safety net: a test that fails between `up` and its own `down` (an `up` that exits 1
    with part of the stack running, an assertion before its `try`) would leave a supervisor
    running into the next tests — stacks that share app ids then reach each other through
    mDNS.  After each test, any stack still running under its temporary folder is stopped."""
    yield
    base = getattr(request.node, "funcargs", {}).get("tmp_path")
    if not isinstance(base, Path):
        return
    from aura_dev.engine.runstate import supervisor_running

    for state_dir in [*base.glob(".aura"), *base.glob("*/.aura"), *base.glob("*/*/.aura")]:
        if supervisor_running(state_dir):
            subprocess.run([aura_bin(), "dev", "down", "-w", str(state_dir.parent)], capture_output=True,
                           timeout=120, env=dict(os.environ, NO_COLOR="1"))
