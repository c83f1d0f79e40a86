"""Who may talk to the dashboard.  It can stop the stack and shows the apps' environment,
so every request must prove three things:

1. It was addressed to us: the Host header is 127.0.0.1:<port> or localhost:<port>.  A page
   on another site that rebinds its DNS name to 127.0.0.1 sends its own name and is refused.
2. It comes from whoever was given this run's token: in the URL `up` prints (exchanged for
   an HttpOnly, SameSite=Strict cookie and dropped from the address bar, as Jupyter does),
   in that cookie, or in an `X-Aura-Token` header (scripts).  Any other local user reaches
   127.0.0.1 too; the token file is readable by the stack's owner only.
3. A state-changing request (anything but GET/HEAD) also comes from our own pages: its Origin
   (or, without one, its Referer) is this very origin.

A pure ASGI middleware: the decision is `decide()`, a function of the request alone.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from aura_dev.dashboard.access import TOKEN_PARAM, cookie_name

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD"})
TOKEN_HEADER = "x-aura-token"
SECURITY_HEADERS = [
    # Everything the pages use is served here: no CDN, no inline script, no framing.
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                 b"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                                 b"base-uri 'none'; form-action 'self'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


@dataclass(frozen=True)
class Decision:
    status: int  # 0: let it through
    reason: str = ""
    set_cookie: bool = False
    redirect: str | None = None


ALLOW = Decision(0)


@dataclass(frozen=True)
class Access:
    port: int
    token: str

    @property
    def hosts(self) -> frozenset[str]:
        return frozenset({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(f"http://{host}" for host in self.hosts)

    def matches(self, value: str | None) -> bool:
        return value is not None and hmac.compare_digest(value.encode(), self.token.encode())


def decide(access: Access, method: str, path: str, query: str, headers: dict[str, str]) -> Decision:
    if headers.get("host", "").lower() not in access.hosts:
        return Decision(403, "refused: the Host header is not this dashboard's loopback address "
                             f"(use http://127.0.0.1:{access.port}/)")
    params = parse_qs(query, keep_blank_values=True)
    given = params.get(TOKEN_PARAM, [None])[-1]
    if given is not None:
        if not access.matches(given):
            return Decision(403, "refused: this token is not the one of the running stack "
                                 "(`aura dev dashboard` prints the current link)")
        if method in SAFE_METHODS and not path.startswith("/api/"):
            rest = urlencode([(k, v) for k, values in params.items() if k != TOKEN_PARAM for v in values], doseq=True)
            return Decision(303, set_cookie=True, redirect=path + (f"?{rest}" if rest else ""))
    elif not (access.matches(_cookie(headers, cookie_name(access.port))) or access.matches(headers.get(TOKEN_HEADER))):
        return Decision(401, "refused: no valid token; open the link `aura dev dashboard` prints")
    if method not in SAFE_METHODS and _origin(headers) not in access.origins:
        return Decision(403, "refused: a state-changing request must come from the dashboard's own pages")
    return ALLOW


def _cookie(headers: dict[str, str], name: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is simply no cookie
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def _origin(headers: dict[str, str]) -> str | None:
    origin = headers.get("origin")
    if origin and origin != "null":
        return origin.lower()
    referer = headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}".lower()
    return None


class Guard:
    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        decision = decide(self.access, scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"),
                          headers)
        if decision.status:
            await self._answer(send, decision)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _answer(self, send: Send, decision: Decision) -> None:
        headers = list(SECURITY_HEADERS)
        body = decision.reason.encode()
        if decision.redirect is not None:
            headers.append((b"location", decision.redirect.encode()))
        if decision.set_cookie:
            cookie = f"{cookie_name(self.access.port)}={self.access.token}; Path=/; HttpOnly; SameSite=Strict"
            headers.append((b"set-cookie", cookie.encode()))
        headers += [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": decision.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
