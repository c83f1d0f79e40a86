"""The traces page's JSON: recent traces and one trace's spans from aura's Zipkin, a span's
log lines (its service's lines inside the span, and lines carrying its trace id), Zipkin's
service map, and each service's metrics as the supervisor last scraped them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from aura_dev.dashboard.lines import stored_line
from aura_dev.engine.metrics_scraper import read_metrics
from aura_dev.engine.orchestrator import Orchestrator
from aura_dev.engine.traces import Span, Zipkin, filter_summaries, span_log_lines, span_tree, summarize
from aura_dev.errors import AuraError
from aura_dev.plan.infra import InfraKind

MAX_TRACES = 100


def trace_routes(orch: Orchestrator) -> list[BaseRoute]:
    def zipkin() -> Zipkin | None:
        service = orch.infra.services.get(InfraKind.ZIPKIN)
        return Zipkin(service.ports.main, timeout=3.0) if service is not None else None

    def app_ids() -> dict[str, str]:
        return {run.plan.app_id: name for name, run in orch.services.items() if run.plan.app_id}

    async def ask(request: Request, work: Any) -> Response:
        client = zipkin()
        if client is None:
            return JSONResponse({"error": "this stack runs no Zipkin (see `aura dev doctor`)"}, status_code=404)
        try:
            return JSONResponse(await asyncio.to_thread(work, client))
        except AuraError as exc:
            return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=502)

    async def traces(request: Request) -> Response:
        params = request.query_params
        service = params.get("service") or None
        wanted = {name: app_id for app_id, name in app_ids().items()}.get(service or "", service)
        errors_only = params.get("errors") in ("1", "true")

        def work(client: Zipkin) -> list[dict[str, Any]]:
            found = [summarize(t) for t in client.traces(service=wanted, limit=MAX_TRACES)]
            found = filter_summaries(found, service=wanted, errors_only=errors_only)
            return [t.to_json() for t in sorted(found, key=lambda t: t.start_us, reverse=True)]
        return await ask(request, work)

    async def trace(request: Request) -> Response:
        def work(client: Zipkin) -> dict[str, Any]:
            spans = client.trace(request.path_params["trace_id"])
            names = app_ids()
            return {**summarize(spans).to_json(),
                    "spanList": [{**s.to_json(), "depth": depth, "serviceName": names.get(s.service)}
                                 for depth, s in span_tree(spans)]}
        return await ask(request, work)

    async def span_logs(request: Request) -> Response:
        span_id = request.path_params["span_id"]

        def work(client: Zipkin) -> dict[str, Any]:
            spans = client.trace(request.path_params["trace_id"])
            chosen: list[Span] = [s for s in spans if s.id == span_id] or spans
            orch.hub.flush()  # lines still buffered belong in the answer
            lines = span_log_lines(orch.ws.state_dir / "logs", chosen, app_ids())
            return {"lines": [shown for line in lines if (shown := stored_line(line)) is not None]}
        return await ask(request, work)

    async def dependencies(request: Request) -> Response:
        return await ask(request, lambda client: client.dependencies(int(time.time() * 1000)))

    async def metrics(_request: Request) -> Response:
        return JSONResponse(await asyncio.to_thread(read_metrics, orch.ws.state_dir))

    return [
        Route("/api/traces", traces),
        Route("/api/traces/{trace_id}", trace),
        Route("/api/traces/{trace_id}/spans/{span_id}/logs", span_logs),
        Route("/api/dependencies", dependencies),
        Route("/api/metrics", metrics),
    ]
