"""Infra requests for tests that drive the backends directly."""

from __future__ import annotations

from pathlib import Path

from aura_dev.net import PortAllocator
from aura_dev.plan.infra import InfraKind, InfraPorts, InfraRequest


def requests_for(state_dir: Path, key: str, images: dict[str, str] | None) -> list[InfraRequest]:
    """Redis (with a password), placement and scheduler on ports of their own."""
    alloc = PortAllocator(seed=key)

    def ports(extra: tuple[str, ...]) -> InfraPorts:
        main = alloc.allocate()
        named = {name: alloc.allocate() for name in extra}
        return InfraPorts(main, named.pop("healthz", None), named.pop("metrics", None), named)
    images = images or {}
    return [
        InfraRequest(InfraKind.REDIS, ports(()), key, "test", state_dir, "1.18.2", image=images.get("redis"),
                     password="s3cret-pass"),
        InfraRequest(InfraKind.PLACEMENT, ports(("healthz", "metrics", "raft")), key, "test", state_dir, "1.18.2",
                     image=images.get("dapr")),
        InfraRequest(InfraKind.SCHEDULER, ports(("healthz", "metrics", "etcd_client", "etcd_peer")), key, "test",
                     state_dir, "1.18.2", image=images.get("dapr")),
    ]
