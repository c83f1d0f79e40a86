"""Chaos on a real stack, for `tests/e2e/test_chaos.py` and `benchmarks/chaos.py`.

A two-service workspace: `front` takes writes and invokes `store` through Dapr, `store`
saves them through its sidecar in the Redis state store.  A writer thread keeps writing
through `front` and remembers every write that was acknowledged (200).  A round picks a
kind of unit (seeded), waits until the victim has been ready for longer than
`restart.stableAfter` (a healthy unit, not one still in a crash loop), kills it with -9 —
an app, a sidecar, Redis, placement, the scheduler, or the supervisor itself, which is
then started again with `aura dev up -d` as a person would — and measures how long until
the victim is ready again and a write goes through.  Every acknowledged write must then
be in Redis (`store||<key>`).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

KINDS = ("app", "sidecar", "redis", "placement", "scheduler", "supervisor")
RECOVERY_BOUND = 60.0  # seconds within which a round must heal
STABLE_AFTER = 5.0  # restart.stableAfter's default: a victim ready this long is healthy

STORE_APP = """\
import http.server, json, os, urllib.request
STATE = f"http://127.0.0.1:{os.environ['DAPR_HTTP_PORT']}/v1.0/state/statestore"
class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, code, body=b""):
        self.send_response(code); self.send_header("content-length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self.answer(200, b"ok")
    def do_POST(self):
        key = self.path.rsplit("/", 1)[-1]
        value = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        request = urllib.request.Request(STATE, data=json.dumps([{"key": key, "value": value}]).encode(),
                                         headers={"content-type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                self.answer(200 if response.status == 204 else 502)
        except Exception:
            self.answer(502)
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["APP_PORT"])), Handler).serve_forever()
"""

FRONT_APP = """\
import http.server, os, urllib.request
STORE = f"http://127.0.0.1:{os.environ['DAPR_HTTP_PORT']}/v1.0/invoke/{os.environ['STORE_APP_ID']}/method/put/"
class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, code):
        self.send_response(code); self.send_header("content-length", "0"); self.end_headers()
    def do_GET(self):
        self.answer(200)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        request = urllib.request.Request(STORE + self.path.rsplit("/", 1)[-1], data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                self.answer(response.status)
        except Exception:
            self.answer(502)
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["APP_PORT"])), Handler).serve_forever()
"""


def store_app_id(root: Path) -> str:
    """The store's Dapr app id, unique to this workspace: sidecars find each other by mDNS,
    machine-wide, so another stack's `store` would otherwise answer some of our calls."""
    import hashlib

    return "store-" + hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:8]


def chaos_workspace(root: Path, backend: str = "native", images: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, code in (("store", STORE_APP), ("front", FRONT_APP)):
        (root / name).mkdir(exist_ok=True)
        (root / name / "app.py").write_text(code)
    infra: dict[str, Any] = {"backend": backend}
    if images:
        infra.update(redis={"image": images["redis"]}, placement={"image": images["dapr"]},
                     scheduler={"image": images["dapr"]})
    services = {name: {"path": name, "command": [sys.executable, "app.py"], "healthCheck": "/"}
                for name in ("store", "front")}
    services["store"]["dapr"] = {"appId": store_app_id(root)}
    services["front"].update(dependsOn=["store"], env={"STORE_APP_ID": store_app_id(root)})
    (root / "aura.yaml").write_text(json.dumps({"name": "chaos", "infra": infra, "services": services}, indent=2))
    return root


def aura_bin() -> str:
    import shutil

    return shutil.which("aura") or str(Path(sys.executable).parent / "aura")


def aura(root: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([aura_bin(), *args, "-w", str(root)], capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, NO_COLOR="1"))
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"`aura {' '.join(args)}` did not finish in {timeout:g} s\n{stuck(root)}") from exc


