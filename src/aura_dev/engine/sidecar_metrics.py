"""What a daprd's Prometheus text says about its service, and a short rolling window of it:
requests/s, errors, p50/p95 latency, component and pub/sub counts, resiliency events.

Pure: the text is parsed with `prometheus_client`'s parser; the scraper (`metrics_scraper`)
feeds samples in and writes what `window_stats` returns."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Requests a sidecar serves for its own machinery, not for the service's work.
_INTERNAL_PATHS = ("/v1.0/healthz", "/v1.0/metadata")
_INTERNAL_GRPC = ("/grpc.health", "/dapr.proto.runtime.v1.Dapr/GetMetadata")
WINDOW_SECONDS = 15.0


@dataclass(frozen=True)
class Totals:
    """Monotonic counters of one scrape (they restart at 0 with the sidecar)."""

    requests: float = 0.0
    errors: float = 0.0
    latency_buckets: Mapping[float, float] = field(default_factory=dict)  # upper bound (ms) -> cumulative count
    components: Mapping[str, float] = field(default_factory=dict)  # state, pubsub_in, pubsub_out, resiliency, …


def _is_internal(labels: Mapping[str, str]) -> bool:
    path = labels.get("path", "")
    method = labels.get("grpc_server_method", "")
    return path.startswith(_INTERNAL_PATHS) or method.startswith(_INTERNAL_GRPC)


def parse_totals(text: str) -> Totals:
    """The counters aura shows, from one `/metrics` answer."""
    from prometheus_client.parser import text_string_to_metric_families

    requests = errors = 0.0
    buckets: dict[float, float] = {}
    components: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels, value, name = sample.labels, sample.value, sample.name.removesuffix("_total")
            if name == "dapr_http_server_request_count" and not _is_internal(labels):
                requests += value
            elif name == "dapr_http_server_response_count" and not _is_internal(labels):
                errors += value if labels.get("status", "").startswith("5") else 0.0
            elif name == "dapr_grpc_io_server_completed_rpcs" and not _is_internal(labels):
                requests += value
                errors += value if labels.get("grpc_server_status", "OK") not in ("OK", "NOT_FOUND") else 0.0
            elif name in ("dapr_http_server_latency_bucket", "dapr_grpc_io_server_server_latency_bucket") \
                    and not _is_internal(labels):
                bound = float(labels.get("le", "inf"))
                buckets[bound] = buckets.get(bound, 0.0) + value
            elif name == "dapr_http_client_completed_count" and labels.get("status", "").startswith("5"):
                errors += value  # the app itself answered 5xx to its sidecar
            else:
                key = _component_key(name)
                if key is not None:
                    components[key] = components.get(key, 0.0) + value
    return Totals(requests, errors, buckets, components)


def _component_key(name: str) -> str | None:
    return {"dapr_component_state_count": "state", "dapr_component_pubsub_ingress_count": "pubsubIn",
            "dapr_component_pubsub_egress_count": "pubsubOut", "dapr_resiliency_count": "resiliency",
            "dapr_resiliency_activations": "resiliency",
            "dapr_component_input_binding_count": "bindings"}.get(name)


def quantile(buckets: Mapping[float, float], q: float) -> float | None:
    """The upper bound of the bucket holding the q-quantile (cumulative counts), in ms;
    None with no observations."""
    ordered = sorted(buckets.items())
    if not ordered or ordered[-1][1] <= 0:
        return None
    target = q * ordered[-1][1]
    previous = 0.0
    for bound, count in ordered:
        if count >= target and count > previous:
            return bound if not math.isinf(bound) else max((b for b, _ in ordered if not math.isinf(b)), default=None)
        previous = count
    return None


def _delta(new: float, old: float) -> float:
    return new - old if new >= old else new  # a restarted sidecar counts from 0 again


class MetricsWindow:
    """The last `seconds` of one service's scrapes."""

    def __init__(self, seconds: float = WINDOW_SECONDS) -> None:
        self.seconds = seconds
        self.samples: deque[tuple[float, Totals]] = deque()

    def add(self, at: float, totals: Totals) -> None:
        self.samples.append((at, totals))
        while len(self.samples) > 2 and at - self.samples[1][0] >= self.seconds:
            self.samples.popleft()

    def stats(self) -> dict[str, Any]:
        if not self.samples:
            return {}
        at, last = self.samples[-1]
        first_at, first = self.samples[0]
        span = at - first_at
        requests = _delta(last.requests, first.requests)
        errors = _delta(last.errors, first.errors)
        buckets = {b: _delta(c, first.latency_buckets.get(b, 0.0)) for b, c in last.latency_buckets.items()}
        return {
            "window": round(span, 1),
            "rps": round(requests / span, 2) if span > 0 else 0.0,
            "errors": int(last.errors),
            "errorsInWindow": int(errors),
            "errorRate": round(errors / requests, 3) if requests else 0.0,
            "p50Ms": quantile(buckets, 0.50),
            "p95Ms": quantile(buckets, 0.95),
            "requests": int(last.requests),
            "components": {k: int(v) for k, v in sorted(last.components.items())},
        }


def window_stats(windows: Mapping[str, MetricsWindow], names: Iterable[str]) -> dict[str, dict[str, Any]]:
    return {name: windows[name].stats() for name in names if name in windows}
