"""Loopback ports: who holds one, whether one is free, and allocation that survives a busy laptop.

`auto` ports come from below the kernel's ephemeral range: ports handed out by bind(0)
lie inside it, and so do the source ports of every outgoing connection, so a port chosen
there can be taken by some sidecar's own connection before the sidecar binds it.  Each
workspace starts its search in its own block (derived from its path), which keeps its
ports stable from one `up` to the next and apart from other workspaces.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from aura_dev.loopback import LOOPBACK as LOOPBACK, can_bind as can_bind  # where callers found them

AUTO_PORT_FLOOR = 20000
BLOCK_SIZE = 200
DEFAULT_EPHEMERAL = (32768, 60999)


def ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
            low, high = (int(x) for x in handle.read().split())
            return low, high
    except (OSError, ValueError):
        return DEFAULT_EPHEMERAL


def auto_port_range() -> tuple[int, int]:
    """[low, high) for auto ports: below the ephemeral range, above the well-known ones."""
    eph_low, eph_high = ephemeral_range()
    if eph_low - AUTO_PORT_FLOOR >= 2 * BLOCK_SIZE:
        return AUTO_PORT_FLOOR, eph_low
    if 65535 - eph_high >= 2 * BLOCK_SIZE:  # an unusual range: use what lies above it
        return eph_high + 1, 65536
    return 10000, eph_low if eph_low > 10000 + 2 * BLOCK_SIZE else 65536


@dataclass(frozen=True)
class PortHolder:
    pid: int | None
    name: str
    cmdline: str
    address: str

    def describe(self) -> str:
        if self.pid is None:
            return f"another process (listening on {self.address}; run as root to see which)"
        cmd = f" ({self.cmdline[:120]})" if self.cmdline else ""
        return f"{self.name} pid {self.pid}{cmd} listening on {self.address}"


def port_holder(port: int) -> PortHolder | None:
    """Who listens on `port`, if anyone (psutil)."""
    import psutil  # here: `can_bind` is used before anything heavy is imported (the head start)

    try:
        connections = psutil.net_connections(kind="inet")
    except (psutil.AccessDenied, OSError):
        return None
    for conn in connections:
        if conn.status != psutil.CONN_LISTEN or not conn.laddr or conn.laddr.port != port:
            continue
        address = f"{conn.laddr.ip}:{conn.laddr.port}"
        if conn.pid is None:
            return PortHolder(None, "?", "", address)
        try:
            proc = psutil.Process(conn.pid)
            return PortHolder(conn.pid, proc.name(), " ".join(proc.cmdline()), address)
        except psutil.Error:
            return PortHolder(conn.pid, "?", "", address)
    return None


class PortAllocator:
    """Hands out free loopback ports, never the same one twice in one run."""

    def __init__(self, seed: str, reserved: Iterable[int] = (), port_range: tuple[int, int] | None = None) -> None:
        self.low, self.high = port_range or auto_port_range()
        span = self.high - self.low
        blocks = max(1, span // BLOCK_SIZE)
        block = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big") % blocks
        self._next = self.low + block * BLOCK_SIZE
        self._taken: set[int] = set(reserved)

    def reserve(self, port: int) -> None:
        self._taken.add(port)

    def is_reserved(self, port: int) -> bool:
        """Handed out (or reserved) already in this run."""
        return port in self._taken

    def allocate(self) -> int:
        span = self.high - self.low
        for _ in range(span):
            port = self._next
            self._next = self.low + (self._next + 1 - self.low) % span
            if port in self._taken:
                continue
            if can_bind(port):
                self._taken.add(port)
                return port
            self._taken.add(port)
        raise OSError(f"no free port in {self.low}-{self.high - 1}")
