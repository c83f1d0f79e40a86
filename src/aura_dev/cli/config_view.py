"""`aura dev config`: the resolved workspace, as YAML or JSON.

Validating `aura.yaml` needs pydantic and the model (a few hundred milliseconds to import
and build); the answer depends only on the file's bytes and on the files it names.  So an
answer is remembered (`cli/memo`) and given again, without those imports, while the file
and the files it names are as they were.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from aura_dev.cli import memo

# What an answer depends on besides the file and aura's own modules: the libraries that
# validate and write it.
LIBRARIES = ("pydantic", "pydantic_core", "yaml")


def show_config(workspace: Path | None, as_json: bool) -> None:
    from aura_dev.workspace.locate import discover

    file = discover(explicit=workspace).absolute()
    try:
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
    except OSError:
        digest = "unreadable"  # loading says why
    answer_key = memo.key("config", memo.sources(libraries=LIBRARIES), str(file), digest,
                          "json" if as_json else "yaml")
    remembered = memo.recall(answer_key)
    if remembered is not None:
        memo.replay(remembered)
        return
    text, facts = _resolve(file, as_json)
    sys.stdout.write(text)
    memo.remember(answer_key, memo.Answer(stdout=text, facts=facts))


def _resolve(file: Path, as_json: bool) -> tuple[str, list[list[str]]]:
    from aura_dev.workspace.load import load_workspace
    from aura_dev.workspace.resolved import referenced_paths, resolved_config

    ws = load_workspace(file)
    data = resolved_config(ws)
    if as_json:
        text = json.dumps(data, indent=2) + "\n"
    else:
        import yaml

        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    return text, [memo.fact(path) for path in referenced_paths(ws)]
