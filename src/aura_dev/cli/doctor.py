"""`aura dev doctor`: what this machine has, what is missing, and how to fix each."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from enum import Enum

from aura_dev.infra.docker import docker_client
from aura_dev.errors import InfraError
from aura_dev.net import can_bind, port_holder
from aura_dev.runtime import BINARIES, binary_version, find_installed, installed_versions
from aura_dev.versions import DEFAULT_RUNTIME_VERSION
from aura_dev.runtime.gobuild import MIN_GO, find_go, go_version


class Status(str, Enum):
    OK = "ok"
    WARN = "warn"
    MISSING = "missing"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None
    required: bool = True

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "status": self.status.value, "detail": self.detail, "fix": self.fix,
                "required": self.required}


DEFAULT_PORTS = {6379: "Redis", 50005: "placement", 50006: "scheduler", 3500: "daprd HTTP", 50001: "daprd gRPC"}


def run_checks(runtime_version: str = DEFAULT_RUNTIME_VERSION) -> list[Check]:
    checks = [_runtime_check(runtime_version), _docker_check(), _redis_check(), _go_check(), *_zipkin_checks()]
    checks.extend(_port_check(port, what) for port, what in DEFAULT_PORTS.items())
    return checks


def _runtime_check(version: str) -> Check:
    found = find_installed(version)
    if found is None:
        others = installed_versions()
        detail = f"Dapr runtime {version} is not installed" + (f" (installed: {', '.join(others)})" if others else "")
        return Check("dapr runtime", Status.MISSING, detail, f"aura dev init --runtime-version {version}")
    reported = binary_version(found.daprd)
    if reported != version:
        return Check("dapr runtime", Status.MISSING, f"{found.daprd} reports {reported!r}, expected {version}",
                     f"aura dev init --force --runtime-version {version}")
    names = ", ".join(BINARIES)
    return Check("dapr runtime", Status.OK, f"{names} {version} in {found.bin_dir} ({found.source})")


def _docker_check() -> Check:
    try:
        client = docker_client(timeout=3)
    except InfraError as exc:
        return Check("docker engine", Status.WARN, exc.message,
                     "start dockerd, or keep infra.backend: native (auto falls back to it)", required=False)
    try:
        version = client.version().get("Version", "?")
    finally:
        client.close()
    return Check("docker engine", Status.OK, f"engine {version} answers")


def _redis_check() -> Check:
    server = shutil.which("redis-server")
    if server is None:
        return Check("redis-server", Status.WARN, "redis-server is not on PATH (needed by the native backend)",
                     "apt-get install redis-server (or brew install redis)", required=False)
    return Check("redis-server", Status.OK, server)


def _go_check() -> Check:
    go = find_go()
    if go is None:
        return Check("go", Status.WARN, "go is not on PATH (needed only to build the runtime from source)",
                     f"install Go >= {'.'.join(map(str, MIN_GO))}", required=False)
    version = go_version(go)
    shown = ".".join(map(str, version)) if version else "unknown version"
    if version is not None and version < MIN_GO:
        return Check("go", Status.WARN, f"{go} is {shown}; building Dapr needs >= {'.'.join(map(str, MIN_GO))}",
                     "upgrade Go", required=False)
    return Check("go", Status.OK, f"{go} ({shown})")


def _zipkin_checks() -> list[Check]:
    """Java and the Zipkin jar: traces need both, the stack neither (so: warnings)."""
    from aura_dev.runtime.zipkin import MIN_JAVA, find_java, installed_jar, jar_path

    java = find_java()
    problem = java.problem()
    checks = [Check("java", Status.WARN, f"{problem} (needed by Zipkin, i.e. traces)",
                    f"install Java {MIN_JAVA}+ (Debian: apt-get install openjdk-17-jre-headless)", required=False)
              if problem else Check("java", Status.OK, f"{java.path} (Java {java.major})")]
    jar = installed_jar()
    checks.append(Check("zipkin", Status.OK, str(jar)) if jar else
                  Check("zipkin", Status.WARN, f"{jar_path()} is missing (no traces until it is there)",
                        "aura dev init", required=False))
    return checks


def _port_check(port: int, what: str) -> Check:
    name = f"port {port}"
    if can_bind(port) and can_bind(port, "0.0.0.0"):
        return Check(name, Status.OK, f"free ({what} default)", required=False)
    holder = port_holder(port)
    if holder is None:  # no listener: a connection in TIME_WAIT, or an outgoing one's source port
        return Check(name, Status.OK, f"no listener ({what} default; briefly held by a connection)", required=False)
    return Check(name, Status.WARN, f"{what} default port: {holder.describe()}",
                 "aura uses its own ports ('auto'), so this only matters for tools that use Dapr's defaults",
                 required=False)
