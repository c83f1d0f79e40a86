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


def test_sample_and_its_resolved_config_validate_against_the_schema() -> None:
    import json
    import subprocess
    import sys

    import jsonschema
    import yaml

    from aura_dev.workspace.resolved import json_schema

    schema = json_schema()
    sample = yaml.safe_load((REPO / "sample-workspace" / "aura.yaml").read_text())
    jsonschema.validate(sample, schema)
    aura = str(Path(sys.executable).parent / "aura")
    done = subprocess.run([aura, "dev", "config", "--json", "-w", str(REPO / "sample-workspace")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    resolved = json.loads(done.stdout)
    assert resolved.pop("workspace")["root"] == str(REPO / "sample-workspace")
    jsonschema.validate(resolved, schema)  # defaults filled in are still a valid workspace
    assert resolved["services"]["assistant-gateway"]["dependsOn"] == ["conversation", "sessions", "notifications"]
    assert resolved["services"]["conversation"]["dapr"]["appId"] == "conversation"
    assert resolved["services"]["conversation"]["path"] == str(REPO / "sample-workspace/services/conversation")
