"""Tracing as data: the Configuration every sidecar gets (merged under the user's, whose keys
win), the OTEL_* variables apps get, Zipkin's command line, and the Java version check."""

from __future__ import annotations

from pathlib import Path

import yaml

from aura_dev.plan.traced_configs import with_tracing
from aura_dev.plan.tracing import merge_tracing, otel_env, tracing_section, zipkin_java_argv
from aura_dev.runtime.zipkin import parse_java_major

ZIPKIN = "127.0.0.1:24611"
SPANS = "http://127.0.0.1:24611/api/v2/spans"


def test_a_configuration_without_tracing_gets_aura_s() -> None:
    merged, notes = merge_tracing({"kind": "Configuration", "spec": {"features": [{"name": "x"}]}}, ZIPKIN, Path("c.yaml"))
    assert merged["spec"]["tracing"] == {"samplingRate": "1", "zipkin": {"endpointAddress": SPANS}}
    assert merged["spec"]["features"] == [{"name": "x"}]
    assert notes == []


def test_the_user_s_tracing_keys_win_and_turning_it_off_is_told() -> None:
    own = {"kind": "Configuration", "spec": {"tracing": {"samplingRate": "0", "stdout": True}}}
    merged, notes = merge_tracing(own, ZIPKIN, Path("quiet.yaml"))
    assert merged["spec"]["tracing"] == {"samplingRate": "0", "stdout": True, "zipkin": {"endpointAddress": SPANS}}
    assert [n.notice() for n in notes] == [
        "quiet.yaml: samplingRate '0' turns tracing off; `aura dev traces` will show nothing from these sidecars"]


def test_a_zipkin_of_the_user_s_own_is_kept_and_told() -> None:
    own = {"kind": "Configuration", "spec": {"tracing": {"zipkin": {"endpointAddress": "http://zipkin.example:9411/api/v2/spans"}}}}
    merged, notes = merge_tracing(own, ZIPKIN, Path("c.yaml"))
    assert merged["spec"]["tracing"]["zipkin"]["endpointAddress"] == "http://zipkin.example:9411/api/v2/spans"
    assert merged["spec"]["tracing"]["samplingRate"] == "1"
    assert "not aura's" in notes[0].message


def test_every_sidecar_gets_a_traced_configuration(tmp_path: Path) -> None:
    own = tmp_path / "config.yaml"
    own.write_text("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: mine}\n"
                   "spec:\n  metric: {enabled: false}\n")
    not_one = tmp_path / "two.yaml"
    not_one.write_text("kind: Configuration\n---\nkind: Configuration\n")
    traced = with_tracing([own, not_one], ZIPKIN, {}, tmp_path / "out")
    copy = yaml.safe_load(traced.configs[own].read_text())
    assert copy["metadata"] == {"name": "mine"} and copy["spec"]["metric"] == {"enabled": False}
    assert copy["spec"]["tracing"] == tracing_section(ZIPKIN)
    assert not_one not in traced.configs and "not a single Dapr Configuration" in traced.notes[0].message
    assert traced.default is not None
    assert yaml.safe_load(traced.default.read_text())["spec"]["tracing"]["zipkin"]["endpointAddress"] == SPANS
    assert own.read_text().count("tracing") == 0  # the user's file is never written


def test_apps_get_what_opentelemetry_sdks_read() -> None:
    env = otel_env("conversation", ZIPKIN)
    assert env["OTEL_SERVICE_NAME"] == "conversation"
    assert env["OTEL_EXPORTER_ZIPKIN_ENDPOINT"] == SPANS
    assert env["OTEL_PROPAGATORS"].startswith("tracecontext")


def test_zipkin_runs_on_loopback_only_with_a_capped_heap_and_niced() -> None:
    argv = zipkin_java_argv("/usr/bin/java", Path("/z.jar"), 24611, "/usr/bin/nice")
    assert argv[:3] == ["/usr/bin/nice", "-n", "10"]
    assert "--armeria.ports[0].ip=127.0.0.1" in argv and "--armeria.ports[0].port=24611" in argv
    assert "-Xmx160m" in argv and argv[argv.index("-jar") + 1] == "/z.jar"
    assert zipkin_java_argv("/usr/bin/java", Path("/z.jar"), 1, None)[0] == "/usr/bin/java"


def test_java_versions_are_read_old_and_new_style() -> None:
    assert parse_java_major('openjdk version "17.0.15" 2025-04-15') == 17
    assert parse_java_major('java version "1.8.0_392"') == 8
    assert parse_java_major('openjdk version "21" 2023-09-19') == 21
    assert parse_java_major("nonsense") is None
