"""The services `aura dev new service` makes pass their own tests, with no sidecar:
pytest (FastAPI's TestClient) for Python, `npm install && npm test` (node --test) for Node."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require, run_aura

pytestmark = pytest.mark.integration


def new_service(root: Path, name: str, *args: str) -> Path:
    done = run_aura("dev", "new", "service", name, *args, "-w", str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "services" / name


def importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


def test_generated_python_service_passes_its_tests(tmp_path: Path) -> None:
    missing = [m for m in ("dapr.ext.fastapi", "fastapi", "httpx") if not importable(m)]
    require(not missing, f"the Python service's dependencies are missing ({', '.join(missing)}): "
            "pip install -e '.[sample,test]'")
    folder = new_service(tmp_path, "billing")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout


def test_generated_node_service_passes_its_tests(tmp_path: Path) -> None:
    require(shutil.which("npm") is not None, "npm is not installed")
    folder = new_service(tmp_path, "ledger", "--lang", "node", "--no-install")
    for command in (["npm", "install", "--no-audit", "--no-fund"], ["npm", "test"]):
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}{done.stderr}"
    assert "# pass 6" in done.stdout and "# fail 0" in done.stdout
