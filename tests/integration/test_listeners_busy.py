"""`units.listeners.busy` on real processes: an app still working (importing, computing)
is not taken for a worker that idles without a port."""

from __future__ import annotations

import subprocess
import sys

from aura_dev.units.listeners import busy


def test_a_process_in_a_busy_loop_is_busy() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        assert busy(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def test_a_busy_child_makes_its_parent_busy() -> None:
    proc = subprocess.Popen(["sh", "-c", f"{sys.executable} -c 'while True: pass' & wait"])
    try:
        import time

        time.sleep(0.5)  # the child is running its loop
        assert busy(proc.pid)
    finally:
        subprocess.run(["pkill", "-P", str(proc.pid)])
        proc.kill()
        proc.wait()


def test_a_sleeping_process_is_not_busy() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import time

        time.sleep(0.5)  # past the interpreter's own start
        assert not busy(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def test_a_gone_process_is_not_busy() -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert not busy(proc.pid)
