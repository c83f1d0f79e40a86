"""Applying changes to a running stack: saved code, edited components, an edited
`aura.yaml`.  Routing and debouncing live in `reload`; this is what each change does to
the orchestrator's units."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING

from aura_dev.plan.resources import prepare_resources, resource_sources
from aura_dev.errors import WorkspaceInvalid
from aura_dev.workspace.graph import closure, dependency_waves
from aura_dev.logs.record import Level
from aura_dev.plan.service import RunContext, service_plan
from aura_dev.watch.routing import Coalescer, ServiceWatch, route, watch
from aura_dev.workspace.load import load_workspace

if TYPE_CHECKING:
    from aura_dev.engine.orchestrator import Orchestrator, ServiceRun


class LiveReload:
    def __init__(self, orch: Orchestrator) -> None:
        self.orch = orch
        self.coalescer = Coalescer(self._reload_service, quiet=self._debounce_of)

    def _debounce_of(self, name: str) -> float:
        service = self.orch.ws.services.get(name)
        return service.reload.debounce if service is not None else 0.02

    def _watch_paths(self) -> list[Path]:
        """The workspace folder, every service folder and every resource folder (those inside
        the workspace too: a service may live below a folder whose name is otherwise ignored)."""
        paths = [self.orch.ws.root.resolve()]
        extra = [self.orch.ws.service_dir(n) for n in self.orch.services] + list(resource_sources(self.orch.ws))
        for folder in extra:
            if folder.resolve() not in paths:
                paths.append(folder.resolve())
        return paths

    async def watch(self) -> None:
        try:
            await watch(self._watch_paths(), self._on_changes, self.orch.shutdown_requested)
        except Exception as exc:  # the stack keeps running without reload
            self.orch.hub.notice(None, f"file watching stopped: {exc}", Level.ERROR)

    async def _on_changes(self, paths: set[Path], detected: float) -> None:
        watches = [ServiceWatch(name, self.orch.ws.service_dir(name), tuple(svc.reload.watch), tuple(svc.reload.ignore))
                   for name, svc in self.orch.ws.services.items() if name in self.orch.services and svc.reload.enabled]
        routed = route(paths, watches, resource_sources(self.orch.ws), self.orch.ws.file)
        if routed.workspace_file:
            await self._reload_workspace()
        if routed.resources:
            await self._reload_resources(routed.resources)
        for name, files in routed.services.items():
            if name in self.orch.services:
                self.coalescer.request(name, files, detected)

    async def _reload_service(self, name: str, files: list[Path], detected: float) -> None:
        run = self.orch.services.get(name)
        if run is None or self.orch.ctx is None or self.orch.shutdown_requested.is_set():
            return
        present = [f for f in files if f.exists()] or files  # an editor's temp files are gone by now
        names = sorted({self._relative(f, run) for f in present})
        shown = ", ".join(names[:3]) + (" …" if len(names) > 3 else "")
        run.plan = service_plan(self.orch.ws, name, run.plan.ports, self.orch.ctx)  # env files may have changed
        await run.app.restart(f"{shown} changed: restarting the app (sidecar stays up)", after_change=True,
                              overlap=True)
        await self.orch._until_settled(run.app)
        if run.app.ready.is_set():
            self.orch.hub.notice(run.app.ref, f"reloaded in {time.monotonic() - detected:.2f} s ({shown})")

    @staticmethod
    def _relative(path: Path, run: ServiceRun) -> str:
        try:
            return str(path.relative_to(run.plan.service_dir))
        except ValueError:
            return path.name

    async def _reload_resources(self, changed: dict[Path, list[Path]]) -> None:
        assert self.orch.ctx is not None
        prepare_resources(self.orch.ws, self.orch.endpoints())  # re-rendered in place
        sources = resource_sources(self.orch.ws)
        affected = sorted({name for folder in changed for name in sources.get(folder, []) if name in self.orch.services})
        names = ", ".join(sorted({p.name for files in changed.values() for p in files}))
        for name in affected:
            sidecar = self.orch.services[name].sidecar
            if sidecar is not None:
                self.orch.hub.notice(sidecar.ref, f"{names} changed: restarting the sidecar")
        await asyncio.gather(*(self.orch.act(name, "restart", "sidecar", reason=f"{names} changed") for name in affected))

    async def _reload_workspace(self) -> None:
        try:
            new = load_workspace(self.orch.ws.file)
        except WorkspaceInvalid as exc:
            lines = [getattr(p, "render", lambda: str(p))() for p in exc.problems]
            self.orch.hub.notice(None, f"{self.orch.ws.file.name} changed but is invalid; the stack keeps running as it "
                            "was:\n    " + "\n    ".join(lines), Level.ERROR)
            return
        old = self.orch.ws
        if new.spec == old.spec:
            return
        self.orch.ws = new
        if new.spec.infra != old.spec.infra or new.spec.dapr.runtime_version != old.spec.dapr.runtime_version:
            self.orch.hub.notice(None, "infra or runtime settings changed: they apply at the next `aura dev up`",
                            Level.WARN)
        requested = self.orch.options.selected
        wanted = closure(new.depends_on(), requested) if requested else set(new.services)
        removed = [n for n in self.orch.services if n not in new.services or n not in wanted]
        added = [n for n in new.services if n in wanted and n not in self.orch.services]
        shared_changed = new.spec.dapr != old.spec.dapr
        if shared_changed or removed or added:
            shared, per_service = prepare_resources(new, self.orch.endpoints())
            assert self.orch.ctx is not None
            self.orch.ctx = RunContext(daprd=self.orch.runtime.daprd, infra=self.orch.ctx.infra, resources=shared,
                                  service_resources=per_service, api_token=self.orch.api_token)
        self.orch.selected = [n for n in new.services if n in wanted]
        self.orch.waves = dependency_waves({n: new.services[n].depends_on for n in self.orch.selected})
        for name in removed:
            run = self.orch.services.pop(name)
            self.orch.hub.notice(run.app.ref, f"removed from {new.file.name}: stopping it")
            await self.orch._shutdown([run.app])
            await self.orch._shutdown([r for r in [run.sidecar] if r])
        changed = []
        for name in self.orch.selected:
            if name in added or name not in old.services:
                continue
            before, after = old.services[name], new.services[name]
            if before == after and not shared_changed:
                continue
            changed.append(name)
            run = self.orch.services[name]
            old_ports = ports = run.plan.ports
            if (before.app_port, before.dapr) != (after.app_port, after.dapr):
                for key in [k for k in self.orch.saved_ports if k.startswith(f"{name}.")]:
                    del self.orch.saved_ports[key]
                ports = self.orch._service_ports(name)
            assert self.orch.ctx is not None
            run.plan = service_plan(new, name, ports, self.orch.ctx)
            run.app.policy.settings = after.restart
            which = "all" if shared_changed or ports != old_ports or (
                before.dapr, before.health_check, before.app_protocol, before.app_port) != (
                after.dapr, after.health_check, after.app_protocol, after.app_port) else "app"
            self.orch.extra_tasks.append(asyncio.ensure_future(
                self.orch.act(name, "restart", which, reason=f"{new.file.name} changed")))
        for name in added:
            assert self.orch.ctx is not None
            run = self.orch._service_run(service_plan(new, name, self.orch._service_ports(name), self.orch.ctx))
            self.orch.services[name] = run
            self.orch.hub.notice(run.app.ref, f"added to {new.file.name}: starting it")
            self.orch.extra_tasks.append(asyncio.ensure_future(self.orch._start_service(run)))
        self.orch._save_ports()
        summary = [f"{len(added)} added", f"{len(removed)} removed", f"{len(changed)} restarted"]
        self.orch.hub.notice(None, f"{new.file.name} reloaded: {', '.join(summary)}")
