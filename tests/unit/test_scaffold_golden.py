"""A fresh render of each service template equals its golden tree in tests/golden/.

Regenerate after an intended template change (then review `git diff tests/golden`):
    AURA_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_scaffold_golden.py
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest

from aura_dev.scaffold.service import LANGUAGES, NOT_TEMPLATES, render_template, service_context
from conftest import IN_CI, REPO

GOLDEN = REPO / "tests" / "golden"
UPDATE = os.environ.get("AURA_UPDATE_GOLDEN", "") not in ("", "0")


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_render_matches_golden_tree(language: str, tmp_path: Path) -> None:
    rendered = tmp_path / "billing"
    written = render_template(LANGUAGES[language].template, service_context("billing", ["conversation"]), rendered)
    golden = GOLDEN / f"scaffold-{language}"
    if UPDATE:
        assert not IN_CI, "AURA_UPDATE_GOLDEN is for a developer's machine; CI only compares"
        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(rendered, golden)
    expected, actual = tree(golden), tree(rendered)
    assert sorted(written) == sorted(actual)
    assert sorted(actual) == sorted(expected), "files differ (regenerate: AURA_UPDATE_GOLDEN=1, see tests/golden/README.md)"
    for name, text in expected.items():
        diff = "".join(difflib.unified_diff(text.splitlines(keepends=True), actual[name].splitlines(keepends=True),
                                            f"golden/{name}", f"rendered/{name}"))
        assert not diff, f"{name} differs from its golden file (AURA_UPDATE_GOLDEN=1 regenerates):\n{diff}"


def test_templates_hold_no_leftovers() -> None:
    """Leftovers of running a template in place (node_modules, caches) would ship in the wheel."""
    stray = [p for p in (REPO / "templates").rglob("*") if NOT_TEMPLATES & set(p.parts)]
    assert stray == []
