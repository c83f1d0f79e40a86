"""A quick look at the local Docker engine without the docker SDK (whose import alone
costs ~0.2 s of every `aura dev up`): is it there, and does it have an image?"""

from __future__ import annotations

import http.client
import os
import socket
from urllib.parse import quote

DEFAULT_SOCKET = "/var/run/docker.sock"


def socket_path() -> str | None:
    """The engine's unix socket, or None when DOCKER_HOST points elsewhere (tcp, ssh)."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host:
        return DEFAULT_SOCKET
    if host.startswith("unix://"):
        return host[len("unix://"):]
    return None


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.path)
        self.sock = sock


def _get(path: str, sock: str, timeout: float) -> int | None:
    connection = _UnixConnection(sock, timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


def engine_answers(sock: str, timeout: float = 1.0) -> bool:
    return os.path.exists(sock) and _get("/_ping", sock, timeout) == 200


def image_present(image: str, sock: str, timeout: float = 2.0) -> bool:
    return _get(f"/images/{quote(image, safe='')}/json", sock, timeout) == 200
