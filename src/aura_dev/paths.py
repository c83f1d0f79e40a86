"""Where aura keeps per-user data (the Dapr runtime) and caches (Go builds).

Both can be moved with environment variables, which tests and CI use to keep a
machine's real install apart from throwaway ones.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "aura-dev"


def data_dir() -> Path:
    override = os.environ.get("AURA_DATA_DIR")
    return Path(override) if override else platformdirs.user_data_path(APP_NAME)


def cache_dir() -> Path:
    override = os.environ.get("AURA_CACHE_DIR")
    return Path(override) if override else platformdirs.user_cache_path(APP_NAME)


def runtime_root() -> Path:
    return data_dir() / "runtime"
