"""`aura dev import dapr.yaml`: the real command on run templates shaped like Dapr's own.

Each test copies a fixture (tests/fixtures/dapr-run/<case>) to a temporary folder, imports
it, and checks the written aura.yaml by loading it as aura does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from aura_dev.workspace.load import Workspace, load_workspace
from aura_dev.workspace.placeholders import resolve
from conftest import run_aura

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dapr-run"
SCHEMA_LINE = "# yaml-language-server: $schema=./.aura/aura.schema.json"


def copy_case(case: str, tmp_path: Path) -> Path:
    root = tmp_path / case
    shutil.copytree(FIXTURES / case, root)
    return root


def import_case(case: str, tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    root = copy_case(case, tmp_path)
    return run_aura("dev", "import", str(root / "dapr.yaml"), *args), root


Imported = Callable[[str], tuple[Workspace, str, Path]]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Imported:
    """Import a fixture case once per module; tests only read the result."""
    results: dict[str, tuple[Workspace, str, Path]] = {}

    def run(case: str) -> tuple[Workspace, str, Path]:
        if case not in results:
            done, root = import_case(case, tmp_path_factory.mktemp("import"))
            assert done.returncode == 0, done.stderr
            results[case] = (load_workspace(root / "aura.yaml"), done.stderr, root)
        return results[case]

    return run


def written_files(root: Path) -> list[str]:
    """What an import may have left in the run file's folder."""
    return sorted(p.name for p in root.iterdir() if p.name == "aura.yaml" or p.name.startswith(".aura.yaml"))


# ------------------------------------------------------------------ mapping


def test_quickstart_services_paths_and_ports(imported: Imported) -> None:
    ws, _, root = imported("quickstart")
    assert ws.name == "orders"
    assert list(ws.services) == ["order-processor", "checkout", "notifications"]  # the run file's order
    for name in ws.services:
        assert ws.service_dir(name) == (root / name).resolve()
        assert ws.app_id(name) == name
    assert ws.services["checkout"].path == "checkout"  # appID defaults to the folder's name
    assert ws.services["order-processor"].command == ["python3", "app.py"]
    assert ws.services["checkout"].command == ["python3", "app.py", "--orders", "10"]
    assert ws.services["order-processor"].app_port == 6001
    assert ws.services["notifications"].app_port == 6003
    # No appPort in dapr run: daprd never calls the app, which is aura's worker, not `auto`.
    assert ws.services["checkout"].app_port is None
    for name in ws.services:  # sidecar ports not in the run file: aura picks them
        dapr = ws.services[name].dapr
        assert (dapr.http_port, dapr.grpc_port, dapr.internal_grpc_port, dapr.metrics_port) == ("auto",) * 4


def test_quickstart_env_precedence(imported: Imported) -> None:
    ws, _, _ = imported("quickstart")
    assert ws.services["order-processor"].env == {
        "LOG_FORMAT": "json", "STORE_NAME": "orders-store", "DEBUG": "false", "RETRIES": "3"}
    assert ws.services["checkout"].env == {"LOG_FORMAT": "json", "STORE_NAME": "statestore", "DEBUG": "false"}
    # Braces are escaped in aura.yaml and resolve back to the run file's text.
    template = ws.services["notifications"].env["TEMPLATE"]
    assert resolve(template, {}) == '{"subject": "order {id}"}'


def test_quickstart_resources_precedence(imported: Imported) -> None:
    ws, stderr, root = imported("quickstart")
    assert [(root / p).resolve() for p in ws.spec.dapr.resources] == [(root / "components").resolve()]
    assert ws.services["order-processor"].dapr.resources == []
    notifications = ws.services["notifications"]
    assert [(ws.service_dir("notifications") / p).resolve() for p in notifications.dapr.resources] == [
        (root / "notifications" / "components").resolve()]
    # dapr run replaces common's resources with the app's; aura adds them up, and says so.
    assert "dapr.yaml:25:5: apps[2].resourcesPaths: dapr run gives apps[2] (notifications) only " \
           "notifications/components" in stderr
    assert "also loads components" in stderr


def test_dapr_init_addresses_are_reported_and_the_files_left_alone(imported: Imported) -> None:
    _, stderr, root = imported("quickstart")
    assert "note: resources written for `dapr init` run unchanged" in stderr
    for shown, name in (("components/pubsub.yaml", "orderpubsub"), ("components/statestore.yaml", "statestore"),
                        ("notifications/components/email.yaml", "email")):
        assert f"  {shown}: {name}: localhost:6379 → aura's Redis; write `{{redis_host}}` to make it explicit" in stderr
    assert (root / "components" / "pubsub.yaml").read_text() == (FIXTURES / "quickstart/components/pubsub.yaml").read_text()


