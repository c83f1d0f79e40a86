"""The dashboard's Starlette application: its pages (from `pages.PAGES`), the JSON API,
the event stream and the static assets, behind the `Guard`.  Everything it reads comes
from the engine's public surface — the snapshot, the events hub, the log store, the
service details — and every action goes through `Orchestrator.handle_control`, the same
typed path as `aura dev restart|stop|start|down`."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from aura_dev import __version__
from aura_dev.dashboard.dapr_view import dapr_view
from aura_dev.dashboard.guard import Access, Guard
from aura_dev.dashboard.lines import BrowserLine, stored_line, unit_wanted
from aura_dev.dashboard.pages import PAGES, SERVICE_PANELS, Page
from aura_dev.dashboard.stream import Broadcaster, Client, Subscription, unit_json
from aura_dev.dashboard.traces_api import trace_routes
from aura_dev.engine.control import BadRequest, ControlReply, ControlRequest
from aura_dev.engine.orchestrator import Orchestrator
from aura_dev.engine.service_view import service_details
from aura_dev.engine.snapshot import StackSnapshot
from aura_dev.errors import AuraError
from aura_dev.logs.filters import BadFilter, build_log_filter
from aura_dev.logs.query import query
from aura_dev.logs.record import Source

HERE = Path(__file__).parent
DEFAULT_TAIL = 500
MAX_TAIL = 5000
MAX_ACTION_BYTES = 16 * 1024


@dataclass
class Dashboard:
    orch: Orchestrator
    access: Access
    broadcaster: Broadcaster

    @property
    def logs_root(self) -> Path:
        return self.orch.ws.state_dir / "logs"


def stack_payload(snap: StackSnapshot) -> dict[str, Any]:
    return {
        "name": snap.name, "workspace": snap.workspace, "file": snap.file, "backend": snap.backend,
        "runtimeVersion": snap.runtime_version, "startedAt": snap.started_at, "settled": snap.settled,
        "supervisorPid": snap.supervisor_pid, "version": __version__,
        "units": {label: unit_json(label, record) for label, record in snap.units.items()},
        "services": {name: service.to_json() for name, service in snap.services.items()},
    }


def subscription(params: Any, lines: bool) -> tuple[Subscription, int]:
    """A page's filters, exactly as `aura dev logs` takes them; (subscription, history lines)."""
    units = frozenset(tuple(u.split("/", 1)) for u in params.getlist("unit") if "/" in u)
    services = set(params.getlist("service")) | {service for service, _source in units}
    flt = build_log_filter(services=services, sources=params.getlist("source"), level=params.get("level") or None,
                           grep=params.get("grep") or None, ignore_case=params.get("i") in ("1", "true"),
                           since=params.get("since") or None)
    try:
        tail = max(0, min(MAX_TAIL, int(params.get("tail", DEFAULT_TAIL))))
    except ValueError:
        raise BadFilter("tail must be a number of lines") from None
    return Subscription(lines=lines, flt=flt, units=frozenset((s, src) for s, src in units)), tail


def history(root: Path, sub: Subscription, tail: int, before_us: int) -> list[BrowserLine]:
    """The store's last `tail` lines through the page's filter, up to the moment its live
    stream began (lines after it come through the stream: none twice, none missing)."""
    if not tail or sub.flt is None:
        return []
    out: list[BrowserLine] = []
    for line in query(root, sub.flt, tail):
        if line.ts >= before_us:
            continue
        shown = stored_line(line)
        if shown is not None and unit_wanted(sub.units, line.owner, Source(str(shown[2]))):
            out.append(shown)
    return out


def sse(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


def build_app(dash: Dashboard) -> Any:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    orch = dash.orch

    def page_view(page: Page) -> Any:
        async def view(request: Request) -> Response:
            name = request.path_params.get("name")
            if name is not None and name not in orch.services:
                return Response(f"no service named {name!r} in this stack", status_code=404)
            snapshot = json.dumps(stack_payload(orch.snapshot()), ensure_ascii=False).replace("</", "<\\/")
            return templates.TemplateResponse(request, page.template, {
                "page": page, "pages": [p for p in PAGES if p.in_nav], "panels": SERVICE_PANELS,
                "service": name, "stack_name": orch.ws.name, "snapshot_json": snapshot})
        return view

    async def snapshot(_request: Request) -> Response:
        return JSONResponse(stack_payload(orch.snapshot()))

    async def events(request: Request) -> Response:
        try:
            sub, tail = subscription(request.query_params, lines=request.query_params.get("lines") == "1")
        except BadFilter as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        async def body() -> AsyncIterator[bytes]:
            # Opened here, not before: a page that leaves before its stream starts leaves nothing behind.
            client = dash.broadcaster.open(sub)
            orch.hub.flush()  # what came before this moment is in the store, for the history below
            began_us = int(time.time() * 1_000_000)
            try:
                yield sse("hello", {"at": began_us / 1e6, "lines": sub.lines})
                if sub.lines:
                    lines = await asyncio.to_thread(history, dash.logs_root, sub, tail, began_us)
                    yield sse(*client.lines_message(lines, history=True))
                async for batch in client.messages():
                    yield b"".join(sse(name, data) for name, data in batch) if batch else b": awake\n\n"
            finally:
                dash.broadcaster.close(client)

        return StreamingResponse(body(), media_type="text/event-stream", headers={"x-accel-buffering": "no"})

    async def logs(request: Request) -> Response:
        try:
            sub, tail = subscription(request.query_params, lines=True)
        except BadFilter as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        orch.hub.flush()
        lines = await asyncio.to_thread(history, dash.logs_root, sub, tail, int(time.time() * 1_000_000) + 1)
        _name, data = Client(sub).lines_message(lines)  # the stream's message format, without a stream
        return JSONResponse(data)

    async def actions(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_ACTION_BYTES:
            return JSONResponse({"ok": False, "error": "request too large"}, status_code=413)
        try:
            control = ControlRequest.from_json(json.loads(raw or b"{}"))
        except (BadRequest, ValueError) as exc:
            return JSONResponse({"ok": False, "error": f"bad request: {exc}"}, status_code=400)
        try:
            reply = await orch.handle_control(control)
        except AuraError as exc:
            reply = ControlReply.failure(exc)
        return JSONResponse({"request": control.to_json(), **reply.to_json()}, status_code=200 if reply.ok else 409)

    async def dapr(request: Request) -> Response:
        details = service_details(orch, request.path_params["name"])
        if details is None:
            return JSONResponse({"error": f"no service named {request.path_params['name']!r}"}, status_code=404)
        return JSONResponse(await dapr_view(details))

    routes: list[BaseRoute] = [Route(p.route, page_view(p), name=p.name) for p in PAGES]
    routes += [
        Route("/api/snapshot", snapshot),
        Route("/api/events", events),
        Route("/api/logs", logs),
        Route("/api/actions", actions, methods=["POST"]),
        Route("/api/services/{name}/dapr", dapr),
        *trace_routes(orch),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    return Guard(Starlette(routes=routes), dash.access)
