"""The inputs the workspace fuzz found bugs with, replayed on every run
(`tests/fixtures/workspace-fuzz/index.yaml` says what each did and must do now)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from support.workspace_oracle import build_root, check_all, parsed

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "workspace-fuzz"
INDEX: dict[str, dict[str, str]] = yaml.safe_load((CORPUS / "index.yaml").read_text())


def test_every_fixture_is_indexed() -> None:
    assert {p.name for p in CORPUS.glob("*.yaml")} - {"index.yaml"} == set(INDEX)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_root(tmp_path_factory.mktemp("corpus"))


@pytest.mark.parametrize("name", sorted(INDEX))
def test_a_found_input_keeps_every_property(root: Path, name: str) -> None:
    raw = (CORPUS / name).read_bytes()
    data = None  # unknown: the locations and the absence of tracebacks still count
    if b"&" not in raw:  # PyYAML itself would expand an alias bomb or recurse forever
        try:
            data = parsed(raw)
        except (yaml.YAMLError, ValueError):
            pass
    outcome = check_all(root / "aura.yaml", raw, data if isinstance(data, dict) else None, root)
    expected = INDEX[name]["expect"]
    if expected == "valid":
        assert outcome.workspace is not None, [p.render() for p in outcome.problems]
    else:
        shown = [p.render() for p in outcome.problems] or [outcome.error.message if outcome.error else ""]
        assert any(expected in line for line in shown), shown
