"""Who listens where: the assertions behind "every listener on 127.0.0.1" and "nothing left"."""

from __future__ import annotations

from collections.abc import Iterable

import psutil


def listeners(ports: Iterable[int]) -> list[tuple[str, int, int | None]]:
    """(ip, port, pid) of every TCP listener on one of `ports`."""
    wanted = set(ports)
    found = []
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port in wanted:
            found.append((conn.laddr.ip, conn.laddr.port, conn.pid))
    return found


def listeners_of(pids: Iterable[int]) -> list[tuple[str, int, int | None]]:
    wanted = set(pids)
    return [(c.laddr.ip, c.laddr.port, c.pid) for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.pid in wanted and c.laddr]


def non_loopback(found: Iterable[tuple[str, int, int | None]]) -> list[tuple[str, int, int | None]]:
    return [entry for entry in found if entry[0] not in ("127.0.0.1", "::1")]


def alive(pids: Iterable[int]) -> list[int]:
    return [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