def test_readable_file_with_schema_line_and_source(imported: Imported) -> None:
    _, stderr, root = imported("quickstart")
    text = (root / "aura.yaml").read_text()
    lines = text.splitlines()
    assert lines[0] == SCHEMA_LINE
    assert "Imported from dapr.yaml" in lines[1]
    data = yaml.safe_load(text)
    assert list(data) == ["name", "dapr", "services"]
    assert list(data["services"]["order-processor"])[:2] == ["path", "command"]
    assert "    command: [python3, app.py]" in lines  # a command stays a list, written on one line
    assert (root / ".aura" / "aura.schema.json").is_file()  # the $schema line resolves
    assert "wrote" in stderr and "3 services" in stderr


def test_deprecated_resources_path_and_dapr_folder(imported: Imported) -> None:
    ws, stderr, root = imported("dapr-dir")
    assert ws.name == "dapr-dir"  # no `name:`: the output folder's name
    assert list(ws.services) == ["backend", "frontend", "worker"]
    # common: deprecated resourcesPath and configFilePath, relative to the run file.
    assert ws.spec.dapr.resources == ["shared"]
    assert ws.spec.dapr.config == "config/tracing.yaml"
    # <appDir>/.dapr/resources and .dapr/config.yaml win over common's.
    backend = ws.services["backend"].dapr
    assert backend.resources == [".dapr/resources"]
    assert backend.config == ".dapr/config.yaml"
    assert (ws.service_dir("backend") / backend.resources[0]).is_dir()
    # An app's deprecated resourcesPath is relative to its appDirPath.
    assert ws.services["frontend"].dapr.resources == ["deploy/components"]
    assert ws.services["frontend"].dapr.config is None  # common's, from the workspace
    assert ws.services["worker"].dapr.resources == []
    assert "apps[0].appDirPath: dapr run gives apps[0] (backend) only backend/.dapr/resources" in stderr
    assert "apps[1].resourcesPath: dapr run gives apps[1] (frontend) only frontend/deploy/components" in stderr


def test_health_checks_ports_and_sidecar_settings(imported: Imported) -> None:
    ws, _, _ = imported("health-ports")
    api = ws.services["api"]
    assert api.app_port == 8080
    assert api.health_check.http == "/ready"
    assert (api.dapr.http_port, api.dapr.grpc_port, api.dapr.internal_grpc_port, api.dapr.metrics_port) == (
        3500, 50001, 50011, 9091)
    assert api.dapr.app_max_concurrency == 4
    assert api.dapr.enable_api_logging is True
    # Probe settings (common's interval and threshold, the app's timeout) and daprd tuning
    # go to dapr.args, which daprd reads after aura's defaults.
    assert api.dapr.args == ["--app-health-probe-interval", "10", "--app-health-probe-timeout", "800",
                             "--app-health-threshold", "5", "--max-body-size", "8Mi"]
    grader = ws.services["grader"]
    assert grader.app_protocol == "grpc"  # `GRPC` in the run file: dapr lowercases it
    assert grader.health_check.http is None
    assert grader.dapr.args == ["--enable-app-health-check", "--app-health-probe-interval", "10",
                                "--app-health-threshold", "5"]
    assert grader.image == "registry.local/grader:dev"
    assert grader.dapr.enable_api_logging is None
    # logLevel: common's for the workspace, the app's own where it differs.
    assert ws.spec.dapr.log_level == "debug"
    assert grader.dapr.log_level == "warn"
    assert api.dapr.log_level is None
    nightly = ws.services["nightly"]
    assert nightly.app_port is None
    assert nightly.health_check.http is None and nightly.dapr.args == []


