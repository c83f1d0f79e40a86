from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    command = next(line for line in ci_lines if line.startswith("bash scripts/bootstrap.sh"))
    readme = (REPO / "README.md").read_text()
    assert f"```bash\n{command}\n```" in readme
