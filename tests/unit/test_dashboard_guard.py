"""The dashboard's guard refuses every request it must (each refusal on its own), lets the
dashboard's own pages through, and trades the URL's token for a private cookie."""

from __future__ import annotations

import asyncio
from typing import Any

from aura_dev.dashboard.access import cookie_name, login_url
from aura_dev.dashboard.guard import Access, Guard, decide

ACCESS = Access(port=26001, token="s3cret-token")
HOST = {"host": "127.0.0.1:26001"}
COOKIE = {"cookie": f"{cookie_name(26001)}=s3cret-token"}
SAME_ORIGIN = {"origin": "http://127.0.0.1:26001"}


def test_the_dashboards_own_requests_pass() -> None:
    assert decide(ACCESS, "GET", "/", "", {**HOST, **COOKIE}).status == 0
    assert decide(ACCESS, "GET", "/api/snapshot", "", {"host": "localhost:26001", "x-aura-token": "s3cret-token"}).status == 0
    assert decide(ACCESS, "POST", "/api/actions", "", {**HOST, **COOKIE, **SAME_ORIGIN}).status == 0
    referer_only = {**HOST, **COOKIE, "referer": "http://127.0.0.1:26001/services/a"}
    assert decide(ACCESS, "POST", "/api/actions", "", referer_only).status == 0


def test_a_foreign_host_header_is_refused_even_with_the_token() -> None:
    # DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own name.
    for host in ("evil.example:26001", "127.0.0.1:26002", "127.0.0.1", "", "0.0.0.0:26001"):
        decision = decide(ACCESS, "GET", "/", "", {"host": host, **COOKIE})
        assert decision.status == 403 and "Host" in decision.reason, host


def test_no_token_or_a_wrong_one_is_refused() -> None:
    assert decide(ACCESS, "GET", "/", "", HOST).status == 401
    assert decide(ACCESS, "GET", "/api/events", "", HOST).status == 401
    assert decide(ACCESS, "GET", "/", "", {**HOST, "cookie": f"{cookie_name(26001)}=guess"}).status == 401
    assert decide(ACCESS, "GET", "/", "", {**HOST, "cookie": f"{cookie_name(26002)}=s3cret-token"}).status == 401
    assert decide(ACCESS, "GET", "/", "", {**HOST, "cookie": "\x00garbage;;=="}).status == 401
    assert decide(ACCESS, "GET", "/", "token=guess", HOST).status == 403


def test_a_state_changing_request_needs_the_token_and_the_same_origin() -> None:
    assert decide(ACCESS, "POST", "/api/actions", "", {**HOST, **SAME_ORIGIN}).status == 401  # no token
    assert decide(ACCESS, "POST", "/api/actions", "", {**HOST, **COOKIE}).status == 403  # no origin at all
    for origin in ("http://evil.example", "http://127.0.0.1:26002", "null", "https://127.0.0.1:26001"):
        decision = decide(ACCESS, "POST", "/api/actions", "", {**HOST, **COOKIE, "origin": origin})
        assert decision.status == 403 and "state-changing" in decision.reason, origin
    evil_referer = {**HOST, **COOKIE, "referer": "http://evil.example/page"}
    assert decide(ACCESS, "POST", "/api/actions", "", evil_referer).status == 403
    token_in_url = decide(ACCESS, "POST", "/api/actions", "token=s3cret-token", HOST)
    assert token_in_url.status == 403  # the token alone does not make a cross-site form post ours


def test_the_token_in_the_url_becomes_an_http_only_cookie_and_leaves_the_address_bar() -> None:
    decision = decide(ACCESS, "GET", "/logs", "token=s3cret-token&grep=x", HOST)
    assert decision.status == 303 and decision.set_cookie and decision.redirect == "/logs?grep=x"
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("a refused or redirected request must not reach the app")

    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"token=s3cret-token",
             "headers": [(b"host", b"127.0.0.1:26001")]}
    asyncio.run(Guard(app, ACCESS)(scope, None, send))  # type: ignore[arg-type]
    headers = dict(sent[0]["headers"])
    assert sent[0]["status"] == 303 and headers[b"location"] == b"/"
    cookie = headers[b"set-cookie"].decode()
    assert cookie.startswith(f"{cookie_name(26001)}=s3cret-token;") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert b"frame-ancestors 'none'" in headers[b"content-security-policy"]
    assert login_url("http://127.0.0.1:26001/", "t") == "http://127.0.0.1:26001/?token=t"
