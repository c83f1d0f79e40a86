"""Local container images for the docker backend's tests.

No registry is reachable where these tests run, so images are made from what the machine
has: `redis-server` with the libraries `ldd` lists, and the static `placement` /
`scheduler` binaries of the installed runtime, each `FROM scratch`.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

REDIS_IMAGE = "aura-test/redis:local"
DAPR_IMAGE_REPO = "aura-test/dapr"


def _libraries(binary: Path) -> list[Path]:
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        match = re.search(r"(/\S+)", line)
        if match:
            libs.append(Path(match[1]))
    return libs


def _context(files: dict[str, Path], dockerfile: str) -> bytes:
    """A tar build context holding `files` (name in context -> host path) and the Dockerfile."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for arcname, host in sorted(files.items()):
            tar.add(str(host.resolve()), arcname=arcname)
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _digest(files: dict[str, Path], dockerfile: str) -> str:
    h = hashlib.sha256(dockerfile.encode())
    for arcname, host in sorted(files.items()):
        stat = host.resolve().stat()
        h.update(f"{arcname}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def _build(client: Any, tag: str, files: dict[str, Path], dockerfile: str) -> str:
    digest = _digest(files, dockerfile)
    try:
        existing = client.images.get(tag)
        if existing.labels.get("dev.aura.test-digest") == digest:
            return tag
    except Exception:
        pass
    dockerfile += f'\nLABEL dev.aura.test-digest="{digest}"\n'
    client.images.build(fileobj=io.BytesIO(_context(files, dockerfile)), custom_context=True, tag=tag, rm=True)
    return tag


def build_redis_image(client: Any) -> str:
    server = Path(shutil.which("redis-server") or "/usr/bin/redis-server").resolve()
    files = {"rootfs/usr/bin/redis-server": server}
    for lib in _libraries(server):
        files["rootfs" + str(lib)] = lib
    dockerfile = "FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/bin:/bin\nCMD [\"redis-server\"]\n"
    return _build(client, REDIS_IMAGE, files, dockerfile)


def build_dapr_image(client: Any, bin_dir: Path, version: str) -> str:
    files = {"placement": bin_dir / "placement", "scheduler": bin_dir / "scheduler"}
    dockerfile = "FROM scratch\nWORKDIR /\nCOPY placement scheduler /\n"
    return _build(client, f"{DAPR_IMAGE_REPO}:{version}", files, dockerfile)
