"""The Zipkin server aura runs natively: the official exec jar from Maven Central, checked
against the SHA-256 Maven Central publishes beside it, kept under aura's data folder.

`aura dev init` fetches it; `aura dev up` only looks for it (and for Java), so a missing
jar or Java costs traces, never the stack."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aura_dev.errors import ChecksumMismatch, RuntimeInstallError
from aura_dev.paths import data_dir
from aura_dev.plan.infra import ZIPKIN_VERSION

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
MIN_JAVA = 17
ProgressCallback = Callable[[str, int, int | None], None]


def jar_name(version: str = ZIPKIN_VERSION) -> str:
    return f"zipkin-server-{version}-exec.jar"


def jar_url(version: str = ZIPKIN_VERSION) -> str:
    base = os.environ.get("AURA_MAVEN_URL", MAVEN_CENTRAL).rstrip("/")
    return f"{base}/io/zipkin/zipkin-server/{version}/{jar_name(version)}"


def jar_path(version: str = ZIPKIN_VERSION) -> Path:
    return data_dir() / "zipkin" / version / jar_name(version)


def installed_jar(version: str = ZIPKIN_VERSION) -> Path | None:
    path = jar_path(version)
    return path if path.is_file() else None


@dataclass(frozen=True)
class JavaCheck:
    path: str | None
    major: int | None

    @property
    def ok(self) -> bool:
        return self.major is not None and self.major >= MIN_JAVA

    def problem(self) -> str | None:
        if self.path is None:
            return "java is not on PATH"
        if self.major is None:
            return f"cannot tell the version of {self.path}"
        if self.major < MIN_JAVA:
            return f"{self.path} is Java {self.major}; Zipkin needs Java {MIN_JAVA} or later"
        return None


def java_path() -> str | None:
    """`java` from JAVA_HOME, else PATH (no version check: that costs a JVM start, so
    `up` leaves it to `aura dev doctor`)."""
    home = os.environ.get("JAVA_HOME")
    candidate = Path(home) / "bin" / "java" if home else None
    return str(candidate) if candidate and candidate.is_file() else shutil.which("java")


def find_java() -> JavaCheck:
    """`java` and its major version."""
    path = java_path()
    if path is None:
        return JavaCheck(None, None)
    try:
        out = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return JavaCheck(path, None)
    return JavaCheck(path, parse_java_major(out.stderr + out.stdout))


def parse_java_major(text: str) -> int | None:
    """17 from `openjdk version "17.0.15"`, 8 from `java version "1.8.0_392"`."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if match is None:
        return None
    major = int(match[1])
    return int(match[2] or 0) if major == 1 else major


def fetch_jar(version: str = ZIPKIN_VERSION, on_progress: ProgressCallback | None = None) -> Path:
    """Download the jar (once), verified against Maven Central's `.sha256`; its path."""
    import httpx

    from aura_dev.runtime.download import _get_text, _stream_to_file

    final = jar_path(version)
    if final.is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(final.name + f".{os.getpid()}.part")
    url = jar_url(version)
    try:
        with httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, read=120.0)) as client:
            expected = _get_text(client, url + ".sha256").split()[0].strip().lower()
            actual = _stream_to_file(client, url, partial, "zipkin", on_progress)
        if actual != expected:
            raise ChecksumMismatch(f"{jar_name(version)}: SHA-256 {actual} does not match Maven Central's {expected}",
                                   hint="run `aura dev init` again; if it repeats, the download is being altered")
        os.replace(partial, final)  # whole or not at all
    except RuntimeInstallError:
        raise
    except Exception as exc:  # network and disk errors alike: say what and where
        raise RuntimeInstallError(f"cannot fetch the Zipkin server from {url}: {exc}",
                                  hint="check the network; traces are off until it is there") from exc
    finally:
        partial.unlink(missing_ok=True)
    return final
