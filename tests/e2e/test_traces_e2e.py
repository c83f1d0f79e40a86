"""Traces and metrics on the real stack: the sample with aura's Zipkin (the official jar
under Java), one `/chat` as one trace across gateway, conversation and the state store, the
span's log lines, live rates and errors in `aura dev top`, a service's own Configuration
that turns tracing off respected, and a Zipkin killed -9 that comes back unnoticed."""

from __future__ import annotations

import json
import os
import secrets
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import require, run_aura
from support.browser import chromium, chromium_path, playwright_installed
from support.stack import SAMPLE, copy_workspace, edit_workspace, http, unit_pids, wait_for

pytestmark = pytest.mark.e2e

ZIPKIN_ON = {"AURA_ZIPKIN": "on"}  # conftest turns it off for every other test
SCREENSHOTS = os.environ.get("AURA_DASHBOARD_SCREENSHOTS")  # a folder: keep the page's picture there

# Appended to the test's copy of conversation: a handler that fails, for the error counts.
FAILING_ROUTE = '''

@app.post("/fail")
def fail() -> None:
    from fastapi import HTTPException

    raise HTTPException(status_code=500, detail="failing on purpose")
'''

# notifications brings its own Configuration: tracing off, plus a setting aura must keep.
QUIET_CONFIG = {
    "apiVersion": "dapr.io/v1alpha1", "kind": "Configuration", "metadata": {"name": "quiet"},
    "spec": {"tracing": {"samplingRate": "0"}, "metric": {"enabled": True}},
}


def aura_json(*args: str) -> Any:
    done = run_aura(*args, "--json", env=ZIPKIN_ON)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def chat(ws: str, gateway: str, text: str) -> None:
    code, body = http("POST", f"{gateway}/chat", {"user": "tracer", "text": text}, timeout=30)
    if code != 200:  # what the services said about it
        said = run_aura("dev", "logs", "-n", "40", "-w", ws, env=ZIPKIN_ON).stdout
        raise AssertionError(f"/chat {text!r} answered {code}: {body}\n{said}")