@pytest.mark.parametrize(
    "location, expected",
    [
        ("dapr.yaml:4:3: common.enableAppHealthCheck", "the app has no appPort to check (for apps[2] (nightly))"),
        ("dapr.yaml:8:3: common.daprdLogDestination", "not imported ('console'): aura shows every app and sidecar "
                                                      "log in the foreground and keeps them under .aura/logs"),
        ("dapr.yaml:9:3: common.appLogDestination", "not imported ('fileAndConsole')"),
        ("dapr.yaml:10:3: common.placementHostAddress", "aura runs its own placement service"),
        ("dapr.yaml:11:3: common.daprHTTPPort", "a per-app key, ignored in common"),
        ("dapr.yaml:31:5: apps[1].runtimePath", "aura dev init"),
        ("dapr.yaml:33:5: apps[1].createService", "Kubernetes only"),
        ("dapr.yaml:34:5: apps[1].schedulerHostAddress", "not imported (''): aura runs its own scheduler"),
        ("dapr.yaml:38:5: apps[2].apPort", "unknown key, ignored (dapr run ignores it too); did you mean 'appPort'?"),
    ],
)
def test_unmapped_settings_are_listed_on_stderr(imported: Imported, location: str, expected: str) -> None:
    _, stderr, _ = imported("health-ports")
    assert "9 settings of dapr.yaml are not carried over as is" in stderr
    matching = [line for line in stderr.splitlines() if location in line]
    assert matching, f"no line with {location!r} in:\n{stderr}"
    assert expected in matching[0]


def test_nothing_unmapped_means_no_note(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "svc").mkdir(parents=True)
    (root / "dapr.yaml").write_text("version: 1\napps:\n  - appDirPath: ./svc\n    command: [python3, app.py]\n")
    done = run_aura("dev", "import", str(root))  # a folder: its dapr.yaml, like dapr run -f
    assert done.returncode == 0, done.stderr
    assert "note:" not in done.stderr
    assert list(load_workspace(root / "aura.yaml").services) == ["svc"]


# ------------------------------------------------------------------ output


def test_output_elsewhere_keeps_paths_relative_to_it(tmp_path: Path) -> None:
    root = copy_case("quickstart", tmp_path)
    out = tmp_path / "workspace"
    out.mkdir()
    done = run_aura("dev", "import", str(root / "dapr.yaml"), "-o", str(out / "aura.yaml"))
    assert done.returncode == 0, done.stderr
    ws = load_workspace(out / "aura.yaml")
    assert ws.services["checkout"].path == "../quickstart/checkout"
    assert ws.service_dir("checkout") == (root / "checkout").resolve()
    assert ws.spec.dapr.resources == ["../quickstart/components"]
    assert ws.services["notifications"].dapr.resources == ["components"]  # relative to the service
    assert "Imported from ../quickstart/dapr.yaml" in (out / "aura.yaml").read_text()
    assert written_files(root) == []


def test_paths_written_absolute_stay_absolute(tmp_path: Path) -> None:
    shared, app, root = tmp_path / "components", tmp_path / "apps" / "api", tmp_path / "project"
    for folder in (shared, app, root):
        folder.mkdir(parents=True)
    (root / "dapr.yaml").write_text(textwrap.dedent(f"""\
        version: 1
        common:
          resourcesPath: {shared}
        apps:
          - appDirPath: {app}
            command: [python3, app.py]
        """))
    done = run_aura("dev", "import", str(root / "dapr.yaml"))
    assert done.returncode == 0, done.stderr
    ws = load_workspace(root / "aura.yaml")
    assert ws.spec.dapr.resources == [str(shared)]
    assert ws.services["api"].path == str(app)


def test_output_folder_means_its_aura_yaml(tmp_path: Path) -> None:
    root = copy_case("dapr-dir", tmp_path)
    done = run_aura("dev", "import", str(root / "dapr.yaml"), "-o", str(root))
    assert done.returncode == 0, done.stderr
    assert (root / "aura.yaml").is_file()


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    root = copy_case("quickstart", tmp_path)
    (root / "aura.yaml").write_text("name: keep-me\n")
    done = run_aura("dev", "import", str(root / "dapr.yaml"))
    assert done.returncode == 2
    assert "already exists" in done.stderr and "--force" in done.stderr
    assert (root / "aura.yaml").read_text() == "name: keep-me\n"
    done = run_aura("dev", "import", str(root / "dapr.yaml"), "--force")
    assert done.returncode == 0, done.stderr
    assert load_workspace(root / "aura.yaml").name == "orders"
    assert written_files(root) == ["aura.yaml"]


