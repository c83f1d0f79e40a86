"""The supervisor's metrics loop: every few seconds it reads each ready sidecar's Prometheus
endpoint (its metrics port, loopback), keeps a short rolling window per service, and writes
what the window says to `.aura/run/metrics.json` for `aura dev top` and the dashboard.

Scrapes are small (one HTTP GET per sidecar) and run on the supervisor's loop; a sidecar
that does not answer is skipped this round, never waited for."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aura_dev.atomic import write_atomic
from aura_dev.engine import runstate
from aura_dev.engine.services import ServiceRun
from aura_dev.engine.sidecar_metrics import MetricsWindow, parse_totals, window_stats
from aura_dev.net import LOOPBACK

SCRAPE_SECONDS = 2.0
SCRAPE_TIMEOUT = 2.0


def metrics_file(state_dir: Path) -> Path:
    return runstate.run_dir(state_dir) / "metrics.json"


def read_metrics(state_dir: Path) -> dict[str, Any]:
    """What the supervisor last wrote ({} before its first scrape)."""
    try:
        data = json.loads(metrics_file(state_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def sidecar_metrics_ports(services: Mapping[str, ServiceRun]) -> dict[str, int]:
    """Service -> metrics port of each sidecar that is ready now."""
    return {name: run.plan.ports.sidecar.metrics for name, run in services.items()
            if run.sidecar is not None and run.sidecar.ready.is_set() and run.plan.ports.sidecar is not None}


class MetricsScraper:
    def __init__(self, state_dir: Path, targets: Callable[[], dict[str, int]],
                 on_update: Callable[[dict[str, Any]], None] | None = None, interval: float = SCRAPE_SECONDS) -> None:
        self.path = metrics_file(state_dir)
        self.targets = targets
        self.on_update = on_update
        self.interval = interval
        self.windows: dict[str, MetricsWindow] = {}

    async def run(self) -> None:
        # Not at the very start: the moments after `up` belong to the watcher and the
        # dashboard; httpx (~0.1 s to import) is loaded off the loop.
        await asyncio.sleep(self.interval)
        httpx = await asyncio.to_thread(importlib.import_module, "httpx")
        async with httpx.AsyncClient(timeout=SCRAPE_TIMEOUT) as client:
            while True:
                await self.scrape_once(client)
                await asyncio.sleep(self.interval)

    async def scrape_once(self, client: Any) -> dict[str, Any]:
        targets = self.targets()
        answers = await asyncio.gather(*(self._fetch(client, port) for port in targets.values()))
        now = time.time()
        for name, text in zip(targets, answers):
            if text is not None:
                self.windows.setdefault(name, MetricsWindow()).add(now, await asyncio.to_thread(parse_totals, text))
        data = {"at": now, "interval": self.interval, "services": window_stats(self.windows, sorted(self.windows))}
        await asyncio.to_thread(write_atomic, self.path, json.dumps(data), durable=False)
        if self.on_update is not None:
            self.on_update(data)
        return data

    @staticmethod
    async def _fetch(client: Any, port: int) -> str | None:
        try:
            response = await client.get(f"http://{LOOPBACK}:{port}/metrics")
        except Exception:  # a sidecar restarting: skipped this round
            return None
        return str(response.text) if response.status_code == 200 else None
