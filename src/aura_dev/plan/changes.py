"""Pure: what an edit of `aura.yaml` means for a running stack — which services start,
which stop, which restart (and whether their sidecars must restart too)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from aura_dev.workspace.graph import closure
from aura_dev.workspace.load import Workspace


@dataclass(frozen=True)
class ServiceChange:
    name: str
    restart_sidecar: bool  # Dapr, health or port settings changed: daprd's flags differ
    new_ports: bool  # its port settings changed: its saved auto ports no longer apply


@dataclass(frozen=True)
class WorkspaceChanges:
    selected: tuple[str, ...]  # the services that run after the change, in file order
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[ServiceChange, ...]
    shared_dapr_changed: bool  # resources / config / log level of every sidecar
    infra_changed: bool  # applies only at the next `up`

    @property
    def nothing(self) -> bool:
        return not (self.added or self.removed or self.changed or self.shared_dapr_changed or self.infra_changed)


def diff_workspaces(old: Workspace, new: Workspace, running: Collection[str],
                    requested: Sequence[str] = ()) -> WorkspaceChanges:
    """`running`: the services of the stack now; `requested`: what `up` was asked to start
    (empty: everything), whose dependencies come along."""
    wanted = closure(new.depends_on(), requested) if requested else set(new.services)
    selected = tuple(name for name in new.services if name in wanted)
    removed = tuple(name for name in running if name not in wanted)
    added = tuple(name for name in selected if name not in running)
    shared = new.spec.dapr != old.spec.dapr
    infra = new.spec.infra != old.spec.infra or new.spec.dapr.runtime_version != old.spec.dapr.runtime_version
    changed = []
    for name in selected:
        if name in added or name not in old.services:
            continue
        before, after = old.services[name], new.services[name]
        if before == after and not shared:
            continue
        sidecar_settings = (before.dapr, before.health_check, before.app_protocol, before.app_port) != (
            after.dapr, after.health_check, after.app_protocol, after.app_port)
        changed.append(ServiceChange(name, restart_sidecar=shared or sidecar_settings,
                                     new_ports=(before.app_port, before.dapr) != (after.app_port, after.dapr)))
    return WorkspaceChanges(selected, added, removed, tuple(changed), shared, infra)
