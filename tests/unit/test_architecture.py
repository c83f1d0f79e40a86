"""The package layout keeps its promises: the import contracts in pyproject.toml hold (and
would catch a break), and no module outgrows the 400-line limit."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "aura_dev"
MAX_MODULE_LINES = 400


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).parent / "lint-imports"
    return subprocess.run([str(tool), "--no-cache", "--config", str(root / "pyproject.toml")], cwd=root,
                          env={"PYTHONPATH": str(root / "src"), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)


def test_import_contracts_are_kept() -> None:
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


def test_the_contracts_catch_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    shutil.copytree(REPO / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    placeholders = tmp_path / "src/aura_dev/workspace/placeholders.py"
    placeholders.write_text(placeholders.read_text().replace(
        "import string\n", "import string\n\nfrom aura_dev.engine import session  # noqa: F401\n", 1))
    runner = tmp_path / "src/aura_dev/engine/runner.py"  # a type-checking-only import counts too
    runner.write_text(runner.read_text().replace(
        "from __future__ import annotations\n",
        "from __future__ import annotations\n\nfrom typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
        "    from aura_dev.engine.orchestrator import Orchestrator  # noqa: F401\n", 1))
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "aura_dev.workspace is not allowed to import aura_dev.engine" in done.stdout
    assert ".runner -> .orchestrator" in done.stdout


def test_no_module_is_over_the_line_limit() -> None:
    too_long = {str(path.relative_to(PACKAGE)): count for path in PACKAGE.rglob("*.py")
                if (count := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert too_long == {}
