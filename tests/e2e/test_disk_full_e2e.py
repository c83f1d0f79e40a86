"""The disk fills up under a running stack: its log folder is a 1 MB tmpfs and a chatty
service fills it.  The stack keeps running and answering, the console says so once (with
the folder and the free space), writing resumes when space returns, and aura stops cleanly
at the end."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from conftest import aura_bin, run_aura
from support.stack import TINY_APP, state, tiny_workspace, wait_for
from support.tmpfs import remount, small_tmpfs

pytestmark = pytest.mark.e2e

CHATTY = """\
import itertools, sys, threading, time
def chatter():
    for i in itertools.count():  # a burst of 3 MB, then a line every 50 ms
        sys.stdout.write(f"chatty line {i:06d} " + "x" * 480 + "\\n")
        sys.stdout.flush()
        time.sleep(0 if i < 6000 else 0.05)
threading.Thread(target=chatter, daemon=True).start()
""" + TINY_APP


class Output:
    """What the foreground `aura dev up` prints, read as it comes."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.text = ""
        self._lock = threading.Lock()
        assert proc.stdout is not None
        stream = proc.stdout
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for raw in iter(lambda: stream.read1(1 << 16), b""):
            with self._lock:
                self.text += raw.decode(errors="replace")

    def has(self, text: str) -> bool:
        with self._lock:
            return text in self.text

    def count(self, text: str) -> int:
        with self._lock:
            return self.text.count(text)


def test_a_full_log_disk_never_stops_the_stack(tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    root = tiny_workspace(tmp_path / "ws", {"chatty": []})
    (root / "chatty" / "app.py").write_text(CHATTY)
    logs = root / ".aura" / "logs"
    with small_tmpfs(logs, size="1m"):
        proc = subprocess.Popen([aura_bin(), "dev", "up", "--no-reload", "-w", str(root)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=dict(os.environ, NO_COLOR="1"), start_new_session=True)
        output = Output(proc)
        try:
            wait_for(lambda: output.has("cannot write the logs to"), timeout=120, what="the console to say so")
            snap = wait_for(lambda: (lambda s: s if s and s.get("settled") else None)(state(root)), timeout=60)
            told = output.text[output.text.index("cannot write the logs to"):].splitlines()[0]
            assert str(logs) in told and "No space left on device" in told and " free)" in told, told

            # The stack runs on: the app answers, status and logs (what was kept) work.
            with urllib.request.urlopen(snap["services"]["chatty"]["url"], timeout=10) as response:
                assert response.read() == b"chatty hi"
            assert run_aura("dev", "status", "-w", str(root)).returncode == 0
            assert "chatty line" in run_aura("dev", "logs", "chatty", "-n", "3", "-w", str(root)).stdout
            assert proc.poll() is None

            remount(logs, "size=64m")  # space returns
            wait_for(lambda: output.has("writing the logs to"), timeout=30, what="writing to resume")
            assert output.count("cannot write the logs to") == 1  # said once, however many writes failed
            kept = run_aura("dev", "logs", "-w", str(root), "--grep", "lines in between were not kept").stdout
            assert "lines in between were not kept" in kept  # written by the store itself: it writes again
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            code = proc.wait(60)
            output._thread.join(10)
    assert code == 0, output.text[-3000:]
    assert "stopped; nothing left running" in output.text
    assert "Traceback" not in output.text
    assert state(root) is None
