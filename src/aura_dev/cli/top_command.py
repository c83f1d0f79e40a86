"""`aura dev top`: every unit of the running stack with its state, restarts, CPU and memory
(psutil, the process and its children), and each service's requests/s, errors and p95
latency from the metrics its sidecar serves (scraped by the supervisor).  Live until
Ctrl-C; `--json` prints one reading for scripts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Annotated, Any

import typer

from aura_dev.cli import console as ui
from aura_dev.cli.options import JsonOption, WorkspaceOption, locate

CPU_SAMPLE_SECONDS = 0.5


class Processes:
    """psutil handles kept between readings, so CPU% is measured over the refresh interval."""

    def __init__(self) -> None:
        self.known: dict[int, Any] = {}

    def usage(self, pid: int | None) -> tuple[float | None, int | None]:
        """(CPU %, RSS bytes) of `pid` and its descendants."""
        import psutil

        if pid is None:
            return None, None
        try:
            root = self.known.get(pid) or psutil.Process(pid)
            self.known[pid] = root
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return None, None
        cpu = 0.0
        rss = 0
        for proc in procs:
            proc = self.known.setdefault(proc.pid, proc)
            try:
                cpu += proc.cpu_percent(None)
                rss += proc.memory_info().rss
            except psutil.Error:
                continue
        return round(cpu, 1), rss

    def prime(self, pids: list[int | None]) -> None:
        for pid in pids:
            self.usage(pid)


def reading(ws: Any, processes: Processes) -> dict[str, Any]:
    from aura_dev.engine.metrics_scraper import read_metrics
    from aura_dev.engine.stack_status import status

    data = status(ws)
    if not data.get("running"):
        from aura_dev.errors import NotRunning

        raise NotRunning(f"{ws.name} is not running", hint="start it with `aura dev up`")
    metrics = read_metrics(ws.state_dir)
    per_service = metrics.get("services", {})
    units = []
    for label, unit in data.get("units", {}).items():
        cpu, rss = processes.usage(unit.get("pid"))
        record = {"unit": label, "service": unit.get("service"), "source": unit.get("source"),
                  "state": unit.get("state"), "restarts": unit.get("restarts", 0), "pid": unit.get("pid"),
                  "cpu": cpu, "rss": rss}
        if unit.get("source") == "sidecar":
            stats = per_service.get(unit.get("service"), {})
            record.update(rps=stats.get("rps"), errors=stats.get("errors"), errorRate=stats.get("errorRate"),
                          p50Ms=stats.get("p50Ms"), p95Ms=stats.get("p95Ms"), components=stats.get("components"))
        units.append(record)
    return {"name": data["name"], "at": time.time(), "metricsAt": metrics.get("at"), "units": units}


def render(data: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(box=None, padding=(0, 2), header_style="dim", title=f"{data['name']} · aura dev top",
                  title_justify="left")
    for column in ("unit", "state", "restarts", "cpu %", "rss", "req/s", "errors", "p95"):
        table.add_column(column, justify="left" if column in ("unit", "state") else "right")
    for unit in data["units"]:
        state = unit["state"] or "?"
        style = {"ready": "green", "failed": "bold red", "backoff": "yellow", "starting": "yellow"}.get(state, "")
        rss = f"{unit['rss'] / 1e6:.0f} MB" if unit.get("rss") is not None else "-"
        cpu = f"{unit['cpu']:.1f}" if unit.get("cpu") is not None else "-"
        rps = f"{unit['rps']:.1f}" if unit.get("rps") is not None else ""
        errors = str(unit["errors"]) if unit.get("errors") is not None else ""
        if unit.get("errors"):
            errors = f"[bold red]{errors}[/]"
        p95 = f"{unit['p95Ms']:g} ms" if unit.get("p95Ms") is not None else ""
        table.add_row(ui.escape(unit["unit"]), f"[{style}]{state}[/]" if style else state, str(unit["restarts"]),
                      cpu, rss, rps, errors, p95)
    return table


def register(dev: typer.Typer, load: Callable[..., object]) -> None:
    """Add `aura dev top` (it reads the running stack's state, not aura.yaml)."""

    @dev.command()
    def top(
        workspace: WorkspaceOption = None,
        interval: Annotated[float, typer.Option("--interval", min=0.2, help="Seconds between refreshes")] = 2.0,
        as_json: JsonOption = False,
    ) -> None:
        """Live table of every unit: state, restarts, CPU, memory, req/s, errors, p95 (Ctrl-C ends it)."""
        ws = locate(workspace)
        processes = Processes()
        first = reading(ws, processes)  # CPU% needs two readings: this one primes the counters
        if as_json:
            time.sleep(CPU_SAMPLE_SECONDS)
            print(json.dumps(reading(ws, processes), indent=2))
            return
        from rich.live import Live

        try:
            with Live(render(first), console=ui.out, auto_refresh=False) as live:
                while True:
                    time.sleep(max(0.2, interval))
                    live.update(render(reading(ws, processes)), refresh=True)
        except KeyboardInterrupt:
            pass
