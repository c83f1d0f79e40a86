"""Building the Dapr runtime from the Go module proxy with the local `go`.

`go install github.com/dapr/dapr/cmd/daprd@vX` is refused because dapr's go.mod holds
`replace` directives, which only apply in the main module.  So we make a wrapper module
whose go.mod *is* dapr's (module line renamed, plus `require github.com/dapr/dapr vX`)
with dapr's go.sum beside it: the build then uses exactly dapr's versions and replaces.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aura_dev.errors import BuildFailed, ModuleNotServed
from aura_dev.paths import cache_dir
from aura_dev.versions import DEFAULT_RUNTIME_VERSION

DAPR_MODULE = "github.com/dapr/dapr"
MIN_GO = (1, 26, 5)

_DOWNLOADING = re.compile(r"^go: downloading (\S+) (\S+)")
# `go: example.com/mod@v1.2.3: reading https://proxy…/@v/v1.2.3.zip: 403 Forbidden`
_NOT_SERVED = re.compile(r"(?P<module>[\w.\-/~]+)@(?P<version>v[\w.+\-]+): reading \S+: 40[34]")
_GO_VERSION = re.compile(r"go(\d+)\.(\d+)(?:\.(\d+))?")

LineCallback = Callable[[str], None]


@dataclass(frozen=True)
class BuildTarget:
    binary: str
    package: str
    tags: str | None


TARGETS = (
    # Without a components tag daprd registers no components and panics at start.
    BuildTarget("daprd", f"{DAPR_MODULE}/cmd/daprd", "stablecomponents"),
    BuildTarget("placement", f"{DAPR_MODULE}/cmd/placement", None),
    BuildTarget("scheduler", f"{DAPR_MODULE}/cmd/scheduler", None),
)


class BuildSteps:
    """Which step of a source build is running (download modules, then build each binary),
    read from `go build -v` output: `go: downloading M V` while it fetches modules, one
    package path per line while it compiles.  Each step's method returns the line that
    closes the previous step, if one just ended."""

    def __init__(self) -> None:
        self.steps = ["download modules", *(f"build {target.binary}" for target in TARGETS)]
        self.index = 0
        self.started = time.monotonic()
        self.modules = 0
        self.packages = 0
        self.detail = ""

    def title(self) -> str:
        shown = min(self.index, len(self.steps) - 1)
        return f"[{shown + 1}/{len(self.steps)}] {self.steps[shown]}"

    def _close(self, next_index: int) -> str | None:
        if next_index <= self.index:
            return None
        seconds = time.monotonic() - self.started
        if self.index == 0:
            done = f"downloaded {self.modules} modules in {seconds:.0f} s" if self.modules else "modules already here"
        else:
            done = f"{self.steps[self.index].replace('build', 'built', 1)} ({self.packages} packages) in {seconds:.0f} s"
        self.index, self.started, self.packages = next_index, time.monotonic(), 0
        return done

    def building(self, binary: str) -> str | None:
        """The build of `binary` starts.  The first build also fetches the modules: it stays
        in the download step until its first compiled package."""
        self.detail = ""
        step = self.steps.index(f"build {binary}")
        return None if step == 1 else self._close_up_to(step)

    def _close_up_to(self, step: int) -> str | None:
        closed = [line for index in range(self.index + 1, step + 1) if (line := self._close(index))]
        return "\n  ".join(closed) or None

    def line(self, line: str) -> str | None:
        downloading = _DOWNLOADING.match(line)
        if downloading:
            self.modules += 1
            self.detail = f"{self.modules} modules · {downloading[1]} {downloading[2]}"
            return None
        if not line or line.startswith(("go: ", "#", "$")):
            return None
        closed = self._close(1) if self.index == 0 else None  # the first compiled package ends the downloads
        self.packages += 1
        self.detail = f"{self.packages} packages · {line[-60:]}"
        return closed

    def finish(self) -> str | None:
        """After the last build: the line that closes it."""
        return self._close_up_to(len(self.steps))


def find_go() -> str | None:
    return shutil.which("go")


def go_version(go: str) -> tuple[int, int, int] | None:
    try:
        out = subprocess.run([go, "version"], capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _GO_VERSION.search(out)
    if not match:
        return None
    return int(match[1]), int(match[2]), int(match[3] or 0)


def build_dir(version: str) -> Path:
    return cache_dir() / "build" / f"dapr-{version}"


def build_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CGO_ENABLED"] = "0"
    # Never let go fetch a different toolchain behind the user's back.
    env.setdefault("GOTOOLCHAIN", "local")
    return env


def not_served_error(output: str, version: str) -> ModuleNotServed | None:
    match = _NOT_SERVED.search(output)
    if not match:
        return None
    return ModuleNotServed(
        f"the Go module proxy does not serve {match['module']}@{match['version']}, "
        f"which Dapr {version} needs",
        hint=f"build a version the proxy serves completely, e.g. `aura dev init --runtime-version "
        f"{DEFAULT_RUNTIME_VERSION}`",
    )


def prepare_wrapper_module(go: str, version: str, workdir: Path) -> None:
    """Write the wrapper go.mod/go.sum for dapr `version` into `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [go, "mod", "download", "-json", f"{DAPR_MODULE}@v{version}"],
        capture_output=True, text=True, cwd=workdir, env=build_env(), check=False,
    )
    try:
        info = json.loads(done.stdout) if done.stdout.strip() else {}
    except ValueError:
        info = {}
    error_text = str(info.get("Error", "")) + "\n" + done.stderr
    if done.returncode != 0 or "GoMod" not in info:
        served = not_served_error(error_text, version)
        if served is not None:
            raise served
        if "unknown revision" in error_text or "invalid version" in error_text:
            raise BuildFailed(
                f"Dapr {version} does not exist on the Go module proxy",
                hint=f"check the version, e.g. `aura dev init --runtime-version {DEFAULT_RUNTIME_VERSION}`",
                details=error_text.strip().splitlines()[-10:],
            )
        raise BuildFailed(
            f"`go mod download {DAPR_MODULE}@v{version}` failed",
            details=error_text.strip().splitlines()[-20:],
        )
    dapr_gomod = Path(info["GoMod"]).read_text()
    dapr_gosum = Path(info["Dir"]) / "go.sum"
    lines = dapr_gomod.splitlines()
    renamed = ["module aura.local/dapr-runtime-build" if line.startswith("module ") else line for line in lines]
    renamed.append("")
    renamed.append(f"require {DAPR_MODULE} v{version}")
    (workdir / "go.mod").write_text("\n".join(renamed) + "\n")
    shutil.copyfile(dapr_gosum, workdir / "go.sum")
    (workdir / "go.sum").chmod(0o644)


def build_binary(
    go: str, version: str, target: BuildTarget, workdir: Path, out_dir: Path, log_path: Path,
    on_line: LineCallback | None = None,
) -> None:
    ldflags = (
        f"-s -w -X {DAPR_MODULE}/pkg/buildinfo.version={version} "
        f"-X github.com/dapr/kit/logger.DaprVersion={version}"
    )
    argv = [go, "build", "-v", "-mod=mod", "-trimpath"]
    if target.tags:
        argv += ["-tags", target.tags]
    argv += ["-ldflags", ldflags, "-o", str(out_dir / target.binary), target.package]
    with log_path.open("a") as log:
        log.write(f"$ {' '.join(argv)}\n")
        log.flush()
        proc = subprocess.Popen(
            argv, cwd=workdir, env=build_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        assert proc.stdout is not None
        tail: list[str] = []
        for line in proc.stdout:
            log.write(line)
            tail.append(line.rstrip("\n"))
            del tail[:-40]
            if on_line is not None:
                on_line(line.rstrip("\n"))
        code = proc.wait()
    if code != 0:
        output = "\n".join(tail)
        served = not_served_error(log_path.read_text(), version)
        if served is not None:
            raise served
        raise BuildFailed(
            f"building {target.binary} {version} failed (go build exited {code})",
            details=[*tail[-25:], f"full log: {log_path}"],
            hint="fix the error above, or try the pinned version with "
            f"`aura dev init --runtime-version {DEFAULT_RUNTIME_VERSION}`" if output else None,
        )
