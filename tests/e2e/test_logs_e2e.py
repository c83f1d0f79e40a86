"""The log pipeline through the real `aura`: every line, in order, persisted; odd output;
colours; `aura dev logs -f` across restarts."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import textwrap
import threading
import time
from pathlib import Path

import pytest

from conftest import aura_bin, run_aura
from support.stack import state, wait_for

pytestmark = pytest.mark.e2e

WRITER = textwrap.dedent("""\
    import sys, time
    name, count = sys.argv[1], int(sys.argv[2])
    for i in range(count):
        sys.stdout.write(f"{name} {i:07d} " + "payload " * (i % 7) + "\\n")
        if i % 1000 == 0:
            sys.stderr.write(f"{name} stderr {i}\\n")
    sys.stdout.flush()
    print(f"{name} DONE", flush=True)
    time.sleep(3600)
    """)
ODD = textwrap.dedent("""\
    import sys, time
    out = sys.stdout.buffer
    out.write(b"bad bytes \\xff\\xfe\\x00 end\\n")
    out.write(b"x" * 300000 + b" long line end\\n")
    out.write(b"prompt> "); out.flush()
    time.sleep(2)
    out.write(b"answered\\n"); out.flush()
    time.sleep(3600)
    """)


def workspace(root: Path, services: dict[str, list[str]], extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "writer.py").write_text(WRITER)
    (root / "odd.py").write_text(ODD)
    lines = ["name: logs", "infra:", "  redis: {enabled: false}", "  placement: {enabled: false}",
             "  scheduler: {enabled: false}", "services:"]
    for name, command in services.items():
        lines += [f"  {name}:", "    path: .", f"    command: {json.dumps(command)}", "    appPort: null",
                  "    dapr: {enabled: false}", "    reload: false"]
    (root / "aura.yaml").write_text("\n".join(lines) + "\n" + textwrap.dedent(extra))
    return root


def foreground(root: Path, out: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    merged = dict(os.environ, NO_COLOR="1", **(env or {}))
    with out.open("wb") as sink:
        return subprocess.Popen([aura_bin(), "dev", "up", "-w", str(root)], stdout=sink, stderr=subprocess.STDOUT,
                                env=merged)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)


def test_every_line_in_order_on_screen_and_in_the_store(tmp_path: Path) -> None:
    count = 60_000
    root = workspace(tmp_path / "ws", {f"w{i}": ["python3", "-u", "writer.py", f"w{i}", str(count)] for i in range(3)})
    out = tmp_path / "out.txt"
    proc = foreground(root, out)
    try:
        wait_for(lambda: out.read_bytes().count(b" DONE\n") == 3, timeout=120, what="every writer to finish")
        time.sleep(0.3)  # one flush period
    finally:
        stop(proc)
    shown = out.read_bytes().decode()
    for name in ("w0", "w1", "w2"):
        numbers = [int(m) for m in re.findall(rf"^{name}\s+\| {name} (\d{{7}}) ", shown, re.MULTILINE)]
        assert numbers == list(range(count)), f"{name}: {len(numbers)} lines on screen, or out of order"
        stored = run_aura("dev", "logs", name, "--json", "-w", str(root), timeout=120).stdout.splitlines()
        records = [json.loads(line) for line in stored]
        body = [r["text"] for r in records if r["stream"] == "out" and r["text"].startswith(f"{name} 0")]
        assert [int(t.split()[1]) for t in body] == list(range(count))
        assert sum(1 for r in records if r["stream"] == "err") == count // 1000
        assert all(r["service"] == name and r["source"] == "app" for r in records)


def test_binary_garbage_long_lines_and_a_prompt_without_newline(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", {"odd": ["python3", "-u", "odd.py"]})
    out = tmp_path / "out.txt"
    proc = foreground(root, out)
    try:
        # The unterminated prompt shows up on its own after a short wait, before the answer.
        wait_for(lambda: b"prompt> " in out.read_bytes(), timeout=30, what="the partial line")
        assert b"answered" not in out.read_bytes()
        wait_for(lambda: b"answered" in out.read_bytes(), timeout=30, what="the rest")
    finally:
        stop(proc)
    stored = b"".join(p.read_bytes() for p in sorted((root / ".aura/logs/services/odd").glob("*.log")))
    assert b"\tbad bytes \xff\xfe\x00 end\n" in stored  # byte for byte
    assert b"x" * 300000 + b" long line end\n" in stored
    printed = run_aura("dev", "logs", "odd", "-w", str(root)).stdout
    assert "bad bytes \ufffd\ufffd\x00 end" in printed
    assert "prompt> " in printed and "answered" in printed


def test_output_closed_by_its_reader_stops_the_stack_cleanly(tmp_path: Path) -> None:
    """`aura dev up | head`: when the reader goes, aura stops like on Ctrl-C — no traceback
    per line, nothing left running, every line read so far in the store."""
    root = workspace(tmp_path / "ws", {"w0": ["python3", "-u", "writer.py", "w0", "50000000"]})
    proc = subprocess.Popen([aura_bin(), "dev", "up", "-w", str(root)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ, NO_COLOR="1"))
    assert proc.stdout is not None and proc.stderr is not None
    first = [proc.stdout.readline() for _ in range(3)]
    assert any(b"w0 0000000" in line for line in first), first
    writer_pid = wait_for(lambda: (state(root) or {}).get("units", {}).get("w0", {}).get("pid"), timeout=30,
                          what="the writer's pid")
    proc.stdout.close()  # the reader goes away, as `head` does
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    errors = proc.stderr.read().decode()
    proc.stderr.close()
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors
    with pytest.raises(ProcessLookupError):
        os.kill(writer_pid, 0)
    printed = run_aura("dev", "logs", "-w", str(root), "--grep", "console output closed").stdout
    assert "console output closed: stopping" in printed
    assert run_aura("dev", "logs", "w0", "-w", str(root), "-n", "1").stdout.strip()


def run_in_pty(args: list[str], env: dict[str, str], seconds: float = 20) -> bytes:
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(args[0], args, env)
    output = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            output += data
    os.waitpid(pid, 0)
    return output


def test_colours_on_a_terminal_and_none_with_no_color(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", {"w0": ["python3", "-u", "writer.py", "w0", "10"]})
    out = tmp_path / "out.txt"
    proc = foreground(root, out)
    wait_for(lambda: b"w0 DONE" in out.read_bytes(), timeout=30)
    stop(proc)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm-256color"}
    coloured = run_in_pty([aura_bin(), "dev", "logs", "-w", str(root)], env)
    plain = run_in_pty([aura_bin(), "dev", "logs", "-w", str(root)], env | {"NO_COLOR": "1"})
    assert b"w0 0000009" in coloured and b"w0 0000009" in plain
    assert b"\x1b[38;5;" in coloured  # the service's own colour
    assert b"\x1b[" not in plain
    flag = run_in_pty([aura_bin(), "dev", "logs", "--no-color", "-w", str(root)], env)
    assert b"\x1b[" not in flag


def test_follow_across_a_restart_loses_nothing(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", {"ticker": ["python3", "-u", "ticker.py"]},
                     extra="logs: {maxFileSize: 16KiB}\n")
    (root / "ticker.py").write_text(textwrap.dedent("""\
        import time, os
        for i in range(100000):
            print(f"tick {os.getpid()} {i}", flush=True)
            time.sleep(0.005)
        """))
    follower = subprocess.Popen([aura_bin(), "dev", "logs", "-f", "ticker", "--source", "app", "-w", str(root)],
                                stdout=subprocess.PIPE, env=dict(os.environ, NO_COLOR="1"))
    # Read as a terminal would, all along: a pipe left unread fills up (64 KiB, ~2,500 ticks
    # on a loaded machine) and the follower then blocks on its writes, Ctrl-C or not.
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.extend(iter(lambda: follower.stdout.read1(65536), b"")),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    try:
        up = run_aura("dev", "up", "--detach", "-w", str(root), timeout=60)
        assert up.returncode == 0, up.stderr
        time.sleep(1.5)
        first_pid = state(root)["units"]["ticker"]["pid"]
        assert run_aura("dev", "restart", "ticker", "-w", str(root)).returncode == 0
        wait_for(lambda: state(root)["units"]["ticker"].get("pid") not in (None, first_pid), timeout=30)
        time.sleep(1.5)
        second_pid = state(root)["units"]["ticker"]["pid"]
    finally:
        run_aura("dev", "down", "-w", str(root))
        time.sleep(0.5)
        follower.send_signal(signal.SIGINT)
        follower.wait(timeout=30)
        reader.join(30)
        output = b"".join(received).decode()
    ticks: dict[int, list[int]] = {}
    for pid, number in re.findall(r"tick (\d+) (\d+)", output):
        ticks.setdefault(int(pid), []).append(int(number))
    assert set(ticks) == {first_pid, second_pid}, "the follower saw the service that started later, twice"
    for pid, numbers in ticks.items():
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), f"gap or repeat for {pid}"
    assert ticks[second_pid][0] == 0
    segment_count = len(list((root / ".aura/logs/services/ticker").glob("*.log")))
    assert segment_count >= 2, "the test should have crossed a rotation"
