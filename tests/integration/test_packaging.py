"""A non-editable install works and carries the templates and the dashboard's assets inside the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def test_the_wheel_ships_templates_and_runs_without_the_source_tree(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path),
                            str(REPO)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = list(tmp_path.glob("aura_dev-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for template in ("aura_dev/templates/service-python/app.py.j2", "aura_dev/templates/service-node/server.js.j2"):
        assert template in names
    # The dashboard's pages and assets travel inside the wheel: nothing is fetched at run time.
    source = REPO / "src" / "aura_dev" / "dashboard"
    assets = [str(path.relative_to(source)) for folder in ("templates", "static") for path in (source / folder).rglob("*")
              if path.is_file()]
    assert len(assets) >= 10 and not [a for a in assets if f"aura_dev/dashboard/{a}" not in names]
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target",
                              str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-3000:]
    # Dependencies from this venv, aura_dev only from the installed wheel (never from src/).
    deps = [p for p in sys.path if p.endswith("site-packages")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), *deps]), PYTHONNOUSERSITE="1")
    probe = subprocess.run([sys.executable, "-I", "-c", "import sys; sys.path[:0] = __import__('os').environ['PYTHONPATH'].split(':');"
                            "import aura_dev, aura_dev.scaffold.service as s; print(aura_dev.__file__); print(s.templates_root())"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    module, templates = probe.stdout.split()
    assert module.startswith(str(target)) and templates.startswith(str(target))
    assert (Path(templates) / "service-python" / "app.py.j2").is_file()
    scaffold = tmp_path / "ws"
    scaffold.mkdir()
    made = subprocess.run([sys.executable, "-I", "-c", "import sys, os; sys.path[:0] = os.environ['PYTHONPATH'].split(':');"
                           "sys.argv = ['aura', 'dev', 'new', 'service', 'billing', '--lang', 'python', '-w', sys.argv[1]];"
                           "from aura_dev.cli import main; main()", str(scaffold)],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (scaffold / "services" / "billing" / "app.py").is_file()
