"""Loopback, and whether a port on it is free.  Standard library only: the head start
(`units.head_start`) checks its ports before anything heavy is imported."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def can_bind(port: int, host: str = LOOPBACK) -> bool:
    """True if a listener could bind `host:port` now (as Go does, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
