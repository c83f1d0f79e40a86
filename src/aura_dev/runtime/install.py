"""`aura dev init`: install the Dapr runtime binaries, atomically and idempotently.

Sources, in order: a Dapr CLI install of the same version; the official release
archives; a build from the Go module proxy (`--from-source`, or automatically when the
download is unavailable and `go` is present).  Whatever the source, the binaries land in
a staging folder, `daprd --version` is checked, a marker is written, and the folder is
renamed into place: an interrupted install leaves nothing that counts as installed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn, DownloadColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn,
    TransferSpeedColumn,
)

from aura_dev.errors import RuntimeInstallError
from aura_dev.runtime import (
    BINARIES, MARKER, RuntimeInstall, binaries_present, binary_version, find_installed, install_dir,
    normalize_version,
)
from aura_dev.runtime import download, gobuild


@dataclass
class InstallReport:
    install: RuntimeInstall
    already_installed: bool
    seconds: float
    attempts: list[str] = field(default_factory=list)


def cli_install_dirs() -> list[Path]:
    """Where a Dapr CLI install keeps its binaries (`dapr init --slim`)."""
    dirs = []
    runtime_path = os.environ.get("DAPR_RUNTIME_PATH")
    if runtime_path:
        dirs.append(Path(runtime_path) / ".dapr" / "bin")
    dirs.append(Path.home() / ".dapr" / "bin")
    return dirs


def install_runtime(
    version: str,
    *,
    from_source: bool = False,
    force: bool = False,
    allow_build_fallback: bool = True,
    console: Console | None = None,
) -> InstallReport:
    version = normalize_version(version)
    console = console or Console(stderr=True)
    started = time.monotonic()
    existing = find_installed(version)
    if existing is not None and not force:
        return InstallReport(existing, already_installed=True, seconds=0.0)

    attempts: list[str] = []
    with _staging(version) as staging:
        source = None
        if not from_source:
            source = _try_cli_install(version, staging, attempts)
            if source is None:
                source = _try_download(version, staging, attempts, console, allow_build_fallback)
        if source is None:
            _build_from_source(version, staging, console)
            source = "built from the Go module proxy"
            attempts.append(source)
        _verify(version, staging)
        (staging / MARKER).write_text(json.dumps({"version": version, "source": source}, indent=2) + "\n")
        _move_into_place(staging, install_dir(version))
    installed = find_installed(version)
    if installed is None:  # pragma: no cover - the rename above guarantees it
        raise RuntimeInstallError(f"the runtime {version} vanished right after install")
    return InstallReport(installed, already_installed=False, seconds=time.monotonic() - started, attempts=attempts)


@contextmanager
def _staging(version: str) -> Iterator[Path]:
    root = install_dir(version).parent
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{version}-", dir=root))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _try_cli_install(version: str, staging: Path, attempts: list[str]) -> str | None:
    for folder in cli_install_dirs():
        if not binaries_present(folder):
            continue
        found = binary_version(folder / "daprd")
        if found != version:
            attempts.append(f"{folder}: daprd is {found or 'unreadable'}, not {version}")
            continue
        for name in BINARIES:
            shutil.copy2(folder / name, staging / name)
        attempts.append(f"copied from the Dapr CLI install in {folder}")
        return f"Dapr CLI install ({folder})"
    return None


def _try_download(
    version: str, staging: Path, attempts: list[str], console: Console, allow_build_fallback: bool
) -> str | None:
    base = download.release_base_url()
    with Progress(
        TextColumn("[bold]download[/] {task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        console=console, transient=True, disable=not console.is_terminal,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def on_progress(binary: str, done: int, total: int | None) -> None:
            if binary not in tasks:
                tasks[binary] = progress.add_task(binary, total=total)
            progress.update(tasks[binary], completed=done)

        try:
            download.download_release(version, staging, base_url=base, on_progress=on_progress)
        except download.DownloadUnavailable as exc:
            attempts.append(f"release download: {exc.message}")
            if allow_build_fallback and gobuild.find_go() is not None:
                console.print(f"[yellow]release archives unavailable[/] ({exc.message}); building from source")
                for name in BINARIES:
                    (staging / name).unlink(missing_ok=True)
                return None
            raise RuntimeInstallError(
                f"cannot download the Dapr {version} release archives",
                details=[exc.message],
                hint="install Go (>= 1.26.5) and run `aura dev init --from-source`",
            ) from exc
    attempts.append(f"downloaded from {base}")
    return f"release archives ({base})"


def _build_from_source(version: str, staging: Path, console: Console) -> None:
    go = gobuild.find_go()
    if go is None:
        raise RuntimeInstallError(
            "building the Dapr runtime needs `go`, which is not on PATH",
            hint="install Go >= 1.26.5 (https://go.dev/dl) or a Dapr CLI (`dapr init --slim`)",
        )
    have = gobuild.go_version(go)
    if have is not None and have < gobuild.MIN_GO:
        raise RuntimeInstallError(
            f"go {'.'.join(map(str, have))} is too old to build Dapr {version}",
            hint=f"install Go >= {'.'.join(map(str, gobuild.MIN_GO))}",
        )
    workdir = gobuild.build_dir(version)
    log_path = workdir / "build.log"
    workdir.mkdir(parents=True, exist_ok=True)
    log_path.write_text("")
    steps = gobuild.BuildSteps()
    with Progress(
        SpinnerColumn(), TextColumn("[bold]{task.description}"), TextColumn("[dim]{task.fields[last]}"),
        TimeElapsedColumn(), console=console, transient=False,
    ) as progress:
        task = progress.add_task(steps.title(), last=f"dapr {version} from the Go module proxy")

        def show(done: str | None) -> None:
            if done:
                progress.console.print(f"  {done}")
            progress.update(task, description=steps.title(), last=steps.detail)

        gobuild.prepare_wrapper_module(go, version, workdir)
        for target in gobuild.TARGETS:
            show(steps.building(target.binary))
            gobuild.build_binary(go, version, target, workdir, staging, log_path,
                                 lambda line: show(steps.line(line)))
        show(steps.finish())
        progress.update(task, description=f"built dapr {version}", last=f"log: {log_path}")


def _verify(version: str, staging: Path) -> None:
    missing = [name for name in BINARIES if not os.access(staging / name, os.X_OK)]
    if missing:
        raise RuntimeInstallError(f"the install lacks {', '.join(missing)}")
    reported = binary_version(staging / "daprd")
    if reported != version:
        raise RuntimeInstallError(
            f"the new daprd reports version {reported!r}, expected {version!r}; nothing was installed"
        )


def _move_into_place(staging: Path, final: Path) -> None:
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}")
        final.rename(old)
    staging.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
