"""Versions of the third-party programs aura runs, pinned in one place.

Lowest layer: the workspace model (defaults), the runtime installer and the infra
backends all read these, and none of them should import another to learn a number.
"""

from __future__ import annotations

# The Dapr runtime (daprd, placement, scheduler) aura installs and runs by default.
DEFAULT_RUNTIME_VERSION = "1.18.2"
