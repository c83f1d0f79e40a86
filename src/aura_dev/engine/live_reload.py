"""Changes to a running stack, from the file system: saved code, edited components, an
edited `aura.yaml`.  Routing and debouncing live in `aura_dev.watch`; what each change
does is asked of the orchestrator through its public methods."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from aura_dev.engine.orchestrator import Orchestrator
from aura_dev.errors import UserError, WorkspaceInvalid
from aura_dev.logs.record import Level
from aura_dev.plan.resources import resource_sources
from aura_dev.watch.coalesce import Coalescer
from aura_dev.watch.routing import ServiceWatch, route
from aura_dev.watch.self_writes import SelfWrites
from aura_dev.watch.watcher import watch
from aura_dev.workspace.load import load_workspace

DEFAULT_DEBOUNCE = 0.02
SUPERSEDED_POLL = 0.05  # how often a reload that waits for readiness looks for a newer save


class LiveReload:
    def __init__(self, orch: Orchestrator) -> None:
        self.orch = orch
        self.coalescer = Coalescer(self._reload_service, quiet=self._debounce_of)
        self.folders_gone: set[str] = set()  # services whose folder was deleted under the running app
        self.self_writes = SelfWrites()  # files apps write into their own folders as they start

    def _debounce_of(self, name: str) -> float:
        service = self.orch.ws.services.get(name)
        return service.reload.debounce if service is not None else DEFAULT_DEBOUNCE

    def _watch_paths(self) -> list[Path]:
        """The workspace folder, every service folder and every resource folder (those inside
        the workspace too: a service may live below a folder whose name is otherwise ignored)."""
        ws = self.orch.ws
        paths = [ws.root.resolve()]
        extra = [ws.service_dir(n) for n in self.orch.services] + list(resource_sources(ws))
        for folder in extra:
            if folder.resolve() not in paths:
                paths.append(folder.resolve())
        return paths

    async def watch(self) -> None:
        try:
            # The watch is set up once the stack is ready, and `up -d` may have returned
            # before that: saves made since the start settled are looked for on disk.  Not
            # since the first app's spawn: an app that writes into its own folder as it
            # starts (a cache, a pid file) would be restarted once for it (CI: a status's
            # pid was gone by the time it was read).  A save made while the stack was still
            # coming up is not reloaded: the app may well have read it already.
            await watch(self._watch_paths(), self._on_changes, self.orch.shutdown_requested,
                        since_ns=self.orch.timeline.settled_file_ns)
        except Exception as exc:  # the stack keeps running without reload
            self.orch.hub.notice(None, f"file watching stopped: {exc}", Level.ERROR)

    async def _on_changes(self, paths: set[Path], detected: float) -> None:
        ws = self.orch.ws
        watches = [ServiceWatch(name, ws.service_dir(name), tuple(svc.reload.watch), tuple(svc.reload.ignore))
                   for name, svc in ws.services.items() if name in self.orch.services and svc.reload.enabled]
        routed = route(paths, watches, resource_sources(ws), ws.file)
        if routed.workspace_file:
            await self._reload_workspace()
        if routed.resources:
            sources = resource_sources(self.orch.ws)
            affected = sorted({name for folder in routed.resources for name in sources.get(folder, [])})
            names = ", ".join(sorted({p.name for files in routed.resources.values() for p in files}))
            await self.orch.reload_resources(affected, f"{names} changed")
        for name, files in routed.services.items():
            files = self.self_writes.unignored(name, files)
            if name in self.orch.services and files:
                self.coalescer.request(name, files, detected)

    async def _reload_service(self, name: str, files: list[Path], detected: float) -> None:
        run = self.orch.services.get(name)
        if run is None:
            return
        if not run.plan.service_dir.is_dir():
            # A restart could not even chdir there: the app keeps running the code it has loaded.
            if name not in self.folders_gone:
                self.folders_gone.add(name)
                self.orch.hub.notice(run.app.ref, f"the service folder {run.plan.service_dir} was deleted: the app "
                                     "keeps running as it is, and reloads once the folder is back", Level.WARN)
            return
        self.folders_gone.discard(name)
        present = [f for f in files if f.exists()] or files  # an editor's temp files are gone by now
        names = sorted({_relative(f, run.plan.service_dir) for f in present})
        shown = ", ".join(names[:3]) + (" …" if len(names) > 3 else "")
        own = self.self_writes.decide(name, files, detected=detected, ready_at=run.app.ready_at, now=time.monotonic())
        if own:
            self._self_reloading(name, sorted({_relative(f, run.plan.service_dir) for f in own}))
            return
        reload = asyncio.ensure_future(self.orch.reload_app(name, f"{shown} changed: restarting the app "
                                                            "(sidecar stays up)"))
        while not reload.done():
            await asyncio.wait([reload], timeout=SUPERSEDED_POLL)
            if name in self.coalescer.pending and not reload.done():
                # A newer save: it restarts the app at once (this start may have read a file
                # half-written and never get ready; waiting for it would hold the newer save).
                return
        if reload.result():
            self.orch.hub.notice(run.app.ref, f"reloaded in {time.monotonic() - detected:.2f} s ({shown})")

    def _self_reloading(self, name: str, own: list[str]) -> None:
        run = self.orch.services[name]
        them, they = ("them", "they no longer reload") if len(own) > 1 else ("it", "it no longer reloads")
        listed = ", ".join(f'"{n}"' for n in own)
        self.orch.hub.notice(run.app.ref, f"{', '.join(own)} changed again as the app started: the app writes {them} "
                             f"itself, and each write would reload it again, so {they} {name} in this run (to say "
                             f"so for good: reload: {{ignore: [{listed}]}} in aura.yaml)", Level.WARN)

    async def _reload_workspace(self) -> None:
        file = self.orch.ws.file
        try:
            new = load_workspace(file)
        except WorkspaceInvalid as exc:
            lines = [getattr(p, "render", lambda: str(p))() for p in exc.problems]
            self.orch.hub.notice(None, f"{file.name} changed but is invalid; the stack keeps running as it "
                                 "was:\n    " + "\n    ".join(lines), Level.ERROR)
            return
        except UserError as exc:  # deleted, or made unreadable: the stack keeps what it has
            self.orch.hub.notice(None, f"{file.name} changed but {exc.message}; the stack keeps running as it was",
                                 Level.ERROR)
            return
        await self.orch.apply(new)


def _relative(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return path.name
