"""The workspace as aura will run it: defaults filled, paths absolute, secrets masked;
and the JSON Schema editors use to complete and check `aura.yaml`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aura_dev.atomic import write_atomic
from aura_dev.workspace.load import Workspace
from aura_dev.workspace.model import WorkspaceSpec

SECRET_NAME = re.compile(r"(?i)(pass(word)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)")
MASK = "********"
SCHEMA_FILE = "aura.schema.json"
SCHEMA_COMMENT_PREFIX = "# yaml-language-server: $schema="


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def resolved_config(ws: Workspace) -> dict[str, Any]:
    data: dict[str, Any] = ws.spec.model_dump(mode="json", by_alias=True)
    root = ws.root
    data["workspace"] = {"file": str(ws.file), "root": str(root), "stateDir": str(ws.state_dir)}
    data["dapr"]["resources"] = [str((root / p).resolve()) for p in ws.spec.dapr.resources]
    if ws.spec.dapr.config:
        data["dapr"]["config"] = str((root / ws.spec.dapr.config).resolve())
    if data["infra"]["redis"].get("password"):
        data["infra"]["redis"]["password"] = MASK
    for name, service in ws.spec.services.items():
        out = data["services"][name]
        folder = ws.service_dir(name)
        out["path"] = str(folder)
        out["envFiles"] = [str((folder / f).resolve()) for f in service.env_files]
        out["env"] = {k: (MASK if is_secret_name(k) and v else v) for k, v in service.env.items()}
        out["dapr"]["appId"] = ws.app_id(name) if service.dapr.enabled else None
        out["dapr"]["resources"] = [str((folder / p).resolve()) for p in service.dapr.resources]
        if service.dapr.config:
            out["dapr"]["config"] = str((folder / service.dapr.config).resolve())
        out["dapr"]["logLevel"] = service.dapr.log_level or ws.spec.dapr.log_level
        if service.dapr.enable_api_logging is None:
            out["dapr"]["enableApiLogging"] = ws.spec.dapr.enable_api_logging
    return data


def referenced_paths(ws: Workspace) -> list[Path]:
    """Every path the workspace names (what validation checks and `resolved_config` resolves):
    an answer computed from the file alone holds while these stay as they are."""
    root = ws.root
    found = [root, *(root / p for p in ws.spec.dapr.resources)]
    if ws.spec.dapr.config:
        found.append(root / ws.spec.dapr.config)
    for service in ws.spec.services.values():
        folder = root / service.path
        found += [folder, *(folder / f for f in service.env_files), *(folder / p for p in service.dapr.resources)]
        if service.dapr.config:
            found.append(folder / service.dapr.config)
    return found


def json_schema() -> dict[str, Any]:
    schema = WorkspaceSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://aura.dev/schemas/aura.schema.json"
    return schema


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def ensure_schema_file(state_dir: Path) -> Path:
    """Keep `.aura/aura.schema.json` current, so the `$schema` line of generated files resolves."""
    target = state_dir / SCHEMA_FILE
    text = schema_text()
    try:
        if target.is_file() and target.read_text() == text:
            return target
        write_atomic(target, text)
    except OSError:
        pass  # a read-only workspace still works; editors just lose completion
    return target
