"""Convert a Dapr multi-app run template (`dapr run -f`) into `aura.yaml` text.

`dapr_run_file` reads the template with dapr's own rules; this module maps each app to
an aura service and says, for every setting it cannot carry over, why (a note located in
the run file).  Nothing here writes files: `workspace_file` validates and writes the text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aura_dev.interop.dapr_run_file import read_run_file
from aura_dev.interop.dapr_run_template import App, Findings, RunTemplate, Section
from aura_dev.interop.workspace_file import render_workspace
from aura_dev.plan.dapr_init import DefaultAddress, find_defaults
from aura_dev.plan.resources import RESOURCE_SUFFIXES
from aura_dev.workspace.model import LogLevel
from aura_dev.workspace.names import suggest_label
from aura_dev.workspace.problems import Problem, dotted
from aura_dev.workspace.yamlsource import KeyPath, SourceDocument

LOG_LEVELS: tuple[LogLevel, ...] = ("debug", "info", "warn", "error", "fatal", "panic")
# Dapr accepts all of these; aura talks http or grpc to apps, so the others map to the nearest.
APP_PROTOCOLS = {"http": "http", "grpc": "grpc", "https": "http", "grpcs": "grpc", "h2c": "http"}
DEFAULT_HEALTH_PATH = "/healthz"  # daprd's default --app-health-check-path
SIDECAR_PORTS = {"daprHTTPPort": "httpPort", "daprGRPCPort": "grpcPort",
                 "daprInternalGRPCPort": "internalGrpcPort", "metricsPort": "metricsPort"}
# Sidecar flags aura has no key for go to dapr.args: daprd keeps the last of a repeated
# flag, and dapr.args come after aura's own, so these override aura's defaults.
DAPRD_FLAGS = {"maxBodySize": "--max-body-size", "readBufferSize": "--read-buffer-size"}
HEALTH_FLAGS = {"appHealthProbeInterval": "--app-health-probe-interval",
                "appHealthProbeTimeout": "--app-health-probe-timeout", "appHealthThreshold": "--app-health-threshold"}

_LOGS = "aura shows every app and sidecar log in the foreground and keeps them under .aura/logs (aura dev logs)"
# Keys with no aura equivalent, whatever their value.
NOT_IMPORTED: dict[str, str] = {
    "placementHostAddress": "aura runs its own placement service and points every sidecar at it "
                            "(infra.placement; `enabled: false` runs without actors)",
    "schedulerHostAddress": "aura runs its own scheduler and points every sidecar at it "
                            "(infra.scheduler; `enabled: false` runs without it)",
    "appLogDestination": _LOGS,
    "daprdLogDestination": _LOGS,
    "runtimePath": "aura runs the Dapr runtime `aura dev init` installs; pick its version with dapr.runtimeVersion",
    "createService": "Kubernetes only (dapr run -k); aura keeps its cluster settings under `kubernetes:` "
                     "and each service's `image`",
    "containerImagePullPolicy": "Kubernetes only; aura sets it for every service with kubernetes.imagePullPolicy",
    "apiListenAddresses": "aura binds every sidecar API to 127.0.0.1",
    "appChannelAddress": "aura reaches every app on 127.0.0.1",
    "unixDomainSocket": "aura connects apps and sidecars over TCP ports on 127.0.0.1",
    "appSSL": "deprecated by Dapr; aura talks plain http or grpc to apps",
    "daprHTTPMaxRequestSize": "an old Dapr CLI key (now maxBodySize); add daprd flags with dapr.args if needed",
    "daprHTTPReadBufferSize": "an old Dapr CLI key (now readBufferSize); add daprd flags with dapr.args if needed",
}

T = TypeVar("T")


@dataclass(frozen=True)
class ImportResult:
    """The generated `aura.yaml` text, the notes on what it leaves out, and the way back
    from a key of the generated file to the run file line it came from."""

    run_file: Path
    text: str
    notes: list[Problem]
    services: list[str]
    source: SourceDocument
    origins: dict[KeyPath, KeyPath]
    defaults: tuple[DefaultAddress, ...] = ()  # `dapr init` addresses in its resources, which `up` points at aura's

    def relocate(self, problem: Problem) -> Problem:
        """A problem of the generated file, located in the run file (longest known key prefix)."""
        aura_path = problem.path
        run_path: KeyPath = ()
        for cut in range(len(aura_path), 0, -1):
            if aura_path[:cut] in self.origins:
                run_path = self.origins[aura_path[:cut]] + aura_path[cut:]
                break
        where = f" (aura.yaml: {dotted(aura_path)})" if aura_path else ""
        return Problem(self.run_file, self.source.locate(run_path), run_path, problem.message + where, problem.hint)


def convert_run_file(run_file: Path, output_dir: Path) -> ImportResult:
    """Read `run_file` and build the `aura.yaml` that would live in `output_dir`."""
    template = read_run_file(run_file)
    return _Mapper(template, output_dir).convert()


def dapr_init_defaults(template: RunTemplate) -> list[DefaultAddress]:
    """The `dapr init` addresses (Redis localhost:6379, Zipkin localhost:9411) in the
    resources and configurations the imported workspace uses."""
    folders = [*template.resources.paths, *(p for app in template.apps for p in app.resources.paths)]
    files = [file for folder in dict.fromkeys(folders) if folder.is_dir()
             for file in sorted(folder.iterdir()) if file.is_file() and file.suffix in RESOURCE_SUFFIXES]
    files += [*template.config.paths, *(p for app in template.apps for p in app.config.paths)]
    found: list[DefaultAddress] = []
    for file in dict.fromkeys(files):
        try:
            found += find_defaults(file.read_text(encoding="utf-8"), file)
        except (OSError, UnicodeDecodeError):
            continue  # daprd would refuse it too; not the import's business
    return found


def _split(values: list[T], common: T) -> tuple[T, dict[int, T]]:
    """(the workspace-wide value, the apps' own values by position).  A value every app
    shares is workspace-wide; otherwise common's is, and the apps that differ keep theirs."""
    if values and all(value == values[0] for value in values):
        return values[0], {}
    return common, {index: value for index, value in enumerate(values) if value != common}


class _Mapper:
    def __init__(self, template: RunTemplate, output_dir: Path) -> None:
        self.template = template
        self.found = Findings(template.doc, template.notes)
        self.out_dir = Path(os.path.normpath(output_dir.absolute()))
        self.origins: dict[KeyPath, KeyPath] = {("name",): ("name",)}
        self.shared: dict[str, Any] = {}  # the workspace's `dapr:` settings

    def convert(self) -> ImportResult:
        template = self.template
        spec: dict[str, Any] = {"name": template.name or suggest_label(self.out_dir.name, fallback="workspace")}
        services = self.services()  # fills spec's `dapr:` settings shared by all apps
        if self.shared:
            spec["dapr"] = self.shared
        spec["services"] = services
        self.not_imported(template.common)
        self.found.stop_on_problems()
        shown_file = os.path.relpath(template.doc.path, self.out_dir)
        text = render_workspace(spec, [f"Imported from {shown_file} (a `dapr run -f` template) by `aura dev import`."])
        return ImportResult(template.doc.path, text, self.found.sorted_notes(), list(services), template.doc,
                            self.origins, tuple(dapr_init_defaults(template)))

    def shown(self, path: Path, relative_to: Path) -> str:
        """How aura.yaml writes `path`: relative to its base, unless the run file wrote it absolute."""
        return str(path) if path in self.template.absolute else os.path.relpath(path, relative_to)

    def services(self) -> dict[str, Any]:
        apps, common = self.template.apps, self.template.common
        # What every app shares goes to the workspace's `dapr:`, the rest to each service.
        resources, own_resources = _split([app.resources.paths for app in apps], self.template.resources.paths)
        config, own_configs = _split([app.config.paths for app in apps], self.template.config.paths)
        level, own_levels = _split([self.log_level(app.section) for app in apps], self.log_level(common))
        api_logging, own_api_logging = _split([app.section.flag("enableApiLogging") for app in apps],
                                              common.flag("enableApiLogging"))
        if resources:
            self.shared["resources"] = [self.shown(p, self.out_dir) for p in resources]
            source = self.template.resources if own_resources else apps[0].resources
            self.origins[("dapr", "resources")] = source.origin
        if config:
            self.shared["config"] = self.shown(config[0], self.out_dir)
            source = self.template.config if own_configs else apps[0].config
            self.origins[("dapr", "config")] = source.origin
        if level:
            self.shared["logLevel"] = level
        if api_logging:
            self.shared["enableApiLogging"] = True

        services: dict[str, Any] = {}
        for position, app in enumerate(apps):
            sidecar: dict[str, Any] = {}
            if position in own_resources:
                self.own_resources(app, sidecar)
            if own_configs.get(position):
                sidecar["config"] = self.shown(app.config.paths[0], app.directory)
                self.origins[("services", app.app_id, "dapr", "config")] = app.config.origin
            if own_levels.get(position):
                sidecar["logLevel"] = own_levels[position]
            if position in own_api_logging:
                sidecar["enableApiLogging"] = own_api_logging[position]
            services[app.app_id] = self.service(app, sidecar)
        return services

    def own_resources(self, app: App, sidecar: dict[str, Any]) -> None:
        sidecar["resources"] = [self.shown(p, app.directory) for p in app.resources.paths]
        self.origins[("services", app.app_id, "dapr", "resources")] = app.resources.origin
        # dapr run replaces common's resources with the app's; aura adds the two up.
        also = (", ".join(self.shared["resources"]) if self.shared.get("resources")
                else "aura's default Redis state store and pub/sub ('statestore', 'pubsub')")
        only = ", ".join(self.shown(p, self.out_dir) for p in app.resources.paths)
        self.found.note(app.resources.origin, f"dapr run gives {app.label} only {only}; aura adds a service's "
                        f"resources to the workspace's, so its sidecar also loads {also}")

    def service(self, app: App, sidecar: dict[str, Any]) -> dict[str, Any]:
        """One aura service from one app; `sidecar` holds the dapr settings not all apps share."""
        section, path = app.section, ("services", app.app_id)
        self.origins.update({path: section.path, path + ("path",): section.path + ("appDirPath",),
                             path + ("command",): section.path + ("command",),
                             path + ("appPort",): section.path + ("appPort",)})
        service: dict[str, Any] = {
            "path": self.shown(app.directory, self.out_dir),
            # aura reads {name} as a placeholder: doubled braces keep the text literal.
            "command": [_literal(arg) for arg in section.values["command"]],
        }
        env = section.env()
        if env:
            service["env"] = {key: _literal(value) for key, (value, _origin) in env.items()}
            self.origins.update({path + ("env", key): origin for key, (_value, origin) in env.items()})
        # Without appPort dapr run gives the app no port and daprd never calls it: that is
        # aura's worker (`appPort: null`), not `auto`, which would make daprd wait for a listener.
        app_port = section.number("appPort")
        service["appPort"] = app_port if app_port > 0 else None
        protocol = self.protocol(app)
        if protocol != "http":
            service["appProtocol"] = protocol
        args = self.health(app, service, protocol) + self.daprd_args(app)
        for key, aura_key in SIDECAR_PORTS.items():
            if section.number(key) > 0:  # empty or <= 0 is "pick a free port": aura's default `auto`
                sidecar[aura_key] = section.number(key)
                self.origins[path + ("dapr", aura_key)] = section.path + (key,)
        if section.number("appMaxConcurrency") > 0:
            sidecar["appMaxConcurrency"] = section.number("appMaxConcurrency")
        if args:
            sidecar["args"] = args
        if sidecar:
            service["dapr"] = sidecar
        if section.text("containerImage"):
            service["image"] = section.text("containerImage")
        self.not_imported(section)
        return service

    def note(self, app: App, key: str, message: str) -> None:
        """A note on `key` as `app` sees it; when the value comes from common, it names the app."""
        origin = app.section.origin(key)
        self.found.note(origin, message if origin[:2] == app.section.path else f"{message} (for {app.label})")

    def not_imported(self, section: Section) -> None:
        for key, value in section.values.items():
            if key in NOT_IMPORTED:
                self.found.note(section.path + (key,), f"not imported ({_show(value)}): {NOT_IMPORTED[key]}")

    def log_level(self, section: Section) -> str:
        level = section.text("logLevel").lower()
        if level and level not in LOG_LEVELS:
            self.found.problem(section.origin("logLevel"), f"unknown log level '{level}'",
                               f"use one of {', '.join(LOG_LEVELS)}")
        return level

    def protocol(self, app: App) -> str:
        given = app.section.text("appProtocol").lower() or "http"
        if given not in APP_PROTOCOLS:
            self.found.problem(app.section.origin("appProtocol"), f"unknown app protocol '{given}'",
                               f"use one of {', '.join(APP_PROTOCOLS)}")
            return "http"
        chosen = APP_PROTOCOLS[given]
        if chosen != given:
            self.note(app, "appProtocol", f"imported as {chosen}: aura talks plain http or grpc to apps, not {given}")
        return chosen

    def health(self, app: App, service: dict[str, Any], protocol: str) -> list[str]:
        """aura's `healthCheck` for an http app (aura then gives daprd the health flags
        itself); daprd flags for a grpc app, which aura gates on its port."""
        section = app.section
        if not section.flag("enableAppHealthCheck"):
            for key in ("appHealthCheckPath", *HEALTH_FLAGS):
                if section.raw(key):
                    self.note(app, key, "not imported: it has no effect without enableAppHealthCheck")
            return []
        if service["appPort"] is None:
            self.note(app, "enableAppHealthCheck", "not imported: the app has no appPort to check")
            return []
        args: list[str] = []
        if protocol == "http":
            service["healthCheck"] = section.text("appHealthCheckPath") or DEFAULT_HEALTH_PATH
            self.origins[("services", app.app_id, "healthCheck")] = section.origin("appHealthCheckPath")
        else:
            args.append("--enable-app-health-check")
            if section.raw("appHealthCheckPath"):
                self.note(app, "appHealthCheckPath",
                          "not imported: daprd checks a grpc app with the gRPC health protocol, which has no path")
        for key, flag in HEALTH_FLAGS.items():
            if section.number(key) > 0:
                args += [flag, str(section.number(key))]
        return args

    def daprd_args(self, app: App) -> list[str]:
        section = app.section
        args: list[str] = []
        for key, flag in DAPRD_FLAGS.items():
            if section.text(key):
                args += [flag, section.text(key)]
        if section.flag("enableProfiling"):
            args.append("--enable-profiling")
            if section.number("profilePort") > 0:
                args += ["--profile-port", str(section.number("profilePort"))]
        elif section.number("profilePort") > 0:
            self.note(app, "profilePort", "not imported: it has no effect without enableProfiling")
        return args


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)
