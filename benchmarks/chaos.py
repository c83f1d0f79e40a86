"""Chaos, at length: N rounds (default 100) of a seeded kill -9 of an app, a sidecar,
Redis, placement, the scheduler or the supervisor, on a stack that keeps taking writes
through Dapr (the harness of tests/e2e/test_chaos.py: `tests/support/chaos.py`).

Prints, per kind of unit, how long the stack took to be back (the victim ready again and a
write through Dapr acknowledged; for the supervisor, `aura dev up -d` included), as
p50/p95/max over its rounds, how many rounds healed within the bound, and how many
acknowledged writes were not in Redis at the end.

    python benchmarks/chaos.py [--rounds 100] [--seed 16] [--backend native|docker]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, machine, median, percentile, precompile, save, table

sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))
from support.chaos import KINDS, RECOVERY_BOUND, Chaos, Writer, aura, chaos_workspace  # noqa: E402


def docker_setup() -> tuple[object, dict[str, str]]:
    from aura_dev.infra.docker import docker_client
    from aura_dev.runtime import require_runtime
    from aura_dev.versions import DEFAULT_RUNTIME_VERSION
    from support.images import build_dapr_image, build_redis_image

    client = docker_client()
    runtime = require_runtime(DEFAULT_RUNTIME_VERSION)
    return client, {"redis": build_redis_image(client), "dapr": build_dapr_image(client, runtime.bin_dir,
                                                                                  runtime.version)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--backend", choices=("native", "docker"), default="native")
    args = parser.parse_args()
    precompile()
    client, images = docker_setup() if args.backend == "docker" else (None, None)
    with tempfile.TemporaryDirectory(prefix="aura-chaos-") as folder:
        root = chaos_workspace(Path(folder) / "ws", args.backend, images)
        chaos = Chaos(root, args.seed, client)
        writer = Writer(chaos)
        probes: dict[str, str] = {}
        began = time.monotonic()
        try:
            chaos.up()
            writer.start()
            for number, kind in enumerate(chaos.schedule(args.rounds)):
                played = chaos.play(kind, probes)
                print(f"round {number + 1}/{args.rounds}: kill -9 {played.victim}: "
                      f"{'back' if played.healed else 'NOT BACK'} in {played.seconds:.2f} s", flush=True)
            writer.stop()
            acknowledged = {**writer.acknowledged, **probes}
            lost = chaos.lost(acknowledged)
        finally:
            writer.stop()
            down = aura(root, "dev", "down")
        left = chaos.leftovers()
    rows = []
    for kind in KINDS:
        times = [r.seconds for r in chaos.rounds if r.kind == kind]
        healed = sum(1 for r in chaos.rounds if r.kind == kind and r.healed)
        if times:
            rows.append([kind, f"{healed}/{len(times)}", median(times), percentile(times, 0.95), max(times)])
    healed_all = sum(1 for r in chaos.rounds if r.healed)
    text = "\n".join([
        f"# chaos: {args.rounds} rounds, seed {args.seed}, {args.backend} infra ({machine()})",
        "",
        table(["killed (-9)", "healed", "p50 s", "p95 s", "max s"], rows),
        "",
        f"{healed_all}/{len(chaos.rounds)} rounds healed within {RECOVERY_BOUND:g} s; "
        f"{len(acknowledged)} writes acknowledged ({writer.attempts} tried), {len(lost)} lost; "
        f"`down` {'left nothing' if not left and down.returncode == 0 else 'LEFT ' + ', '.join(left)}; "
        f"{time.monotonic() - began:.0f} s in all",
    ])
    print(text)
    print(f"saved to {save(f'chaos-{args.backend}', text)}")
    return 0 if healed_all == len(chaos.rounds) and not lost and not left else 1


if __name__ == "__main__":
    sys.exit(main())
