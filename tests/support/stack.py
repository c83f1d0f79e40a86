"""Helpers for end-to-end tests: a private copy of a workspace, its run state, waiting."""

from __future__ import annotations

import contextlib
import json
import shutil
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import yaml

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample-workspace"


@contextlib.contextmanager
def running(root: Path) -> Iterator[Path]:
    """The workspace's stack, up (detached) for the block and down after it."""
    from conftest import run_aura

    up = run_aura("dev", "up", "--detach", "-w", str(root), timeout=120)
    assert up.returncode == 0, up.stderr
    try:
        yield root
    finally:
        assert run_aura("dev", "down", "-w", str(root)).returncode == 0


def stack_status(root: Path) -> dict[str, Any]:
    from conftest import run_aura

    return json.loads(run_aura("dev", "status", "--json", "-w", str(root)).stdout)  # type: ignore[no-any-return]


def copy_workspace(source: Path, target: Path) -> Path:
    """Copy a workspace without its run state; node_modules are linked, not copied."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in (".aura", "node_modules", "__pycache__")}

    shutil.copytree(source, target, ignore=ignore)
    for modules in source.glob("services/*/node_modules"):
        (target / modules.relative_to(source)).symlink_to(modules, target_is_directory=True)
    return target


def edit_workspace(root: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = root / "aura.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def use_backend(root: Path, backend: str, images: dict[str, str] | None = None) -> None:
    def change(data: dict[str, Any]) -> None:
        infra = data.setdefault("infra", {})
        infra["backend"] = backend
        if images:
            infra["redis"] = {**infra.get("redis", {}), "image": images["redis"]}
            infra["placement"] = {**infra.get("placement", {}), "image": images["dapr"]}
            infra["scheduler"] = {**infra.get("scheduler", {}), "image": images["dapr"]}
    edit_workspace(root, change)


def state(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((root / ".aura" / "run" / "state.json").read_text())
    except (OSError, ValueError):
        return None


def wait_for(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.1, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what} (last: {last!r})")


def http(method: str, url: str, body: Any = None, timeout: float = 10.0) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"content-type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode(errors="replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, None  # nothing answers (yet)


def unit_pids(snapshot: dict[str, Any]) -> dict[str, int]:
    return {label: unit["pid"] for label, unit in snapshot["units"].items() if isinstance(unit.get("pid"), int)}


def all_ports(snapshot: dict[str, Any]) -> set[int]:
    return {port for unit in snapshot["units"].values() for port in (unit.get("ports") or {}).values()
            if isinstance(port, int)}


def process_tree(pids: list[int]) -> list[int]:
    found = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            found.append(pid)
            found.extend(child.pid for child in proc.children(recursive=True))
        except psutil.Error:
            pass
    return found


def alive(pids: list[int]) -> list[int]:
    result = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                result.append(pid)
        except psutil.Error:
            pass
    return result


TINY_APP = """\
import http.server, os, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (os.environ.get("APP_ID", "?") + " " + os.environ.get("GREETING", "hi")).encode()
        self.send_response(200); self.send_header("content-length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
print("listening on", os.environ["APP_PORT"], flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["APP_PORT"])), Handler).serve_forever()
"""


def tiny_workspace(root: Path, services: dict[str, list[str]], extra: str = "",
                   infra: str = "{backend: native}") -> Path:
    """Services that answer GET / with their app id; `services` maps name -> dependsOn."""
    root.mkdir(parents=True, exist_ok=True)
    body = ["name: tiny", f"infra: {infra}", "services:"]
    for name, deps in services.items():
        (root / name).mkdir(exist_ok=True)
        (root / name / "app.py").write_text(TINY_APP)
        body += [f"  {name}:", f"    path: {name}", "    command: [python3, app.py]", "    healthCheck: /",
                 f"    dependsOn: {json.dumps(deps)}"]
    (root / "aura.yaml").write_text("\n".join(body) + "\n" + textwrap.dedent(extra))
    return root
