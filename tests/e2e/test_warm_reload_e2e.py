"""Warm reloads on the real stack: a Python app reloads from a standby interpreter that
has already imported its third-party modules, and falls back to a cold start whenever the
standby could be stale or the app does not boot from one."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from conftest import run_aura
from support.stack import running, stack_status, wait_for

pytestmark = pytest.mark.e2e

# A stdlib app (fast to boot) that answers with what `helper.GREETING` and, if installed,
# the fake third-party package `fakepkg` say.
APP = """\
import http.server, os
import helper
try:
    import fakepkg
    EXTRA = " " + fakepkg.VALUE
except ImportError:
    EXTRA = ""
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (helper.GREETING + EXTRA).encode()
        self.send_response(200); self.send_header("content-length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["APP_PORT"])), Handler).serve_forever()
"""
THREAD_AT_IMPORT = "import threading, time\nthreading.Thread(target=time.sleep, args=(3600,), daemon=True).start()\n"
VENV_PYTHON = "[../venv/bin/python, -u, app.py]"
PICKY = 'import sys, mainonly\nif not mainonly.IN_MAIN:\n    sys.exit("mainonly was imported by another thread")\nGREETING = "%s"\n'


def make_service(root: Path, name: str, greeting: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "app.py").write_text(APP)
    (folder / "helper.py").write_text(f'GREETING = "{greeting}"\n')
    return folder


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, runtime: Any) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("warm") / "ws"
    for name in ("warm", "pkg", "threaded", "plain", "picky"):
        make_service(root, name, f"{name} v1")
    # A venv of its own, with a fake third-party package "installed" (a module in its site-packages).
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    (site_packages(root / "venv") / "fakepkg.py").write_text('VALUE = "fake 1"\n')
    (root / "pkg" / "requirements.txt").write_text("fakepkg\n")
    # A third-party package that starts a thread when imported: no standby for its user.
    (site_packages(root / "venv") / "threadpkg.py").write_text(THREAD_AT_IMPORT)
    (root / "threaded" / "helper.py").write_text('import threadpkg\nGREETING = "threaded v1"\n')
    # One that only works when imported by the main thread (the standby imports in another).
    (site_packages(root / "venv") / "mainonly.py").write_text(
        "import threading\nIN_MAIN = threading.current_thread() is threading.main_thread()\n")
    (root / "picky" / "helper.py").write_text(PICKY % "picky v1")
    unique = f"wr{time.time_ns() % 10**8}"  # app ids nobody else's stack uses (mDNS cross-talk)
    (root / "aura.yaml").write_text(textwrap.dedent(f"""\
        name: warm
        infra: {{backend: native}}
        services:
          warm: {{path: warm, command: [python3, app.py], healthCheck: /, dapr: {{appId: {unique}-warm}}}}
          pkg: {{path: pkg, command: {VENV_PYTHON}, healthCheck: /, dapr: {{enabled: false}}}}
          threaded: {{path: threaded, command: {VENV_PYTHON}, healthCheck: /, dapr: {{enabled: false}}}}
          picky: {{path: picky, command: {VENV_PYTHON}, healthCheck: /, dapr: {{enabled: false}}}}
          plain: {{path: plain, command: [python3, app.py], healthCheck: /, dapr: {{enabled: false}},
                 reload: {{warm: false}}}}
        """))
    with running(root):
        yield root
        standbys = [pid for name in ("warm", "pkg", "plain") if (pid := standby_of(root, name))]
    assert standbys and not [pid for pid in standbys if psutil.pid_exists(pid)
                             and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]  # down ended them


def get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()  # type: ignore[no-any-return]
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def answer(root: Path, service: str) -> str | None:
    snapshot = stack_status(root)
    if service == "warm":
        port = snapshot["services"]["warm"]["daprHttpPort"]
        app_id = snapshot["services"]["warm"]["appId"]
        return get(f"http://127.0.0.1:{port}/v1.0/invoke/{app_id}/method/hello")
    return get(f"http://127.0.0.1:{snapshot['services'][service]['appPort']}/")


def standby_of(root: Path, service: str) -> int | None:
    """The pid of the service's standby once it has preloaded (its manifest written since it
    started), not counting the app it already runs."""
    app = stack_status(root)["units"][service].get("pid")
    manifest = root / ".aura" / "standby" / f"{service}.standby.json"
    for proc in psutil.process_iter(["pid", "cmdline", "create_time"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["pid"] != app and "standby" in cmdline and str(manifest) in cmdline:
            if manifest.exists() and manifest.stat().st_mtime >= proc.info["create_time"]:
                return int(proc.info["pid"])
    return None


def logs(root: Path, service: str, pattern: str) -> list[str]:
    lines = run_aura("dev", "logs", service, "-w", str(root), "-n", "5000").stdout.splitlines()
    return [line for line in lines if pattern in line]


def reload_and_wait(root: Path, service: str, edit: Any, expected: str) -> None:
    """Edit, then wait for an answer that starts with `expected`."""
    edit()
    wait_for(lambda: (answer(root, service) or "").startswith(expected), timeout=60,
             what=f"{service} to answer {expected!r}")


def test_a_reload_runs_in_the_standby_and_the_sidecar_stays(stack: Path) -> None:
    standby = wait_for(lambda: standby_of(stack, "warm"), timeout=120, what="the standby of warm")
    before = stack_status(stack)["units"]
    # Prepared once the whole stack was up: `aura dev up` does not share the machine with it.
    assert psutil.Process(standby).create_time() >= max(unit["since"] for unit in before.values())
    assert answer(stack, "warm") == "warm v1"
    # A module of the service folder that the last run imported is imported fresh.
    reload_and_wait(stack, "warm", lambda: (stack / "warm" / "helper.py").write_text('GREETING = "warm v2"\n'),
                    "warm v2")
    after = stack_status(stack)["units"]
    assert after["warm"]["pid"] == standby  # the standby became the app: same unit, its pid
    assert after["warm·dapr"]["pid"] == before["warm·dapr"]["pid"]
    assert any(f"warm start: the standby (pid {standby})" in line for line in logs(stack, "warm", "warm start"))
    # Its output reaches the unit's log like a cold start's: the app's stderr line is there.
    (stack / "warm" / "helper.py").write_text('import sys\nprint("hello from v3", file=sys.stderr)\nGREETING = "warm v3"\n')
    wait_for(lambda: standby_of(stack, "warm") or answer(stack, "warm") == "warm v3", timeout=120,
             what="the next standby or the reload")
    wait_for(lambda: answer(stack, "warm") == "warm v3", timeout=60, what="v3")
    wait_for(lambda: logs(stack, "warm", "hello from v3"), timeout=10, what="the app's line in its log")


def test_a_burst_of_saves_ends_with_the_last_content(stack: Path) -> None:
    wait_for(lambda: standby_of(stack, "warm"), timeout=120, what="the standby of warm")
    for index in range(10):
        (stack / "warm" / "helper.py").write_text(f'GREETING = "burst {index}"\n')
        time.sleep(0.05)
    wait_for(lambda: answer(stack, "warm") == "burst 9", timeout=60, what="the last save")
    time.sleep(1.0)
    assert answer(stack, "warm") == "burst 9"
    assert stack_status(stack)["units"]["warm"]["state"] == "ready"


def test_a_changed_third_party_file_forces_a_cold_start(stack: Path) -> None:
    wait_for(lambda: standby_of(stack, "pkg"), timeout=120, what="the standby of pkg")
    assert answer(stack, "pkg") == "pkg v1 fake 1"
    fake = site_packages(stack / "venv") / "fakepkg.py"
    fake.write_text('VALUE = "fake 2"\n')
    reload_and_wait(stack, "pkg", lambda: (stack / "pkg" / "helper.py").write_text('GREETING = "pkg v2"\n'),
                    "pkg v2 fake 2")  # the standby had "fake 1" loaded: serving this means it was not used
    assert any("cold start:" in line and "fakepkg.py changed" in line for line in logs(stack, "pkg", "cold start"))


def test_a_changed_requirements_file_forces_a_cold_start(stack: Path) -> None:
    standby = wait_for(lambda: standby_of(stack, "pkg"), timeout=120, what="the standby of pkg")
    (stack / "pkg" / "requirements.txt").write_text("fakepkg==2\n")
    wait_for(lambda: logs(stack, "pkg", "a requirements, pyproject or lock file changed"), timeout=60,
             what="the cold start")
    wait_for(lambda: stack_status(stack)["units"]["pkg"]["state"] == "ready", timeout=60, what="pkg ready")
    assert stack_status(stack)["units"]["pkg"]["pid"] != standby
    assert not psutil.pid_exists(standby) or psutil.Process(standby).status() == psutil.STATUS_ZOMBIE


def test_an_import_time_thread_means_cold_reloads_said_once(stack: Path) -> None:
    said = "no warm reloads for this app (a thread started at import"
    wait_for(lambda: logs(stack, "threaded", said), timeout=120, what="the refusal")
    for version in ("v2", "v3"):
        reload_and_wait(stack, "threaded", lambda: (stack / "threaded" / "helper.py").write_text(
            f'import threadpkg\nGREETING = "threaded {version}"\n'), f"threaded {version}")
    time.sleep(1.0)
    assert len(logs(stack, "threaded", said)) == 1
    assert not logs(stack, "threaded", "warm start")


def test_an_app_that_fails_from_its_standby_but_boots_cold_gets_cold_reloads_said_once(stack: Path) -> None:
    said = "no warm reloads for this app (it failed to boot from its standby, and boots cold)"
    for version in range(2, 5):  # a standby made stale by an earlier test (fakepkg) gives a cold start first
        wait_for(lambda: standby_of(stack, "picky"), timeout=120, what="the standby of picky")
        reload_and_wait(stack, "picky", lambda: (stack / "picky" / "helper.py").write_text(
            PICKY % f"picky v{version}"), f"picky v{version}")
        deadline = time.monotonic() + 5  # the notice comes with "ready", a moment after the first answer
        while not logs(stack, "picky", said) and time.monotonic() < deadline:
            time.sleep(0.2)
        if logs(stack, "picky", said):
            break
    assert logs(stack, "picky", "mainonly was imported by another thread")  # why, in its own log
    warm_starts = len(logs(stack, "picky", "warm start"))
    reload_and_wait(stack, "picky", lambda: (stack / "picky" / "helper.py").write_text(PICKY % "picky v9"), "picky v9")
    time.sleep(1.5)
    assert len(logs(stack, "picky", said)) == 1
    assert len(logs(stack, "picky", "warm start")) == warm_starts  # cold from then on
    assert standby_of(stack, "picky") is None


def test_warm_false_runs_the_command_as_written_and_keeps_no_standby(stack: Path) -> None:
    pid = stack_status(stack)["units"]["plain"]["pid"]
    assert "standby_boot" not in " ".join(psutil.Process(pid).cmdline())
    reload_and_wait(stack, "plain", lambda: (stack / "plain" / "helper.py").write_text('GREETING = "plain v2"\n'), "plain v2")
    time.sleep(1.5)
    assert standby_of(stack, "plain") is None
    assert not (stack / ".aura" / "standby" / "plain.standby.json").exists()
    assert not logs(stack, "plain", "warm start")


def test_a_module_of_the_service_folder_that_shadows_a_preloaded_one_forces_a_cold_start(stack: Path) -> None:
    wait_for(lambda: standby_of(stack, "pkg"), timeout=120, what="the standby of pkg")
    # The standby has site-packages' fakepkg loaded; the app must now import this one.
    reload_and_wait(stack, "pkg", lambda: (stack / "pkg" / "fakepkg.py").write_text('VALUE = "shadow"\n'),
                    "pkg v2 shadow")
    assert logs(stack, "pkg", "cold start: fakepkg in the service folder now shadows the preloaded module")


def test_an_edited_env_in_aura_yaml_forces_a_cold_start(stack: Path) -> None:
    wait_for(lambda: standby_of(stack, "warm"), timeout=120, what="the standby of warm")
    config = stack / "aura.yaml"
    config.write_text(config.read_text().replace("healthCheck: /, dapr: {appId:", "healthCheck: /, env: {X: '1'}, "
                                                 "dapr: {appId:", 1))
    wait_for(lambda: logs(stack, "warm", "cold start: its command or environment changed"), timeout=60,
             what="the cold start")
    wait_for(lambda: stack_status(stack)["units"]["warm"]["state"] == "ready", timeout=60, what="warm ready")
