"""One test per class of workspace error: message, location and exit code, through `aura dev config`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conftest import run_aura


def write_workspace(root: Path, body: str, folders: tuple[str, ...] = ("svc",)) -> Path:
    for folder in folders:
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "aura.yaml").write_text(textwrap.dedent(body).lstrip())
    return root


def config_errors(root: Path) -> tuple[int, str]:
    done = run_aura("dev", "config", "-w", str(root))
    return done.returncode, done.stderr


BASE = """
name: demo
services:
  gateway:
    path: svc
    command: [python, app.py]
"""


@pytest.mark.parametrize(
    "body, location, expected",
    [
        ("name: [unclosed\n", "aura.yaml:2:1", "not valid YAML: while parsing a flow sequence"),
        ("name: a\n  bad: indent\n", "aura.yaml:2:6", "not valid YAML: mapping values are not allowed here"),
        ("- a\n- b\n", "aura.yaml:1:1", "expected a mapping at the top level"),
        (BASE + "    apPort: 8080\n", "aura.yaml:6:5: services.gateway.apPort", "unknown key 'apPort'"),
        (BASE + "    appPort: eighty\n", "aura.yaml:6:14: services.gateway.appPort",
         "expected a port number (1-65535) or 'auto', got 'eighty'"),
        (BASE + "    restart: {maxRestarts: many}\n", "aura.yaml:6:28: services.gateway.restart.maxRestarts",
         "expected a valid integer"),
        (BASE + "  gateway:\n    path: svc\n    command: [x]\n", "aura.yaml:6:3: services.gateway",
         "duplicate key 'gateway' (first defined at line 3)"),
        (BASE + "  other:\n    path: svc\n    command: [x]\n    dapr: {appId: gateway}\n",
         "aura.yaml:9:19: services.other.dapr.appId", "app id 'gateway' is also used by service 'gateway'"),
        (BASE + "    dapr: {appId: my.gateway}\n", "aura.yaml:6:19: services.gateway.dapr.appId",
         "contains a dot, which daprd refuses"),
        (BASE + "    dapr: {appId: Gateway_1}\n", "aura.yaml:6:19: services.gateway.dapr.appId",
         "holds 'G', '_': only lowercase letters"),
        (BASE + "    dependsOn: [conversaton]\n  conversation:\n    path: svc\n    command: [x]\n",
         "aura.yaml:6:17: services.gateway.dependsOn[0]", "depends on 'conversaton', which is not a service"),
        (BASE + "    dependsOn: [b]\n  b:\n    path: svc\n    command: [x]\n    dependsOn: [gateway]\n",
         "services.b.dependsOn", "dependency cycle: b -> gateway -> b"),
        (BASE.replace("path: svc", "path: nowhere"), "aura.yaml:4:11: services.gateway.path",
         "service folder nowhere does not exist"),
        (BASE.replace("[python, app.py]", "[]"), "aura.yaml:5:14: services.gateway.command", "the command is empty"),
        (BASE + "    appPort: 70000\n", "aura.yaml:6:14: services.gateway.appPort", "port 70000 is out of range"),
        (BASE + "    appPort: 8080\n    dapr: {httpPort: 8080}\n", "aura.yaml:7:22: services.gateway.dapr.httpPort",
         "port 8080 is also used by services.gateway.appPort (line 6)"),
        (BASE + "    envFiles: [.env.local]\n", "aura.yaml:6:16: services.gateway.envFiles[0]",
         "env file .env.local does not exist"),
        (BASE.replace("[python, app.py]", "[python, app.py, --port, '{prot}']"),
         "aura.yaml:5:39: services.gateway.command[3]", "unknown placeholder {prot}"),
        (BASE + "    dapr: {enabled: false}\n    env: {DAPR_PORT: '{dapr_http_port}'}\n",
         "services.gateway.env.DAPR_PORT", "placeholder {dapr_http_port} cannot be used: the service has no sidecar"),
    ],
    ids=["not-yaml", "not-yaml-indent", "not-mapping", "unknown-key", "wrong-type-port", "wrong-type-int", "duplicate-service",
         "duplicate-app-id", "app-id-dot", "app-id-not-dns", "missing-dependency", "cycle", "path-missing",
         "empty-command", "port-range", "port-twice", "env-file-missing", "unknown-placeholder",
         "placeholder-without-sidecar"],
)
def test_each_error_is_located_and_exits_2(tmp_path: Path, body: str, location: str, expected: str) -> None:
    code, stderr = config_errors(write_workspace(tmp_path, body))
    assert code == 2, stderr
    matching = [line for line in stderr.splitlines() if location in line]
    assert matching, f"no line with {location!r} in:\n{stderr}"
    assert any(expected in line for line in matching), f"{expected!r} not in {matching}"


def test_misspelt_key_gets_did_you_mean(tmp_path: Path) -> None:
    _code, stderr = config_errors(write_workspace(tmp_path, BASE + "    dependson: []\n"))
    assert "unknown key 'dependson'" in stderr
    assert "did you mean 'dependsOn'?" in stderr


def test_all_problems_reported_in_one_run(tmp_path: Path) -> None:
    body = BASE + "    apPort: 1\n    dependsOn: [ghost]\n  broken:\n    path: gone\n    command: ''\n"
    code, stderr = config_errors(write_workspace(tmp_path, body))
    assert code == 2
    assert "has 4 problems" in stderr
    for fragment in ("unknown key 'apPort'", "depends on 'ghost'", "service folder gone", "the command is empty"):
        assert fragment in stderr


def test_missing_required_key_names_it(tmp_path: Path) -> None:
    code, stderr = config_errors(write_workspace(tmp_path, "name: demo\nservices:\n  gateway:\n    path: svc\n"))
    assert code == 2
    assert "services.gateway.command: missing required key 'command'" in stderr
    assert "aura.yaml:3:3" in stderr


def test_no_workspace_found(tmp_path: Path) -> None:
    done = run_aura("dev", "config", cwd=tmp_path, env={"AURA_WORKSPACE": ""})
    assert done.returncode == 2
    assert "no aura.yaml in" in done.stderr


def test_discovery_walks_up_from_a_subfolder(tmp_path: Path) -> None:
    write_workspace(tmp_path, BASE)
    sub = tmp_path / "svc" / "deep"
    sub.mkdir(parents=True)
    done = run_aura("dev", "config", "--json", cwd=sub, env={"AURA_WORKSPACE": ""})
    assert done.returncode == 0, done.stderr
    assert str(tmp_path / "aura.yaml") in done.stdout


def test_aura_workspace_env_overrides_discovery(tmp_path: Path) -> None:
    write_workspace(tmp_path / "ws", BASE)
    done = run_aura("dev", "config", "--json", cwd=tmp_path, env={"AURA_WORKSPACE": str(tmp_path / "ws")})
    assert done.returncode == 0, done.stderr
    assert '"name": "demo"' in done.stdout
