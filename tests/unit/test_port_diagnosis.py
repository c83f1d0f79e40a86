"""What aura says about an app that has not opened its app port (pure), and what a process
tree listens on (psutil, on a real child process)."""

from __future__ import annotations

import subprocess
import sys

import psutil

from aura_dev.engine.port_diagnosis import explain
from aura_dev.units.listeners import Listener, listening
from support.stack import wait_for


def test_no_port_suggests_a_worker() -> None:
    assert explain("spam-a", 21803, []) == "spam-a listens on no port: if it is a worker, set `appPort: null`"


def test_another_port_names_it_and_both_fixes() -> None:
    assert explain("conversation", 21803, [Listener("127.0.0.1", 8080)]) == (
        "conversation listens on 127.0.0.1:8080, not on its app port 21803: use `{port}` or `$APP_PORT`, "
        "or set `appPort: 8080`")
    several = explain("api", 21803, [Listener("127.0.0.1", 8080), Listener("0.0.0.0", 9090)])
    assert "listens on 127.0.0.1:8080, 0.0.0.0:9090, not on its app port 21803" in several


def test_the_right_port_on_an_address_loopback_does_not_reach() -> None:
    assert explain("web", 21803, [Listener("::1", 21803)]) == (
        "web listens on [::1]:21803, which 127.0.0.1:21803 does not reach: bind it to 127.0.0.1")
    assert not Listener("::1", 1).reachable_on_loopback and Listener("0.0.0.0", 1).reachable_on_loopback


def test_listening_sees_the_children_of_the_process() -> None:
    # A shell whose child listens: the app's process is often a wrapper (sh -c, npm, uvicorn --reload).
    child = ("import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
             "print(s.getsockname()[1], flush=True); time.sleep(60)")
    shell = subprocess.Popen(["/bin/sh", "-c", f'"{sys.executable}" -c "{child}"'], stdout=subprocess.PIPE, text=True)
    try:
        assert shell.stdout is not None
        port = int(shell.stdout.readline())
        assert wait_for(lambda: listening(shell.pid), timeout=10) == [Listener("127.0.0.1", port)]
    finally:
        for process in [*psutil.Process(shell.pid).children(recursive=True), psutil.Process(shell.pid)]:
            process.kill()  # only what this test started
        shell.wait()
    assert listening(shell.pid) == []  # gone: nothing, no error
