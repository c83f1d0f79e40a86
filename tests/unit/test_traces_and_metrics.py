"""Reading traces and metrics: spans from Zipkin's JSON, one line per trace, the span tree,
the waterfall; Prometheus text into counters, a rolling window, quantiles."""

from __future__ import annotations

import pytest

from aura_dev.cli.traces_command import parse_duration_us, waterfall_rows
from aura_dev.engine.sidecar_metrics import MetricsWindow, parse_totals, quantile
from aura_dev.engine.traces import Span, filter_summaries, span_tree, summarize
from aura_dev.errors import UserError


def span(id: str, parent: str | None, service: str, start: int, duration: int, **tags: str) -> Span:
    return Span.from_zipkin({"traceId": "ab" * 16, "id": id, "parentId": parent, "name": f"op-{id}", "kind": "CLIENT",
                             "timestamp": start, "duration": duration, "localEndpoint": {"serviceName": service},
                             "tags": tags})


TRACE = [
    span("c", "b", "conversation", 1_100, 300, **{"dapr.status_code": "500"}),
    span("b", "a", "conversation", 1_050, 800),
    span("a", "missing-caller", "gateway", 1_000, 1_000),
    span("d", "a", "sessions", 1_900, 50),
]


def test_a_trace_summary_names_its_root_services_and_errors() -> None:
    summary = summarize(TRACE)
    assert (summary.root_service, summary.root_name, summary.spans) == ("gateway", "op-a", 4)
    assert summary.services == ("conversation", "gateway", "sessions")
    assert summary.duration_us == 1_000 and summary.errors == 1
    assert filter_summaries([summary], errors_only=True) == [summary]
    assert filter_summaries([summary], service="nope") == []
    assert filter_summaries([summary], min_duration_us=2_000) == []


def test_the_span_tree_puts_parents_first_and_siblings_in_time_order() -> None:
    assert [(depth, s.id) for depth, s in span_tree(TRACE)] == [(0, "a"), (1, "b"), (2, "c"), (1, "d")]
    rows = waterfall_rows(TRACE, width=10)
    assert rows[0][2] == "█" * 10 and rows[2][4] is True  # the root spans the whole width; c failed
    assert rows[3][2].index("█") == 9  # d starts at the end


def test_errors_come_from_tags_statuses_and_otel() -> None:
    assert span("x", None, "s", 0, 1, error="boom").error
    assert span("x", None, "s", 0, 1, **{"otel.status_code": "ERROR"}).error
    assert not span("x", None, "s", 0, 1, **{"http.status_code": "404"}).error


def test_durations_for_the_filter() -> None:
    assert parse_duration_us("50ms") == 50_000 and parse_duration_us("1.5s") == 1_500_000
    assert parse_duration_us("800us") == 800 and parse_duration_us("20") == 20_000
    with pytest.raises(UserError):
        parse_duration_us("soon")


METRICS = """\
# TYPE dapr_http_server_request_count counter
dapr_http_server_request_count{{app_id="g",method="POST",path="/v1.0/invoke/c/method/m",status="200"}} {ok}
dapr_http_server_request_count{{app_id="g",method="GET",path="/v1.0/healthz",status="204"}} 99
# TYPE dapr_http_server_response_count counter
dapr_http_server_response_count{{app_id="g",method="POST",path="/v1.0/invoke/c/method/m",status="500"}} {failed}
# TYPE dapr_grpc_io_server_completed_rpcs counter
dapr_grpc_io_server_completed_rpcs{{app_id="g",grpc_server_method="/dapr.proto.runtime.v1.Dapr/GetState",grpc_server_status="OK"}} 2
# TYPE dapr_component_state_count counter
dapr_component_state_count{{app_id="g",component="statestore",operation="get",success="true"}} 2
# TYPE dapr_http_server_latency histogram
dapr_http_server_latency_bucket{{app_id="g",method="POST",path="/v1.0/invoke/c/method/m",status="200",le="1"}} {fast}
dapr_http_server_latency_bucket{{app_id="g",method="POST",path="/v1.0/invoke/c/method/m",status="200",le="10"}} {ok}
dapr_http_server_latency_bucket{{app_id="g",method="POST",path="/v1.0/invoke/c/method/m",status="200",le="+Inf"}} {ok}
dapr_http_server_latency_sum{{app_id="g",method="POST",path="/v1.0/invoke/c/method/m",status="200"}} 1
dapr_http_server_latency_count{{app_id="g",method="POST",path="/v1.0/invoke/c/method/m",status="200"}} {ok}
"""


def test_counters_leave_the_sidecar_s_own_requests_out() -> None:
    totals = parse_totals(METRICS.format(ok=10, failed=1, fast=9))
    assert totals.requests == 12 and totals.errors == 1  # healthz not counted; gRPC counted
    assert totals.components == {"state": 2}
    assert quantile(totals.latency_buckets, 0.5) == 1.0 and quantile(totals.latency_buckets, 0.95) == 10.0


def test_the_window_gives_rates_and_survives_a_restarted_sidecar() -> None:
    window = MetricsWindow(seconds=10)
    window.add(100.0, parse_totals(METRICS.format(ok=10, failed=1, fast=10)))
    window.add(105.0, parse_totals(METRICS.format(ok=60, failed=3, fast=10)))
    stats = window.stats()
    assert stats["rps"] == 10.0 and stats["errors"] == 3 and stats["errorsInWindow"] == 2
    assert stats["p95Ms"] == 10.0  # the 50 new requests were all slower than 1 ms
    window.add(130.0, parse_totals(METRICS.format(ok=5, failed=0, fast=5)))  # counters from 0 again
    assert window.stats()["rps"] >= 0 and len(window.samples) == 2
    assert quantile({}, 0.5) is None
