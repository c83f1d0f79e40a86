"""Chaos in CI: seeded kill -9 of apps, sidecars, Redis, placement, the scheduler and the
supervisor itself, on a stack that keeps taking writes through Dapr.  After each kill the
stack answers again within a bound; at the end every acknowledged write is in Redis, and
`down` leaves no process, container or port.  Bounded to about three minutes for both
backends; `AURA_CHAOS_SEED` replays a run (the seed is printed), `benchmarks/chaos.py`
plays 100 rounds and prints the recovery times."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import require
from support.chaos import KINDS, RECOVERY_BOUND, Chaos, Writer, aura, chaos_workspace

pytestmark = pytest.mark.e2e

SEED = int(os.environ.get("AURA_CHAOS_SEED", "16"))
BUDGET_SECONDS = 75.0  # per backend, after one full pass over every kind


@pytest.mark.parametrize("backend", ["native", "docker"])
def test_chaos(tmp_path: Path, runtime: Any, backend: str, request: pytest.FixtureRequest) -> None:
    images = docker_client = None
    if backend == "docker":
        images = request.getfixturevalue("docker_images")
        docker_client = request.getfixturevalue("docker_client")
    else:
        require(bool(request.getfixturevalue("redis_server_bin")), "redis-server")
    root = chaos_workspace(tmp_path / "ws", backend, images)
    chaos = Chaos(root, SEED, docker_client)
    probes: dict[str, str] = {}
    print(f"chaos seed {SEED} ({backend})")
    writer = Writer(chaos)
    try:
        chaos.up()
        writer.start()
        began = time.monotonic()
        for number, kind in enumerate(chaos.schedule(len(KINDS) * 10)):
            if number >= len(KINDS) and time.monotonic() - began > BUDGET_SECONDS:
                break
            played = chaos.play(kind, probes)
            print(f"round {number + 1}: kill -9 {played.victim}: {'back' if played.healed else 'NOT back'} "
                  f"in {played.seconds:.2f} s")
            assert played.healed, f"{played.victim} was not back within {RECOVERY_BOUND:g} s (seed {SEED})"
        writer.stop()
        assert {r.kind for r in chaos.rounds} == set(KINDS)
        acknowledged = {**writer.acknowledged, **probes}
        assert len(acknowledged) >= 50, f"only {len(acknowledged)} writes acknowledged in {writer.attempts} tries"
        assert chaos.lost(acknowledged) == [], f"acknowledged writes lost (seed {SEED})"
    finally:
        writer.stop()
        down = aura(root, "dev", "down")
        print(down.stdout, down.stderr)
    assert down.returncode == 0
    assert chaos.leftovers() == []
