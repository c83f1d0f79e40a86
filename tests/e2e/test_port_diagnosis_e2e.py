"""An app that is alive but does not open its app port is named within seconds, while aura
still waits for it, with what it listens on instead — through the real `aura dev up`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import aura_bin, run_aura
from support.stack import wait_for

pytestmark = pytest.mark.e2e

TIMEOUT = 60  # aura's default readiness timeout: the findings must come long before it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def details(root: Path) -> dict[str, tuple[str, str]]:
    done = run_aura("dev", "status", "--json", "-w", str(root))
    units = json.loads(done.stdout).get("units", {}) if done.returncode == 0 and done.stdout else {}
    return {label: (unit["state"], unit.get("detail") or "") for label, unit in units.items()}


def test_a_worker_and_a_mis_bound_app_are_named_while_aura_waits(tmp_path: Path) -> None:
    elsewhere = free_port()
    for folder in ("spam-a", "conversation", "web", "worker"):
        (tmp_path / folder).mkdir()
    (tmp_path / "aura.yaml").write_text(textwrap.dedent(f"""\
        name: diagnosis
        infra: {{redis: {{enabled: false}}, placement: {{enabled: false}}, scheduler: {{enabled: false}}}}
        services:
          spam-a:          # a worker that forgot `appPort: null`
            path: spam-a
            command: [python, -c, "import time; time.sleep(600)"]
            dapr: {{enabled: false}}
          conversation:    # serves, but on a port of its own choosing
            path: conversation
            command: [python, -m, http.server, "{elsewhere}", --bind, 127.0.0.1]
            dapr: {{enabled: false}}
          web:             # on its port, but its health route answers 404
            path: web
            command: [python, -m, http.server, "{{port}}", --bind, 127.0.0.1]
            healthCheck: /healthz
            dapr: {{enabled: false}}
          worker:          # a declared worker: ready, nothing to say
            path: worker
            command: [python, -c, "import time; time.sleep(600)"]
            appPort: null
            dapr: {{enabled: false}}
        """))
    env = {**os.environ, "NO_COLOR": "1"}
    up = subprocess.Popen([aura_bin(), "dev", "up", "--timeout", str(TIMEOUT), "-w", str(tmp_path)], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        expected = {
            "spam-a": "spam-a listens on no port: if it is a worker, set `appPort: null`",
            "conversation": f"conversation listens on 127.0.0.1:{elsewhere}, not on its app port {{port}}: "
                            f"use `{{{{port}}}}` or `$APP_PORT`, or set `appPort: {elsewhere}`",
            "web": "web answers 404 to GET /healthz on its app port {port}: fix that route, or set `healthCheck: tcp`",
        }

        def all_named() -> dict[str, tuple[str, str]] | None:
            found = details(tmp_path)
            return found if all(found.get(name, ("", ""))[1] for name in expected) else None

        # Named while still starting: long before the timeout would have said anything.
        found = wait_for(all_named, timeout=TIMEOUT / 2, interval=0.25, what="the findings")
        snapshot = json.loads(run_aura("dev", "status", "--json", "-w", str(tmp_path)).stdout)
        for name, text in expected.items():
            port = snapshot["services"][name]["url"].rsplit(":", 1)[1]
            assert found[name] == ("starting", text.format(port=port)), found[name]
        assert found["worker"][0] == "ready"
        said = run_aura("dev", "logs", "spam-a", "conversation", "web", "-w", str(tmp_path)).stdout
        assert f"not ready after 3 s: {expected['spam-a']} (still waiting, up to {TIMEOUT} s)" in said
        assert said.count("listens on") == 2 and said.count("answers 404") == 1  # once each, not every probe
        assert "not ready" not in run_aura("dev", "logs", "worker", "-w", str(tmp_path)).stdout
    finally:
        os.killpg(up.pid, signal.SIGINT)
        up.wait(timeout=60)


def test_the_timeout_names_the_finding(tmp_path: Path) -> None:
    (tmp_path / "spam-a").mkdir()
    (tmp_path / "aura.yaml").write_text(textwrap.dedent("""\
        name: diagnosis-timeout
        infra: {redis: {enabled: false}, placement: {enabled: false}, scheduler: {enabled: false}}
        services:
          spam-a:
            path: spam-a
            command: [python, -c, "import time; time.sleep(600)"]
            dapr: {enabled: false}
        """))
    up = run_aura("dev", "up", "--detach", "--timeout", "5", "-w", str(tmp_path), timeout=120)
    try:
        assert up.returncode == 1
        state: Any = details(tmp_path)["spam-a"]
        assert state == ("failed", "not ready after 5 s: spam-a listens on no port: if it is a worker, "
                                   "set `appPort: null`")
    finally:
        run_aura("dev", "down", "-w", str(tmp_path))
