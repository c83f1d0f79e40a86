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


BUSY_STATES = (psutil.STATUS_RUNNING, psutil.STATUS_DISK_SLEEP)


def busy(pid: int, window: float = 0.3, samples: int = 4) -> bool:
    """Whether the process `pid` or a descendant is still working (running, runnable or in
    a disk wait, or using CPU) over `window` seconds — an app still importing its
    dependencies on a loaded machine, as opposed to a worker idling without a port.
    Blocks for `window`: call it from a thread."""
    import time

    def tree() -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return []

    def cpu(processes: list[psutil.Process]) -> float:
        total = 0.0
        for process in processes:
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return total

    processes = tree()
    before = cpu(processes)
    for _ in range(samples):
        for process in tree():  # children can appear meanwhile
            try:
                if process.status() in BUSY_STATES:
                    return True
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        time.sleep(window / samples)
    # Two clock ticks of CPU in the window: it ran, even if never caught running.
    return cpu(processes) - before >= 0.02
