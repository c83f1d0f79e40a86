"""Every port of a run: explicit ones checked before anything starts, auto ones handed out
from the workspace's block and kept in `.aura/run/ports.json`, so a service answers on the
same ports from one `up` to the next; and new ports for a unit whose port was taken
between aura's choice and its bind."""

from __future__ import annotations

import json
from pathlib import Path

from aura_dev.atomic import write_json_atomic
from aura_dev.engine.runstate import run_dir
from aura_dev.errors import PortInUse
from aura_dev.net import PortAllocator, can_bind, port_holder
from aura_dev.plan.infra import InfraKind, InfraPorts, ports_needed
from aura_dev.plan.model import ServicePorts, SidecarPorts
from aura_dev.units import head_start
from aura_dev.workspace.load import Workspace
from aura_dev.workspace.model import InfraUnit, ServiceDapr

PORTS_FILE = "ports.json"
MAX_PORT_MOVES = 3  # new ports for one unit whose port was taken, per run
SIDECAR_KEYS = (("http", "http_port"), ("grpc", "grpc_port"), ("internal", "internal_grpc_port"),
                ("metrics", "metrics_port"))


class PortBook:
    def __init__(self, state_dir: Path, seed: str) -> None:
        self.path = run_dir(state_dir) / PORTS_FILE
        self.allocator = PortAllocator(seed=seed)
        self.saved = self._load()
        self._moves: dict[str, int] = {}
        self.early = head_start.early_ports()  # bound by this start's own head start, not by a stranger
        self.ours: set[int] = set()  # held by this workspace's kept infra (infra.keep): free for its units

    def _free(self, port: int) -> bool:
        return port in self.early or port in self.ours or can_bind(port)

    def _load(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text())
            return {str(k): int(v) for k, v in data.items()}
        except (OSError, ValueError, AttributeError, TypeError):
            return {}

    def save(self) -> None:
        write_json_atomic(self.path, self.saved)

    def port(self, key: str, explicit: int | str | None) -> int:
        """An explicit port as given; an auto one as last time if still free, else a new one."""
        if isinstance(explicit, int):
            return explicit
        saved = self.saved.get(key)
        if saved is not None and not self.allocator.is_reserved(saved) and self._free(saved):
            self.allocator.reserve(saved)
            port = saved
        else:
            port = self.allocator.allocate()
        self.saved[key] = port
        return port

    def _fresh(self, key: str, port: int, explicit: bool) -> int:
        if explicit:
            return port
        self.saved[key] = moved = self.allocator.allocate()
        return moved

    # ------------------------------------------------------------------ before the start

    def check_explicit(self, ws: Workspace, selected: list[str]) -> None:
        """Explicit ports must be free before anything starts; say who holds a taken one."""
        claims: list[tuple[int, str]] = []
        for kind in InfraKind:
            unit: InfraUnit = getattr(ws.spec.infra, kind.value)
            if unit.enabled and isinstance(unit.port, int):
                claims.append((unit.port, f"infra.{kind.value}.port"))
        for name in selected:
            svc = ws.services[name]
            if isinstance(svc.app_port, int):
                claims.append((svc.app_port, f"services.{name}.appPort"))
            if svc.dapr.enabled:
                for _key, attr in SIDECAR_KEYS:
                    value = getattr(svc.dapr, attr)
                    if isinstance(value, int):
                        claims.append((value, f"services.{name}.dapr.{attr}"))
        busy = []
        for port, where in claims:
            self.allocator.reserve(port)
            if not self._free(port):
                holder = port_holder(port)
                busy.append(f"{where}: port {port} is held by {holder.describe() if holder else 'another process'}")
        if busy:
            many = len(busy) > 1
            raise PortInUse(f"{len(busy)} port{'s' if many else ''} of the workspace {'are' if many else 'is'} "
                            "already in use; nothing was started",
                            details=busy, hint="stop what holds them, or set those ports to 'auto'")

    # ------------------------------------------------------------------ services

    def service_ports(self, ws: Workspace, name: str) -> ServicePorts:
        svc = ws.services[name]
        app = None if svc.app_port is None else self.port(f"{name}.app", svc.app_port)
        sidecar = None
        if svc.dapr.enabled:
            ports = {key: self.port(f"{name}.dapr.{key}", getattr(svc.dapr, attr)) for key, attr in SIDECAR_KEYS}
            sidecar = SidecarPorts(http=ports["http"], grpc=ports["grpc"], internal_grpc=ports["internal"],
                                   metrics=ports["metrics"])
        return ServicePorts(app=app, sidecar=sidecar)

    def forget_service(self, name: str) -> None:
        """Its saved auto ports no longer apply (its port settings changed, or one was taken)."""
        for key in [k for k in self.saved if k.startswith(f"{name}.")]:
            del self.saved[key]

    def fresh_service_ports(self, ws: Workspace, name: str, old: ServicePorts) -> ServicePorts:
        """New auto ports for a service whose port was grabbed between choice and bind;
        explicit ones stay."""
        svc = ws.services[name]
        self.forget_service(name)
        app = old.app
        if old.app is not None and not isinstance(svc.app_port, int):
            app = self._fresh(f"{name}.app", old.app, False)
        sidecar = old.sidecar
        if sidecar is not None:
            dapr: ServiceDapr = svc.dapr
            current = {"http": sidecar.http, "grpc": sidecar.grpc, "internal": sidecar.internal_grpc,
                       "metrics": sidecar.metrics}
            moved = {key: self._fresh(f"{name}.dapr.{key}", current[key], isinstance(getattr(dapr, attr), int))
                     for key, attr in SIDECAR_KEYS}
            sidecar = SidecarPorts(http=moved["http"], grpc=moved["grpc"], internal_grpc=moved["internal"],
                                   metrics=moved["metrics"])
        return ServicePorts(app=app, sidecar=sidecar)

    # ------------------------------------------------------------------ infra

    def infra_ports(self, kind: InfraKind, settings: InfraUnit) -> InfraPorts:
        main = self.port(f"infra.{kind.value}", settings.port)
        named = {extra: self.port(f"infra.{kind.value}.{extra}", None) for extra in ports_needed(kind)}
        return InfraPorts(main, named.pop("healthz", None), named.pop("metrics", None), named)

    def moved_infra_ports(self, kind: InfraKind, settings: InfraUnit, old: InfraPorts) -> InfraPorts:
        """Every auto port of `kind` anew (an explicit main port stays)."""
        prefix = f"infra.{kind.value}"
        return InfraPorts(
            self._fresh(prefix, old.main, isinstance(settings.port, int)),
            None if old.healthz is None else self._fresh(f"{prefix}.healthz", old.healthz, False),
            None if old.metrics is None else self._fresh(f"{prefix}.metrics", old.metrics, False),
            {name: self._fresh(f"{prefix}.{name}", port, False) for name, port in old.extra.items()})

    def may_move(self, unit_label: str) -> bool:
        """A few moves per unit: a port that stays taken (an explicit one, say) is a crash
        like any other, counted by the restart policy, not a loop of moves."""
        moves = self._moves.get(unit_label, 0)
        if moves >= MAX_PORT_MOVES:
            return False
        self._moves[unit_label] = moves + 1
        return True
