"""What a process and its children listen on (TCP), read with psutil."""

from __future__ import annotations

from dataclasses import dataclass

import psutil


@dataclass(frozen=True, order=True)
class Listener:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def reachable_on_loopback(self) -> bool:
        """Whether 127.0.0.1:port reaches it (aura probes and daprd call apps there)."""
        return self.host in ("127.0.0.1", "0.0.0.0", "::", "::ffff:127.0.0.1") or self.host.startswith("127.")


def listening(pid: int) -> list[Listener]:
    """The TCP sockets the process `pid` and its descendants listen on, sorted; empty when
    the process is gone or cannot be read."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []
    found: set[Listener] = set()
    for process in tree:
        try:
            sockets = process.net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        found.update(Listener(s.laddr.ip, s.laddr.port) for s in sockets
                     if s.status == psutil.CONN_LISTEN and s.laddr)
    return sorted(found)
