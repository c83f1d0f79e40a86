"""Where aura keeps per-user data (the Dapr runtime) and caches (Go builds, remembered answers).

Both can be moved with environment variables, which tests and CI use to keep a
machine's real install apart from throwaway ones.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "aura-dev"


def data_dir() -> Path:
    override = os.environ.get("AURA_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return platformdirs.user_data_path(APP_NAME)


def cache_dir() -> Path:
    override = os.environ.get("AURA_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform.startswith("linux"):
        # The XDG rule platformdirs applies on Linux, without importing it (~25 ms): the
        # fast answers (`cli/fast.py`) look here on every run.
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        return Path(xdg if os.path.isabs(xdg) else os.path.expanduser("~/.cache")) / APP_NAME
    import platformdirs

    return platformdirs.user_cache_path(APP_NAME)


def runtime_root() -> Path:
    return data_dir() / "runtime"