def stuck(root: Path) -> str:
    """What a hung command leaves to look at: the supervisor holding the workspace (from its
    lock file: state.json may still name a killed one), where it waits, the load."""
    parts = [f"load average: {os.getloadavg()}"]
    run = root / ".aura" / "run"
    try:
        holder = int((run / "supervisor.lock").read_text().split()[0])
        proc = psutil.Process(holder)
        parts.append(f"supervisor {holder}: {proc.status()}, wchan {Path(f'/proc/{holder}/wchan').read_text()}, "
                     f"{proc.num_threads()} threads, {' '.join(proc.cmdline())}")
        os.kill(holder, signal.SIGUSR1)  # it writes where each of its tasks waits to supervisor.log
        time.sleep(1.0)
    except (OSError, ValueError, IndexError, psutil.Error) as exc:
        parts.append(f"no live supervisor in the lock file: {exc}")
    for proc in psutil.process_iter(["cmdline", "status"]):
        text = " ".join(proc.info["cmdline"] or [])
        if str(root) in text:
            parts.append(f"  {proc.pid} {proc.info['status']} {text[:120]}")
    try:
        parts += ["supervisor.log:", *(run / "supervisor.log").read_text(errors="replace").splitlines()[-80:]]
    except OSError:
        pass
    return "\n".join(parts)