def test_output_folder_must_exist(tmp_path: Path) -> None:
    root = copy_case("quickstart", tmp_path)
    done = run_aura("dev", "import", str(root / "dapr.yaml"), "-o", str(tmp_path / "nowhere" / "aura.yaml"))
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("case", ["quickstart", "dapr-dir", "health-ports"])
def test_aura_dev_config_works_on_the_result(imported: Imported, case: str) -> None:
    _, _, root = imported(case)
    config = run_aura("dev", "config", "-w", str(root / "aura.yaml"), "--json")
    assert config.returncode == 0, config.stderr
    data = json.loads(config.stdout)
    assert list(data["services"]) == list(load_workspace(root / "aura.yaml").services)
    for service in data["services"].values():
        assert Path(service["path"]).is_dir()
        assert all(Path(folder).is_dir() for folder in service["dapr"]["resources"])


def test_import_is_listed_in_help() -> None:
    done = run_aura("dev", "--help")
    assert done.returncode == 0
    assert "import" in done.stdout


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "case, problems",
    [
        ("not-yaml", [("dapr.yaml:4:12", "not valid YAML: while parsing a flow sequence")]),
        ("not-mapping", [("dapr.yaml:1:1", "expected a mapping at the top level, the file is a list")]),
        ("missing-version", [("dapr.yaml:1:1: version", "missing required key 'version'")]),
        ("missing-apps", [("dapr.yaml:1:1: apps", "missing required key 'apps'")]),
        ("no-app-dir", [("dapr.yaml:5:5: apps[1]", "missing required key 'appDirPath'")]),
        ("app-dir-missing", [("dapr.yaml:4:17: apps[0].appDirPath", "app folder ./orders/ does not exist")]),
        ("duplicate-app-id", [("dapr.yaml:5:12: apps[1].appID", "app id 'app' is also used by apps[0] (app)")]),
        ("wrong-types", [
            ("dapr.yaml:3:8: common.env", "expected a mapping of NAME: value, got a list"),
            ("dapr.yaml:6:14: apps[0].appPort", "expected a whole number, got 'eighty'"),
            ("dapr.yaml:7:23: apps[0].enableApiLogging", "expected true or false, got 'yes'"),
            ("dapr.yaml:8:14: apps[0].command", "expected a list of strings, got 'python3 app.py'"),
        ]),
        ("bad-app-id", [("dapr.yaml:3:17: apps[0].appDirPath",
                         "app id 'Order_Processor' holds 'O', 'P', '_': only lowercase letters")]),
        ("port-clash", [("dapr.yaml:10:19: apps[1].daprHTTPPort",
                         "port 8080 is also used by apps[0].appPort (line 5)")]),
        ("resources-missing", [
            ("dapr.yaml:3:20: common.resourcesPaths[0]", "resources folder ./components does not exist"),
            ("dapr.yaml:6:21: apps[0].configFilePath", "configuration file ./config.yaml does not exist"),
        ]),
        ("no-command", [("dapr.yaml:3:5: apps[0]", "the app has no command")]),
    ],
)
def test_each_error_is_located_exits_2_and_writes_nothing(
    tmp_path: Path, case: str, problems: list[tuple[str, str]]
) -> None:
    done, root = import_case(case, tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("error: dapr.yaml ")
    for location, expected in problems:
        matching = [line for line in lines if location in line]
        assert matching, f"no line with {location!r} in:\n{done.stderr}"
        assert expected in matching[0]
    assert f"{len(problems)} problem" in lines[0] or case == "not-yaml"
    assert written_files(root) == []
    assert not (root / ".aura").exists()


def test_result_aura_refuses_is_located_in_the_run_file(tmp_path: Path) -> None:
    """Whatever aura's own checks reject in the converted file is reported on the run file's line."""
    root = tmp_path / "bad-health"
    (root / "api").mkdir(parents=True)
    (root / "dapr.yaml").write_text(textwrap.dedent("""\
        version: 1
        apps:
          - appID: api
            appDirPath: ./api
            appPort: 8080
            appHealthCheckPath: ready
            enableAppHealthCheck: true
            command: [python3, app.py]
        """))
    done = run_aura("dev", "import", str(root / "dapr.yaml"))
    assert done.returncode == 2
    assert "the imported workspace would be invalid, so aura.yaml was not written" in done.stderr
    line = next(line for line in done.stderr.splitlines() if "dapr.yaml:6:25" in line)
    assert "apps[0].appHealthCheckPath" in line and "(aura.yaml: services.api.healthCheck)" in line
    assert written_files(root) == []


def test_missing_run_file(tmp_path: Path) -> None:
    done = run_aura("dev", "import", str(tmp_path / "dapr.yaml"))
    assert done.returncode == 2
    assert "no run file at" in done.stderr
