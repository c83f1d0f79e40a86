"""Every sidecar's Configuration with aura's tracing in it: the user's files (or aura's
rendered copies of them) merged and written under `.aura/run/resources/`, and a default
Configuration for sidecars the workspace gives none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from aura_dev.atomic import write_if_changed
from aura_dev.plan.tracing import TracingNote, default_configuration, merge_tracing

__all__ = ["TracedConfigs", "TracingNote", "with_tracing"]


@dataclass(frozen=True)
class TracedConfigs:
    configs: dict[Path, Path]  # a Configuration file -> the copy sidecars get
    default: Path | None
    notes: tuple[TracingNote, ...]


def with_tracing(files: Sequence[Path], zipkin: str, rendered: Mapping[Path, Path], root: Path) -> TracedConfigs:
    """Merge aura's tracing into each Configuration in `files` (the user's keys win); a
    file aura cannot read as one Configuration is given as it is, with a note."""
    configs = dict(rendered)
    notes: list[TracingNote] = []
    for index, source in enumerate(files):
        current = rendered.get(source, source)
        try:
            documents = [d for d in yaml.safe_load_all(current.read_text(encoding="utf-8")) if d is not None]
        except (OSError, yaml.YAMLError):
            continue  # daprd reports a broken file itself, with its own position
        if len(documents) != 1 or not isinstance(documents[0], Mapping) or documents[0].get("kind") != "Configuration":
            notes.append(TracingNote(source, "not a single Dapr Configuration: given as it is, without tracing"))
            continue
        merged, found = merge_tracing(documents[0], zipkin, source)
        notes += found
        folder = root / f"traced-{index}"
        folder.mkdir(parents=True, exist_ok=True)
        write_if_changed(folder / source.name, yaml.safe_dump(merged, sort_keys=False))
        configs[source] = folder / source.name
    default = root / "traced-default" / "config.yaml"
    default.parent.mkdir(parents=True, exist_ok=True)
    write_if_changed(default, yaml.safe_dump(default_configuration(zipkin), sort_keys=False))
    return TracedConfigs(configs, default, tuple(notes))
