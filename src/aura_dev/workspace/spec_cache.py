"""The last validated `aura.yaml`, kept by the supervisor for its next start.

Validating builds every model's pydantic schema first (~40 ms of CPU, plus pydantic's
plugin lookup, which reads the metadata of every installed package), and the supervisor
does it at the start of every `up`, while the units the head start spawned compete for the
same CPUs.  The models are declared with `defer_build`, so the schema is built only when
something validates; a start whose `aura.yaml` parses to exactly what was last validated,
by the same model code, unpickles the spec validated then instead.

Only the supervisor reads and writes this file (read-only commands write nothing, and are
not on a start's critical path).  The key covers the file's bytes and the code that gives
them meaning (aura's version, the model's and the defaults' sources, pydantic's version):
any change there validates afresh.  A cache that cannot be read is ignored, never an error.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aura_dev.atomic import write_atomic
from aura_dev.workspace.model import WorkspaceSpec

CACHE_FILE = "spec.pickle"
FORMAT = b"aura-spec-cache-1"
# The modules whose code decides what a file validates to (model defaults come from versions).
_MEANING = ("model.py", "names.py", "../versions.py")


def cache_path(state_dir: Path) -> Path:
    return state_dir / "run" / CACHE_FILE


def key(settings: Mapping[str, Any]) -> bytes:
    """What a cached spec must have been validated from: the parsed file (its repr has the
    keys in file order and the values' types) and the code that reads it."""
    from pydantic.version import VERSION

    from aura_dev import __version__

    digest = hashlib.sha256(FORMAT + b"\0" + __version__.encode() + b"\0" + VERSION.encode() + b"\0")
    here = Path(__file__).parent
    for name in _MEANING:
        digest.update((here / name).read_bytes() + b"\0")
    digest.update(repr(settings).encode())
    return digest.digest()


def load(state_dir: Path, settings: Mapping[str, Any]) -> WorkspaceSpec | None:
    """The spec last validated from exactly these `settings`, or None."""
    try:
        data = cache_path(state_dir).read_bytes()
        stored_key, _, body = data.partition(b"\n")
        if bytes.fromhex(stored_key.decode()) != key(settings):
            return None
        spec = pickle.loads(body)
    except Exception:  # noqa: BLE001 — missing, from older code, truncated: validate instead
        return None
    return spec if isinstance(spec, WorkspaceSpec) else None


def store(state_dir: Path, settings: Mapping[str, Any], spec: WorkspaceSpec) -> None:
    """Keep `spec` as validated from `settings` (best effort: a start that cannot write
    it only validates again next time)."""
    try:
        body = key(settings).hex().encode() + b"\n" + pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL)
        write_atomic(cache_path(state_dir), body, durable=False, keep_mode=False, mode=0o600)
    except (OSError, pickle.PicklingError):
        pass
