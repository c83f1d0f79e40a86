"""Installing the runtime from Dapr's official release archives, as `dapr init --slim` does.

Each binary ships as `<name>_<os>_<arch>.tar.gz` beside a `<archive>.sha256` file written
by `sha256sum -b` (Dapr's release workflow).  The checksum is fetched first and the
archive is hashed while it streams, so a corrupted download is refused before a single
byte of it is unpacked.
"""

from __future__ import annotations

import hashlib
import os
import platform
import tarfile
from collections.abc import Callable
from pathlib import Path

import httpx

from aura_dev.errors import ChecksumMismatch, RuntimeInstallError
from aura_dev.runtime import BINARIES

DEFAULT_RELEASE_BASE_URL = "https://github.com/dapr/dapr/releases/download"

ProgressCallback = Callable[[str, int, int | None], None]
"""(binary name, bytes so far, total bytes or None)."""


class DownloadUnavailable(RuntimeInstallError):
    """The archives cannot be fetched (network, 404): the caller may fall back to a build."""


def release_base_url() -> str:
    return os.environ.get("AURA_DAPR_RELEASE_URL", DEFAULT_RELEASE_BASE_URL).rstrip("/")


def platform_suffix() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    system = platform.system().lower()
    return f"{system}_{arch}"


def archive_name(binary: str) -> str:
    return f"{binary}_{platform_suffix()}.tar.gz"


def parse_checksum_file(text: str, expected_name: str) -> str:
    """Read `<hex> *<name>` (sha256sum -b) or `<hex>  <name>` or a bare hex digest."""
    for line in text.splitlines():
        parts = line.strip().split()
        if not parts:
            continue
        digest = parts[0].lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            continue
        if len(parts) == 1 or parts[-1].lstrip("*") == expected_name:
            return digest
    raise RuntimeInstallError(f"the checksum file for {expected_name} holds no SHA-256 digest for it")


def download_release(
    version: str,
    dest_dir: Path,
    *,
    base_url: str | None = None,
    on_progress: ProgressCallback | None = None,
    timeout: float = 30.0,
) -> None:
    """Fetch, verify and unpack every runtime binary of `version` into `dest_dir`.

    Archives are written to `dest_dir/.downloads` and removed after unpacking; the caller
    owns `dest_dir` and deletes it whole on any failure.
    """
    base = (base_url or release_base_url()).rstrip("/")
    downloads = dest_dir / ".downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    try:
        with httpx.Client(follow_redirects=True, timeout=timeout) as client:
            for binary in BINARIES:
                name = archive_name(binary)
                url = f"{base}/v{version}/{name}"
                expected = parse_checksum_file(_get_text(client, url + ".sha256"), name)
                archive = downloads / name
                actual = _stream_to_file(client, url, archive, binary, on_progress)
                if actual != expected:
                    raise ChecksumMismatch(
                        f"{name} does not match its published checksum",
                        details=[f"expected sha256 {expected}", f"received sha256 {actual}", f"from {url}"],
                        hint="the download was corrupted or tampered with; nothing was installed. Try again, "
                        "or build from source with `aura dev init --from-source`",
                    )
                _extract_binary(archive, binary, dest_dir)
                archive.unlink()
    finally:
        for leftover in downloads.glob("*"):
            leftover.unlink()
        downloads.rmdir()


def _get_text(client: httpx.Client, url: str) -> str:
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        raise DownloadUnavailable(f"cannot reach {url}: {exc}") from exc
    if response.status_code != 200:
        raise DownloadUnavailable(f"{url} answered HTTP {response.status_code}")
    return response.text


def _stream_to_file(
    client: httpx.Client, url: str, target: Path, binary: str, on_progress: ProgressCallback | None
) -> str:
    digest = hashlib.sha256()
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise DownloadUnavailable(f"{url} answered HTTP {response.status_code}")
            total = int(response.headers["content-length"]) if "content-length" in response.headers else None
            received = 0
            with target.open("wb") as out:
                for chunk in response.iter_bytes(1 << 16):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    if on_progress is not None:
                        on_progress(binary, received, total)
    except httpx.HTTPError as exc:
        raise DownloadUnavailable(f"download of {url} failed: {exc}") from exc
    return digest.hexdigest()


def _extract_binary(archive: Path, binary: str, dest_dir: Path) -> None:
    """Unpack only the regular file named `binary` (at any depth) from the archive."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = next(
                (m for m in tar.getmembers() if m.isfile() and Path(m.name).name == binary),
                None,
            )
            if member is None:
                raise RuntimeInstallError(f"{archive.name} does not contain a file named {binary}")
            source = tar.extractfile(member)
            assert source is not None  # a regular file always has content
            target = dest_dir / binary
            with source, target.open("wb") as out:
                while block := source.read(1 << 20):
                    out.write(block)
            target.chmod(0o755)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise RuntimeInstallError(f"{archive.name} is not a valid tar.gz archive: {exc}") from exc