def snapshot(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((root / ".aura" / "run" / "state.json").read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def post(url: str, body: bytes, timeout: float = 5.0) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=timeout) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return 0


class Writer(threading.Thread):
    """Writes through `front` until stopped; keeps what was acknowledged."""

    def __init__(self, chaos: Chaos, interval: float = 0.05) -> None:
        super().__init__(daemon=True, name="chaos-writer")
        self.chaos = chaos
        self.interval = interval
        self.acknowledged: dict[str, str] = {}
        self.attempts = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.chaos.write(self.acknowledged)
            self.attempts += 1
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(30)


@dataclass
class Round:
    kind: str
    victim: str
    seconds: float
    healed: bool


@dataclass
class Chaos:
    root: Path
    seed: int
    docker_client: Any = None
    rounds: list[Round] = field(default_factory=list)
    seen_pids: set[tuple[int, float]] = field(default_factory=set)
    seen_containers: set[str] = field(default_factory=set)
    seen_ports: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.key = ""
        self._counter = 0
        self._lock = threading.Lock()

    # -- the stack ------------------------------------------------------------------------

    def up(self) -> None:
        done = aura(self.root, "dev", "up", "--detach")
        if done.returncode != 0:
            raise AssertionError(f"aura dev up failed:\n{done.stdout}\n{done.stderr}")
        self.remember()

    def snap(self) -> dict[str, Any]:
        found = snapshot(self.root)
        if found is None:
            raise AssertionError("no state.json: the stack is not running")
        return found

    def remember(self) -> None:
        """Every process and container the stack had, for the check that `down` left none."""
        snap = snapshot(self.root)
        if snap:
            self.key = snap["key"]
            self.seen_ports |= {p for u in snap["units"].values() for p in (u.get("ports") or {}).values() if p}
            for unit in snap["units"].values():
                if isinstance(unit.get("pid"), int):
                    self.seen_pids.add((unit["pid"], unit["create_time"]))
                if unit.get("container"):
                    self.seen_containers.add(unit["container"])

    def front_url(self) -> str:
        return str(self.snap()["services"]["front"]["url"])

    def write(self, acknowledged: dict[str, str]) -> bool:
        with self._lock:
            self._counter += 1
            key = f"k{self._counter:06d}"
        value = f"value of {key}"
        try:
            url = self.front_url()
        except AssertionError:
            return False
        if post(f"{url}/put/{key}", value.encode()) == 200:
            acknowledged[key] = value
            return True
        return False

    # -- a round --------------------------------------------------------------------------

    def victim(self, kind: str) -> str:
        if kind in ("app", "sidecar"):
            service = self.random.choice(["front", "store"])
            return service if kind == "app" else f"{service}·dapr"
        return kind

    def ready_for(self, label: str) -> float:
        """How long the unit has been ready (0 when it is not)."""
        unit = self.snap()["units"].get(label)
        if not unit or unit["state"] != "ready" or unit.get("since") is None:
            return 0.0
        return time.time() - (unit["since"] + (unit.get("readySeconds") or 0.0))

    def identity(self, label: str) -> Any:
        unit = self.snap()["units"][label]
        return unit.get("container") or unit.get("pid")

    def kill(self, label: str) -> None:
        if label == "supervisor":
            os.kill(self.snap()["supervisor"]["pid"], signal.SIGKILL)
            return
        unit = self.snap()["units"][label]
        pid = unit.get("pid")
        if unit.get("container"):  # the container's own process, killed from the host like any other
            pid = self.docker_client.containers.get(unit["container"]).attrs["State"]["Pid"]
        os.kill(int(pid), signal.SIGKILL)

    def play(self, kind: str, probe: dict[str, str]) -> Round:
        label = self.victim(kind)
        watched = "front" if label == "supervisor" else label
        deadline = time.monotonic() + RECOVERY_BOUND
        while self.ready_for(watched) < STABLE_AFTER + 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        before = self.identity(watched) if label != "supervisor" else self.snap()["supervisor"]["pid"]
        began = time.monotonic()
        self.kill(label)
        if label == "supervisor":
            supervisor = psutil.Process(before) if psutil.pid_exists(before) else None
            if supervisor is not None:
                supervisor.wait(10)
            self.up()  # what a person does: `aura dev up -d` cleans up and starts again
        healed = False
        while time.monotonic() - began < RECOVERY_BOUND:
            snap = snapshot(self.root)
            back = snap is not None and (label == "supervisor" or (
                snap["units"][watched]["state"] == "ready" and self.identity(watched) != before))
            if back and self.write(probe):
                healed = True
                break
            time.sleep(0.02)
        self.remember()
        result = Round(kind, label, time.monotonic() - began, healed)
        self.rounds.append(result)
        return result

    def schedule(self, count: int) -> list[str]:
        """`count` kinds: shuffled passes over every kind, so each one is played."""
        kinds: list[str] = []
        while len(kinds) < count:
            batch = list(KINDS)
            self.random.shuffle(batch)
            kinds += batch
        return kinds[:count]

    # -- what must hold -------------------------------------------------------------------

    def lost(self, acknowledged: dict[str, str]) -> list[str]:
        """Acknowledged writes that Redis does not have (Dapr keeps key k of app a as `a||k`)."""
        app_id = store_app_id(self.root)
        import redis

        port = self.snap()["units"]["redis"]["ports"]["main"]
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
        keys = sorted(acknowledged)
        missing = []
        for start in range(0, len(keys), 500):
            batch = keys[start:start + 500]
            pipe = client.pipeline(transaction=False)
            for key in batch:
                pipe.hget(f"{app_id}||{key}", "data")
            for key, raw in zip(batch, pipe.execute()):
                if raw is None or json.loads(raw) != acknowledged[key]:
                    missing.append(key)
        return missing

    def leftovers(self) -> list[str]:
        """What of this stack is still there: processes, containers, listening ports."""
        from aura_dev.engine.runstate import same_process
        from support.sockets import listeners

        left = [f"pid {pid}" for pid, created in self.seen_pids if same_process(pid, created)]
        left += [f"port {port} (pid {pid})" for _ip, port, pid in listeners(self.seen_ports)]
        for proc in psutil.process_iter(["cmdline"]):
            try:
                if str(self.root) in " ".join(proc.info["cmdline"] or []) and proc.pid != os.getpid():
                    left.append(f"pid {proc.pid} ({' '.join(proc.info['cmdline'])[:80]})")
            except psutil.Error:
                continue
        if self.docker_client is not None:
            left += [f"container {c.name}" for c in self.docker_client.containers.list(all=True)
                     if c.id in self.seen_containers or c.labels.get("dev.aura.workspace") == self.key]
        return left
