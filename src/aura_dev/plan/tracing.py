"""Tracing as data: how aura's Zipkin is started, the tracing section every sidecar's
Configuration carries (merged under the user's own `dapr.config`, whose settings win), and
the `OTEL_*` variables that let an instrumented app join the same traces.  Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aura_dev.net import LOOPBACK

SAMPLING_RATE = "1"  # every request, as `dapr init`'s default Configuration
ZIPKIN_HEAP = "160m"  # Zipkin's own start script caps the heap at this size
ZIPKIN_NICE = "10"  # below the stack: a busy trace store never slows a request


def zipkin_spans_url(address: str) -> str:
    return f"http://{address}/api/v2/spans"


def zipkin_java_argv(java: str, jar: Path, port: int, nice: str | None) -> list[str]:
    """The official server, loopback only (`--server.address` is ignored by Zipkin 3; only
    Armeria's own port list binds an address), in-memory storage, heap capped, and JIT
    flags that favour a fast start over peak speed (a dev trace store is never hot)."""
    argv = [nice, "-n", ZIPKIN_NICE] if nice else []
    return argv + [
        java, f"-Xms{ZIPKIN_HEAP}", f"-Xmx{ZIPKIN_HEAP}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Xshare:auto", "-Djava.net.preferIPv4Stack=true", "-jar", str(jar),
        f"--armeria.ports[0].port={port}", f"--armeria.ports[0].ip={LOOPBACK}", "--armeria.ports[0].protocols=http",
        "--zipkin.storage.type=mem", "--spring.main.banner-mode=off",  # no 20-line logo in the console
        # Only Zipkin's own news: Micrometer warns about its metric filters at every start.
        "--logging.level.root=WARN", "--logging.level.zipkin2=INFO", "--logging.level.io.micrometer=ERROR",
    ]


def tracing_section(zipkin: str) -> dict[str, Any]:
    return {"samplingRate": SAMPLING_RATE, "zipkin": {"endpointAddress": zipkin_spans_url(zipkin)}}


def default_configuration(zipkin: str) -> dict[str, Any]:
    """What a sidecar gets when the workspace brings no Configuration."""
    return {"apiVersion": "dapr.io/v1alpha1", "kind": "Configuration", "metadata": {"name": "aura-tracing"},
            "spec": {"tracing": tracing_section(zipkin)}}


@dataclass(frozen=True)
class TracingNote:
    """Something to tell the user about their own tracing settings."""

    file: Path
    message: str

    def notice(self) -> str:
        return f"{self.file.name}: {self.message}"


def merge_tracing(document: Mapping[str, Any], zipkin: str, file: Path) -> tuple[dict[str, Any], list[TracingNote]]:
    """A user's Configuration with aura's tracing under it: every key the user set stays."""
    merged = dict(document)
    spec = dict(merged.get("spec") or {})
    own = spec.get("tracing")
    notes: list[TracingNote] = []
    spec["tracing"] = _deep_merge(tracing_section(zipkin), own if isinstance(own, Mapping) else {})
    if isinstance(own, Mapping):
        rate = str(own.get("samplingRate", SAMPLING_RATE)).strip()
        if _as_float(rate) == 0.0:
            notes.append(TracingNote(file, f"samplingRate {rate!r} turns tracing off; `aura dev traces` will "
                                           "show nothing from these sidecars"))
        endpoint = (own.get("zipkin") or {}).get("endpointAddress") if isinstance(own.get("zipkin"), Mapping) else None
        if endpoint and endpoint != zipkin_spans_url(zipkin):
            notes.append(TracingNote(file, f"spans go to your Zipkin at {endpoint}, not aura's"))
    merged["spec"] = spec
    return merged, notes


def _as_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def otel_env(service_name: str, zipkin: str) -> dict[str, str]:
    """What OpenTelemetry SDKs read: the service's name, Zipkin as exporter, W3C propagation
    (the `traceparent` header daprd speaks), everything sampled."""
    return {
        "OTEL_SERVICE_NAME": service_name,
        "OTEL_TRACES_EXPORTER": "zipkin",
        "OTEL_EXPORTER_ZIPKIN_ENDPOINT": zipkin_spans_url(zipkin),
        "OTEL_PROPAGATORS": "tracecontext,baggage",
        "OTEL_TRACES_SAMPLER": "parentbased_always_on",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
