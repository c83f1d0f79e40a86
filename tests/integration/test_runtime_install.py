"""`aura dev init`: the release-archive path against a local HTTP server, the Dapr CLI
install path, and the installed runtime itself."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aura_dev.runtime import BINARIES
from aura_dev.versions import DEFAULT_RUNTIME_VERSION
from aura_dev.runtime.download import archive_name
from conftest import run_aura

VERSION = DEFAULT_RUNTIME_VERSION


@pytest.fixture(scope="module")
def release_dir(tmp_path_factory: pytest.TempPathFactory, runtime: Any) -> Path:
    """A release folder laid out like GitHub's: v<ver>/<name>_<os>_<arch>.tar.gz + .sha256."""
    root = tmp_path_factory.mktemp("releases")
    folder = root / f"v{VERSION}"
    folder.mkdir()
    for binary in BINARIES:
        name = archive_name(binary)
        with tarfile.open(folder / name, "w:gz", compresslevel=1) as tar:
            tar.add(runtime.binary(binary), arcname=binary)
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        (folder / f"{name}.sha256").write_text(f"{digest} *{name}\n")
    return root


@pytest.fixture(scope="module")
def release_server(release_dir: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(release_dir))
    handler.log_message = lambda *args: None  # type: ignore[assignment]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def isolated_env(tmp_path: Path, base_url: str, *, path: str | None = None) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        "AURA_DATA_DIR": str(tmp_path / "data"),
        "AURA_CACHE_DIR": str(tmp_path / "cache"),
        "AURA_DAPR_RELEASE_URL": base_url,
        "HOME": str(home),
        "DAPR_RUNTIME_PATH": "",
    }
    if path is not None:
        env["PATH"] = path
    return env


def leftovers(data_dir: Path) -> list[str]:
    root = data_dir / "runtime"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_installed_daprd_prints_the_pinned_version(runtime: Any) -> None:
    out = subprocess.run([str(runtime.daprd), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == VERSION
    for binary in BINARIES:
        assert os.access(runtime.binary(binary), os.X_OK)


def test_download_installs_verified_archives(tmp_path: Path, release_server: str) -> None:
    env = isolated_env(tmp_path, release_server)
    done = run_aura("dev", "init", "--json", env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert '"source": "release archives' in done.stdout
    installed = tmp_path / "data" / "runtime" / VERSION
    out = subprocess.run([str(installed / "daprd"), "--version"], capture_output=True, text=True).stdout
    assert out.strip() == VERSION
    assert leftovers(tmp_path / "data") == [VERSION]  # no staging folder left behind
    # Idempotent: a second run changes nothing and says so.
    again = run_aura("dev", "init", "--json", env=env)
    assert again.returncode == 0 and '"alreadyInstalled": true' in again.stdout


def test_corrupted_archive_installs_nothing(tmp_path: Path, release_dir: Path) -> None:
    corrupt_root = tmp_path / "corrupt-releases"
    shutil.copytree(release_dir, corrupt_root)
    victim = corrupt_root / f"v{VERSION}" / archive_name("placement")
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(corrupt_root))
    handler.log_message = lambda *args: None  # type: ignore[assignment]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = isolated_env(tmp_path, f"http://127.0.0.1:{server.server_address[1]}")
        done = run_aura("dev", "init", env=env, timeout=300)
    finally:
        server.shutdown()
    assert done.returncode == 1
    assert f"{archive_name('placement')} does not match its published checksum" in done.stderr
    assert "nothing was installed" in done.stderr
    assert leftovers(tmp_path / "data") == []


def test_unreachable_releases_without_go_say_what_to_do(tmp_path: Path) -> None:
    # A PATH holding only what `aura` needs to run, and no `go`.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = isolated_env(tmp_path, "http://127.0.0.1:9", path=str(bin_dir))
    done = run_aura("dev", "init", env=env)
    assert done.returncode == 1
    assert "cannot download the Dapr 1.18.2 release archives" in done.stderr
    assert "install Go" in done.stderr
    assert leftovers(tmp_path / "data") == []


def test_reuses_a_dapr_cli_install_of_the_same_version(tmp_path: Path, runtime: Any) -> None:
    env = isolated_env(tmp_path, "http://127.0.0.1:9")
    cli_bin = Path(env["HOME"]) / ".dapr" / "bin"
    cli_bin.mkdir(parents=True)
    for binary in BINARIES:
        os.link(runtime.binary(binary), cli_bin / binary) if _same_fs(runtime.bin_dir, cli_bin) else shutil.copy2(
            runtime.binary(binary), cli_bin / binary)
    done = run_aura("dev", "init", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert "Dapr CLI install" in done.stdout


def _same_fs(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev
