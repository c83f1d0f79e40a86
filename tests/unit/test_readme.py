from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    command = next(line for line in ci_lines if line.startswith("bash scripts/bootstrap.sh"))
    readme = (REPO / "README.md").read_text()
    assert f"```bash\n{command}\n```" in readme


def test_readme_main_job_brings_up_the_sample_workspace() -> None:
    readme = (REPO / "README.md").read_text()
    assert "aura dev up -w sample-workspace" in readme
    assert (REPO / "sample-workspace" / "aura.yaml").is_file()


def test_committed_schema_matches_the_model() -> None:
    from aura_dev.workspace.resolved import schema_text

    committed = (REPO / "schema" / "aura.schema.json").read_text()
    assert committed == schema_text(), "regenerate: aura dev schema -o schema/aura.schema.json"


def test_sample_workspace_is_valid_and_points_at_the_schema() -> None:
    from aura_dev.workspace.load import load_workspace

    text = (REPO / "sample-workspace" / "aura.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../schema/aura.schema.json")
    ws = load_workspace(REPO / "sample-workspace" / "aura.yaml")
    assert set(ws.services) == {"assistant-gateway", "conversation", "notifications", "sessions"}
