"""The control socket: typed requests validated at the socket; whatever a client sends, the
supervisor answers with an error or a result and keeps serving; the socket is private."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path

import pytest

from aura_dev.engine import control
from aura_dev.engine.control import BadRequest, ControlReply, ControlRequest, Operation, Which
from aura_dev.errors import UnknownService


@pytest.mark.parametrize("data,message", [
    ([], "a JSON object"),
    ({"op": "explode"}, "unknown request 'explode'"),
    ({"op": "restart"}, "restart needs at least one service"),
    ({"op": "restart", "services": "a"}, "services must be a list"),
    ({"op": "restart", "services": [1]}, "services must be a list"),
    ({"op": "stop", "services": ["a"], "which": "both"}, "which must be one of all, app, sidecar"),
])
def test_bad_requests_are_refused_with_a_reason(data: object, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        ControlRequest.from_json(data)


def test_requests_and_replies_round_trip() -> None:
    request = ControlRequest(Operation.RESTART, ("a", "b"), Which.SIDECAR)
    assert ControlRequest.from_json(json.loads(json.dumps(request.to_json()))) == request
    reply = ControlReply(ok=True, seconds=1.5, states={"a": True})
    assert ControlReply.from_json(json.loads(json.dumps(reply.to_json()))) == reply


async def _exchange(path: Path, payload: bytes, *, close_write: bool = True) -> dict[str, object]:
    reader, writer = await asyncio.open_unix_connection(str(path))
    writer.write(payload)
    await writer.drain()
    if close_write:
        writer.write_eof()
    line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    return json.loads(line) if line else {}


def test_the_server_answers_anything_and_keeps_serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "REQUEST_READ_SECONDS", 0.3)
    seen: list[ControlRequest] = []

    async def handler(request: ControlRequest) -> ControlReply:
        seen.append(request)
        if request.services == ("ghost",):
            raise UnknownService("not running: ghost", hint="running services: a")
        return ControlReply(ok=True, states={name: True for name in request.services})

    async def scenario() -> list[dict[str, object]]:
        path = tmp_path / "control.sock"
        before = os.umask(0o022)
        try:
            server = await control.serve(path, handler)
            assert os.umask(0o022) == 0o022  # the narrowed umask was only for the bind
        finally:
            os.umask(before)
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, oct(mode)
        replies = [
            await _exchange(path, b"this is not json\n"),
            await _exchange(path, b"[1, 2, 3]\n"),
            await _exchange(path, b'{"op": "reboot"}\n'),
            await _exchange(path, b"x" * (control.MAX_REQUEST_BYTES + 10) + b"\n"),
            await _exchange(path, b"", close_write=False),  # says nothing: let go after the timeout
            await _exchange(path, b'{"op": "restart", "services": ["ghost"]}\n'),
            await _exchange(path, json.dumps(ControlRequest(Operation.STOP, ("a",)).to_json()).encode() + b"\n"),
        ]
        server.close()
        return replies

    replies = asyncio.run(scenario())
    assert [r["ok"] for r in replies] == [False, False, False, False, False, False, True]
    assert "bad request" in str(replies[0]["error"]) and replies[0]["exit"] == 2
    assert "unknown request 'reboot'" in str(replies[2]["error"])
    assert "larger than" in str(replies[3]["error"])
    assert "no request" in str(replies[4]["error"])
    assert replies[5]["error"] == "not running: ghost" and replies[5]["hint"] == "running services: a"
    assert replies[6]["states"] == {"a": True}
    assert [r.services for r in seen] == [("ghost",), ("a",)]  # only valid requests reach the handler
