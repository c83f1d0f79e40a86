"""The dashboard's per-run token: made by the supervisor, kept in a file only its user can
read (as Jupyter keeps its runtime files), and joined to the URL for whoever opens it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aura_dev.atomic import write_atomic
from aura_dev.engine.run_files import run_dir  # not runstate: `up -d`'s summary imports this (~30 ms)

if TYPE_CHECKING:
    from aura_dev.engine.snapshot import StackSnapshot

TOKEN_FILE = "dashboard.token"
TOKEN_PARAM = "token"


def token_path(state_dir: Path) -> Path:
    return run_dir(state_dir) / TOKEN_FILE


def write_token(state_dir: Path, token: str) -> None:
    write_atomic(token_path(state_dir), token, durable=False, keep_mode=False, mode=0o600)


def read_token(state_dir: Path) -> str | None:
    try:
        return token_path(state_dir).read_text().strip() or None
    except OSError:
        return None


def forget_token(state_dir: Path) -> None:
    token_path(state_dir).unlink(missing_ok=True)


def login_url(base_url: str, token: str | None) -> str:
    """The URL `up` prints and `aura dev dashboard` opens: the page exchanges the token
    for a cookie and drops it from the address bar."""
    return f"{base_url}?{TOKEN_PARAM}={token}" if token else base_url


def stack_login_url(state_dir: Path, state: StackSnapshot | None) -> str | None:
    """The running stack's dashboard with this run's token, for the user who runs the stack."""
    if state is None or state.dashboard is None:
        return None
    return login_url(state.dashboard.url, read_token(state_dir))


def cookie_name(port: int) -> str:
    # Cookies are not kept apart by port: two workspaces' dashboards on one machine need two names.
    return f"aura-dashboard-{port}"
