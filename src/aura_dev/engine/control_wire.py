"""One exchange on the supervisor's control socket — a JSON line each way — with the
standard library only: `aura dev down` sends its request without importing the typed
protocol (`engine.control`, which validates both ends)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any


class Unreachable(Exception):
    """Nobody accepts connections on the socket (the cause says why)."""


def exchange(path: Path, message: dict[str, Any], timeout: float) -> Any:
    """Send `message`, return the decoded reply line (None if the supervisor closed the
    connection without one).  Unreachable if nobody listens; OSError if the connection
    breaks; ValueError if the reply is not JSON."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except OSError as exc:
            raise Unreachable(str(exc)) from exc
        sock.sendall(json.dumps(message).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            part = sock.recv(65536)
            if not part:
                break
            data += part
    return json.loads(data) if data else None
