"""The last validated `aura.yaml`, kept by the supervisor for its next start.

Parsing imports PyYAML (~15 ms of CPU) and validating builds every model's pydantic schema
first (~40 ms, plus pydantic's plugin lookup, which reads the metadata of every installed
package), and the supervisor did both at the start of every `up`, while the units the head
start spawned compete for the same CPUs.  The models are declared with `defer_build`, so
the schema is built only when something validates; a start whose `aura.yaml` is the text
last validated, read by the same code, unpickles the document parsed then (with its
locations, for the checks against the disk) and the spec validated then instead.

Only the supervisor reads and writes this file (read-only commands write nothing, and are
not on a start's critical path).  The key covers the file's path and text and the code
that gives them meaning (aura's version, the parser's, the model's and the defaults'
sources, pydantic's version): any change there parses and validates afresh.  A cache that cannot be read is ignored, never an error.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

from aura_dev.atomic import write_atomic
from aura_dev.workspace.model import WorkspaceSpec
from aura_dev.workspace.source_doc import SourceDocument

CACHE_FILE = "spec.pickle"
FORMAT = b"aura-spec-cache-2"
# The modules whose code decides what a file parses and validates to (model defaults come
# from versions).
_MEANING = ("model.py", "names.py", "../versions.py", "yamlsource.py", "source_doc.py")


def cache_path(state_dir: Path) -> Path:
    return state_dir / "run" / CACHE_FILE


def key(file: Path, text: str) -> bytes:
    """What a cached spec must have been validated from: this file, this text, this code."""
    from pydantic.version import VERSION

    from aura_dev import __version__

    digest = hashlib.sha256(FORMAT + b"\0" + __version__.encode() + b"\0" + VERSION.encode() + b"\0")
    here = Path(__file__).parent
    for name in _MEANING:
        digest.update((here / name).read_bytes() + b"\0")
    digest.update(str(file).encode() + b"\0" + text.encode("utf-8", "surrogatepass"))
    return digest.digest()


def load(state_dir: Path, file: Path, text: str) -> tuple[SourceDocument, WorkspaceSpec] | None:
    """The document parsed and the spec validated from exactly this `text` of `file`, or None."""
    try:
        data = cache_path(state_dir).read_bytes()
        stored_key, _, body = data.partition(b"\n")
        if bytes.fromhex(stored_key.decode()) != key(file, text):
            return None
        doc, spec = pickle.loads(body)
    except Exception:  # noqa: BLE001 — missing, from older code, truncated: parse and validate instead
        return None
    return (doc, spec) if isinstance(doc, SourceDocument) and isinstance(spec, WorkspaceSpec) else None


def store(state_dir: Path, file: Path, text: str, doc: SourceDocument, spec: WorkspaceSpec) -> None:
    """Keep `doc` and `spec` as parsed and validated from `text` (best effort: a start that
    cannot write them only parses and validates again next time)."""
    try:
        body = key(file, text).hex().encode() + b"\n" + pickle.dumps((doc, spec), protocol=pickle.HIGHEST_PROTOCOL)
        write_atomic(cache_path(state_dir), body, durable=False, keep_mode=False, mode=0o600)
    except (OSError, pickle.PicklingError):
        pass