def traced_sample(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The sample with app ids of its own (sidecars of other stacks on this machine must not
    answer for ours), a failing route, and a service-level Configuration for notifications."""
    root = copy_workspace(SAMPLE, tmp_path / "ws")
    tag = secrets.token_hex(3)
    ids = {name: f"t{tag}-{name}" for name in ("assistant-gateway", "conversation", "notifications", "sessions")}
    with (root / "services/conversation/app.py").open("a") as app:
        app.write(FAILING_ROUTE)
    (root / "services/notifications/quiet.yaml").write_text(yaml.safe_dump(QUIET_CONFIG))

    def change(data: dict[str, Any]) -> None:
        for name, app_id in ids.items():
            data["services"][name].setdefault("dapr", {})["appId"] = app_id
        data["services"]["notifications"]["dapr"]["config"] = "quiet.yaml"
        data["services"]["assistant-gateway"]["env"] = {"CONVERSATION_APP_ID": ids["conversation"]}
        data.setdefault("infra", {})["backend"] = "native"
    edit_workspace(root, change)
    return root, ids


def test_one_chat_is_one_trace_with_its_logs_and_live_metrics(tmp_path: Path, runtime: Any,
                                                               redis_server_bin: str) -> None:
    from aura_dev.runtime.zipkin import installed_jar, java_path

    require(java_path() is not None, "java is not installed (Zipkin needs Java 17+)")
    require(installed_jar() is not None, "the Zipkin jar is missing (aura dev init)")
    require((SAMPLE / "services/notifications/node_modules").is_dir(), "npm ci was not run for the sample")
    require(chromium_path() is not None and playwright_installed(), "chromium and Playwright (browser tests)")
    root, ids = traced_sample(tmp_path)
    ws = str(root)
    up = run_aura("dev", "up", "--detach", "-w", ws, timeout=180, env=ZIPKIN_ON)
    assert up.returncode == 0, up.stderr
    try:
        status = aura_json("dev", "status", "-w", ws)
        gateway = status["services"]["assistant-gateway"]["url"]
        assert status["units"]["zipkin"]["backend"] == "native"
        # `up` returned with every service ready while Zipkin (a JVM: seconds to start) was not:
        # it never gates the stack.
        assert status["units"]["zipkin"]["state"] != "ready"
        assert all(u["state"] == "ready" for label, u in status["units"].items() if label != "zipkin")
        # Zipkin never gates the stack; traces need it up, so wait for it here.
        wait_for(lambda: aura_json("dev", "status", "-w", ws)["units"]["zipkin"]["state"] == "ready",
                 timeout=120, interval=0.5, what="zipkin ready")
        logs = run_aura("dev", "logs", "-w", ws, env=ZIPKIN_ON).stdout
        assert "quiet.yaml: samplingRate '0' turns tracing off" in logs

        chat(ws, gateway, "hello traces")

        def chat_trace() -> dict[str, Any] | None:
            for trace in aura_json("dev", "traces", "-w", ws, "--service", "assistant-gateway"):
                if {ids["assistant-gateway"], ids["conversation"]} <= set(trace["services"]):
                    return trace  # type: ignore[no-any-return]
            return None
        summary = wait_for(chat_trace, timeout=60, interval=1.0, what="the /chat trace in Zipkin")
        trace = aura_json("dev", "traces", summary["traceId"], "-w", ws)
        names = {(s["service"], s["name"]) for s in trace["spanList"]}
        assert (ids["conversation"], "/dapr.proto.runtime.v1.dapr/savestate") in names, names
        assert (ids["conversation"], "/dapr.proto.runtime.v1.dapr/publishevent") in names, names
        assert ids["sessions"] in trace["services"]  # the actor call joined the same trace
        # notifications' own Configuration says samplingRate "0": its sidecar reports nothing.
        assert ids["notifications"] not in trace["services"], trace["services"]
        rendered = yaml.safe_load(next((root / ".aura/run/resources").glob("traced-*/quiet.yaml")).read_text())
        assert rendered["spec"]["tracing"]["samplingRate"] == "0"
        assert rendered["spec"]["metric"] == {"enabled": True}

        lines = run_aura("dev", "logs", "--trace", summary["traceId"], "--json", "-w", ws, env=ZIPKIN_ON)
        assert lines.returncode == 0, lines.stderr
        records = [json.loads(line) for line in lines.stdout.splitlines()]
        assert any(r["service"] == "conversation" and "message from tracer" in r["text"] for r in records), records

        # Live rates while a load loop runs; errors when a handler answers 500.
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                http("POST", f"{gateway}/chat", {"user": "load", "text": "x"}, timeout=30)
        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        try:
            def gateway_rate() -> float | None:
                units = {u["unit"]: u for u in aura_json("dev", "top", "-w", ws)["units"]}
                rate = units["assistant-gateway·dapr"].get("rps") or 0
                return rate if rate > 0 else None
            assert wait_for(gateway_rate, timeout=30, interval=1.0, what="gateway req/s > 0") > 0
        finally:
            stop.set()
            loader.join(timeout=35)
        units = {u["unit"]: u for u in aura_json("dev", "top", "-w", ws)["units"]}
        errors_before = units["assistant-gateway·dapr"]["errors"] or 0
        assert units["assistant-gateway"]["rss"] > 0 and units["assistant-gateway"]["state"] == "ready"
        dapr_http = status["services"]["assistant-gateway"]["daprHttpPort"]

        def fail_three_calls() -> None:
            for _ in range(3):
                url = f"http://127.0.0.1:{dapr_http}/v1.0/invoke/{ids['conversation']}/method/fail"
                code, _body = http("POST", url, {})
                assert code == 500
        check_dashboard(ws, summary["traceId"], fail_three_calls)
        wait_for(lambda: ({u["unit"]: u for u in aura_json("dev", "top", "-w", ws)["units"]}
                          ["assistant-gateway·dapr"]["errors"] or 0) >= errors_before + 3,
                 timeout=30, interval=1.0, what="the gateway's error count to rise")

        # Zipkin killed -9: it comes back, and nothing else restarted.
        before = aura_json("dev", "status", "-w", ws)
        others = {k: v for k, v in unit_pids(before).items() if k != "zipkin"}
        os.kill(before["units"]["zipkin"]["pid"], signal.SIGKILL)
        chat(ws, gateway, "while zipkin is down")

        def zipkin_back() -> dict[str, Any] | None:
            snap = aura_json("dev", "status", "-w", ws)
            unit = snap["units"]["zipkin"]
            return snap if unit["state"] == "ready" and unit["pid"] != before["units"]["zipkin"]["pid"] else None
        after = wait_for(zipkin_back, timeout=120, interval=1.0, what="zipkin back after kill -9")
        assert {k: v for k, v in unit_pids(after).items() if k != "zipkin"} == others
        assert all(u["restarts"] == 0 for label, u in after["units"].items() if label != "zipkin")
        chat(ws, gateway, "after")
        wait_for(lambda: any(ids["conversation"] in t["services"] and t["spans"] > 3
                             for t in aura_json("dev", "traces", "-w", ws, "--service", "assistant-gateway")),
                 timeout=60, interval=1.0, what="traces again after Zipkin came back")
    finally:
        assert run_aura("dev", "down", "-w", ws, env=ZIPKIN_ON).returncode == 0


def check_dashboard(ws: str, trace_id: str, fail_calls: Callable[[], None]) -> None:
    """The traces page draws the /chat trace, shows a span's log lines beside it, and marks
    in red the failed calls made while it is open (its list reloads itself: daprd sends spans
    in batches, seconds after the request); a log line carrying the trace id links to it."""
    login = run_aura("dev", "dashboard", "--no-open", "-w", ws, env=ZIPKIN_ON).stdout.strip()
    base = login.split("?")[0].rstrip("/")
    with chromium() as context:
        page = context.new_page()
        page.goto(login)
        page.goto(f"{base}/traces#{trace_id}")
        page.wait_for_selector(".span-row >> nth=4")
        conversation = page.locator(".span-row", has=page.locator(".span-service", has_text="conversation"))
        conversation.filter(has_text="calllocal").first.click()
        # A selector wait, not wait_for_function: a polled string is eval'd in the page, which
        # the dashboard's Content-Security-Policy (script-src 'self') refuses.
        page.wait_for_selector('#span-logs:has-text("message from tracer")')
        failed_call = 'tr.trace-row.failed:has-text("/fail")'
        assert page.locator(failed_call).count() == 0  # not called yet
        fail_calls()  # with the page open: no reload, no click on refresh
        page.wait_for_selector(failed_call, timeout=45_000)  # a trace with an error, in red
        if SCREENSHOTS:  # the failed calls (errors only), the /chat trace, its span's log lines
            page.check("#trace-errors")
            wait_for(lambda: 0 < page.locator("tr.trace-row").count() == page.locator("tr.trace-row.failed").count(),
                     timeout=20, interval=0.2, what="the list narrowed to the failed calls")
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            page.set_viewport_size({"width": 1400, "height": 900})
            page.keyboard.press("Home")
            page.screenshot(path=str(Path(SCREENSHOTS) / "dashboard-traces.png"), full_page=True)
        page.goto(f"{base}/logs?grep={trace_id}")  # the line that carries it, among thousands
        page.wait_for_selector(f'a.trace-link[href="/traces#{trace_id}"]')
        page.goto(f"{base}/services/conversation")
        page.click("nav.tabs >> text=Metrics")
        page.wait_for_selector('#metrics-requests:has-text("requests/s")')
        page.goto(f"{base}/")  # the units page: each service's rates, pushed after every scrape
        page.wait_for_selector('span.rates[data-service="assistant-gateway"]:has-text("req/s")')


def test_without_the_zipkin_jar_the_stack_runs_and_says_why_there_are_no_traces(tmp_path: Path, runtime: Any,
                                                                                   redis_server_bin: str) -> None:
    from support.stack import tiny_workspace

    data = tmp_path / "data"  # aura's data folder with the runtime and no Zipkin jar
    data.mkdir()
    (data / "runtime").symlink_to(runtime.bin_dir.parent, target_is_directory=True)
    root = tiny_workspace(tmp_path / "ws", {f"nojar{secrets.token_hex(3)}": []})
    env = {"AURA_DATA_DIR": str(data), **ZIPKIN_ON}
    up = run_aura("dev", "up", "--detach", "-w", str(root), env=env, timeout=180)
    assert up.returncode == 0, up.stderr
    try:
        status = json.loads(run_aura("dev", "status", "--json", "-w", str(root), env=env).stdout)
        assert "zipkin" not in status["units"]
        assert all(u["state"] == "ready" for u in status["units"].values())
        said = run_aura("dev", "logs", "zipkin", "-w", str(root), env=env).stdout
        assert "no Zipkin this run" in said and "is missing" in said and "aura dev init" in said, said
        traces = run_aura("dev", "traces", "-w", str(root), env=env)
        assert traces.returncode != 0 and "runs no Zipkin" in traces.stderr
    finally:
        assert run_aura("dev", "down", "-w", str(root), env=env).returncode == 0
