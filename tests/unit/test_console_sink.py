"""The console sink on a real pipe: writes never block the caller, a reader that falls
behind gets a marked gap instead of stalling the supervisor, a reader that leaves is noticed."""

from __future__ import annotations

import os
import re
import threading

from aura_dev.logs.console_sink import ConsoleSink


def skipped(count: int) -> bytes:
    return f"[{count} lines not shown]\n".encode()


def read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def test_everything_arrives_in_order_when_the_reader_keeps_up() -> None:
    read_end, write_end = os.pipe()
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(read_all(read_end)))
    reader.start()
    sink = ConsoleSink(write_end, on_gone=lambda: None, skipped_line=skipped, max_pending=1 << 20)
    lines = [f"line {i}\n".encode() for i in range(20_000)]
    for line in lines:
        sink.write(line)
    sink.close()
    os.close(write_end)
    reader.join(10)
    os.close(read_end)
    assert received == [b"".join(lines)]


def test_a_stuck_reader_never_blocks_the_writer_and_the_gap_is_marked() -> None:
    read_end, write_end = os.pipe()  # 64 KiB of pipe, then writes would block
    sink = ConsoleSink(write_end, on_gone=lambda: None, skipped_line=skipped, max_pending=256 * 1024)
    chunk = b"x" * 1023 + b"\n"  # one line of 1 KiB
    returned = threading.Event()

    def flood() -> None:
        for _ in range(2_000):  # 2 MiB: far more than the pipe and the queue hold
            sink.write(chunk)
        returned.set()

    threading.Thread(target=flood, daemon=True).start()
    assert returned.wait(10), "write() blocked behind a reader that does not read"
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(read_all(read_end)))
    reader.start()  # the reader wakes up
    sink.drain(10)
    sink.write(b"after the gap\n")
    sink.write(chunk)
    sink.close()
    os.close(write_end)
    reader.join(10)
    os.close(read_end)
    data = received[0]
    shown = data.count(chunk)
    assert 64 <= shown - 1 < 2_000  # what fitted in the pipe and the queue, in full lines
    assert data.endswith(f"[{2_000 - shown + 1} lines not shown]\nafter the gap\n".encode() + chunk)


def test_lines_not_shown_at_the_end_are_still_counted() -> None:
    read_end, write_end = os.pipe()
    sink = ConsoleSink(write_end, on_gone=lambda: None, skipped_line=skipped, max_pending=4096)
    for _ in range(2_000):  # 200 KB; the reader reads nothing until the end (64 KiB of pipe)
        sink.write(b"y" * 99 + b"\n")
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(read_all(read_end)))
    reader.start()
    sink.close()
    os.close(write_end)
    reader.join(10)
    os.close(read_end)
    shown = received[0].count(b"y" * 99 + b"\n")
    # Every line is either shown or counted in a marker; the last marker ends the output.
    # (How the gap splits into markers depends on when the writer thread ran.)
    counted = [int(n) for n in re.findall(rb"\[(\d+) lines not shown\]\n", received[0])]
    assert shown + sum(counted) == 2_000 and shown < 2_000
    assert re.search(rb"\[\d+ lines not shown\]\n\Z", received[0])


def test_a_reader_that_leaves_is_reported_once_and_writes_stop() -> None:
    read_end, write_end = os.pipe()
    gone = threading.Event()
    calls: list[int] = []

    def on_gone() -> None:
        calls.append(1)
        gone.set()

    sink = ConsoleSink(write_end, on_gone=on_gone, skipped_line=skipped)
    sink.write(b"first\n")
    assert os.read(read_end, 100) == b"first\n"
    os.close(read_end)  # `head` exits
    sink.write(b"second\n")
    assert gone.wait(10)
    sink.write(b"third\n")
    sink.close()
    os.close(write_end)
    assert calls == [1] and sink.gone
