"""Reading a Dapr multi-app run template (`dapr run -f dapr.yaml`) the way dapr/cli does.

The rules are those of dapr/cli's pkg/runfileconfig and pkg/standalone/run.go:

- `common` holds the shared keys (SharedRunConfig); an app key left empty (Go's zero
  value) takes common's, and an app's `env` overrides common's key by key.  Per-app keys
  written in `common` are ignored.
- Paths in `common` are relative to the run file's folder; paths in an app are relative
  to its `appDirPath`, itself relative to the run file.  `~` is the home folder.
- Resources: the app's `resourcesPaths` (+ the deprecated `resourcesPath`), else
  `<appDir>/.dapr/resources`, else common's, else `~/.dapr/components`.  The
  configuration file likewise: the app's, `<appDir>/.dapr/config.yaml`, common's.
- Values decode as yaml.v2 decodes them into the Go fields: any scalar is a string,
  nothing else is coerced.

Input dapr would refuse, or that aura could not run, raises `RunFileInvalid` listing every
problem with its `file:line:column`; keys dapr ignores become notes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aura_dev.errors import UserError, os_reason
from aura_dev.interop.dapr_run_template import (
    APP_KEYS, DAPR_DIR, EXPECTED, PORT_KEYS, RUN_FILE, SHARED_KEYS, TOP_KEYS, App, Findings, Kind, PathSetting,
    RunFileInvalid, RunTemplate, Section,
)
from aura_dev.workspace.names import app_id_problem, suggest_label
from aura_dev.workspace.problems import Problem, did_you_mean, dotted
from aura_dev.workspace.yamlsource import KeyPath, SourceDocument, YamlSyntaxError, YamlRefused, parse_yaml, read_text


def find_run_file(given: Path) -> Path:
    """`given`, or `given/dapr.yaml` for a folder, as `dapr run -f` does."""
    path = given.expanduser().absolute()
    if path.is_dir():
        path = path / RUN_FILE
    if not path.is_file():
        raise UserError(f"no run file at {path}", hint="pass a Dapr multi-app run template (dapr.yaml) or its folder")
    return path


def read_run_file(run_file: Path) -> RunTemplate:
    """Parse and check `run_file`; raise RunFileInvalid listing every problem."""
    try:
        doc = parse_yaml(read_text(run_file), run_file)
    except OSError as exc:
        raise UserError(f"cannot read {run_file}: {os_reason(exc)}") from None
    except YamlRefused as exc:
        raise RunFileInvalid(f"{run_file.name} cannot be loaded",
                             [Problem(run_file, exc.location, (), exc.message)]) from None
    except YamlSyntaxError as exc:
        raise RunFileInvalid(f"{run_file.name} is not valid YAML",
                             [Problem(run_file, exc.location, (), f"not valid YAML: {exc.message}")]) from None
    return _Reader(doc).read()


class _Reader:
    def __init__(self, doc: SourceDocument) -> None:
        self.doc = doc
        self.found = Findings(doc)
        self.run_dir = Path(os.path.normpath(doc.path.parent.absolute()))
        self.invalid: set[KeyPath] = set()  # keys whose value had the wrong type (already reported)
        self.absolute: set[Path] = set()

    def read(self) -> RunTemplate:
        data = self.doc.data
        for dup in self.doc.duplicates:
            self.found.problem(dup.path, f"duplicate key '{dup.path[-1]}' (first defined at line {dup.first.line})",
                               "only one of them would count; remove or merge one", key=True)
        if not isinstance(data, dict):
            kind = "empty" if data is None else f"a {type(data).__name__}"
            self.found.problem((), f"expected a mapping at the top level, the file is {kind}",
                               "a run template starts with `version: 1` and an `apps:` list")
            self.found.stop_on_problems()
        assert isinstance(data, dict)
        for key in data:
            if key not in TOP_KEYS:
                self.unknown_key((str(key),), str(key), TOP_KEYS)
        if data.get("version") is None:
            self.found.problem(("version",), "missing required key 'version'", "add `version: 1` at the top", key=True)
        elif self.checked(("version",), data["version"], Kind.INT) == 0:
            self.found.problem(("version",), "version 0 is not a run template version", "use `version: 1`")
        name = self.checked(("name",), data.get("name"), Kind.TEXT) or ""
        common = self.common(data.get("common"))
        common_resources = self.resources(common, self.run_dir)
        common_config = self.config(common, self.run_dir)
        apps = self.apps(data.get("apps"), common, common_resources, common_config)
        self.found.stop_on_problems()
        self.check_ids_and_ports(apps)
        self.found.stop_on_problems()
        return RunTemplate(self.doc, name, common, tuple(apps), common_resources, common_config,
                           tuple(self.found.notes), frozenset(self.absolute))

    def resolve(self, text: str, base: Path) -> Path:
        # As dapr: `~` is the home folder and a relative path joins its base; symlinks stay as written.
        written = Path(text).expanduser()
        path = Path(os.path.normpath(base / written))
        if written.is_absolute():
            self.absolute.add(path)
        return path

    def unknown_key(self, path: KeyPath, key: str, known: Any) -> None:
        guess = did_you_mean(key, known)
        self.found.note(path, "unknown key, ignored (dapr run ignores it too)"
                        + (f"; did you mean '{guess}'?" if guess else ""))

    def checked(self, path: KeyPath, value: Any, kind: Kind) -> Any:
        """`value` decoded as yaml.v2 would for `kind`, or None (and a problem) if it cannot be."""
        if value is None:
            return None
        converted = _convert(value, kind)
        if converted is None:
            self.invalid.add(path)
            self.found.problem(path, f"expected {EXPECTED[kind]}, got {_described(value)}")
        return converted

    def section(self, path: KeyPath, raw: dict[Any, Any], allowed: dict[str, Kind]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in raw.items():
            key = str(key)
            if key in allowed:
                converted = self.checked(path + (key,), value, allowed[key])
                if converted is not None:
                    values[key] = converted
            elif key in APP_KEYS:
                self.found.note(path + (key,), "a per-app key, ignored in common (dapr run ignores it there too)")
            else:
                self.unknown_key(path + (key,), key, [*allowed, *APP_KEYS])
        return values

    def common(self, raw: Any) -> Section:
        if raw is not None and not isinstance(raw, dict):
            self.found.problem(("common",), f"expected a mapping of shared app settings, got {_described(raw)}")
            raw = None
        return Section(("common",), self.section(("common",), raw or {}, SHARED_KEYS))

    def apps(self, raw: Any, common: Section, resources: PathSetting, config: PathSetting) -> list[App]:
        if raw is None:
            self.found.problem(("apps",), "missing required key 'apps' (the list of apps to run)",
                               "add `apps:` with one entry per app: appDirPath, appID, command", key=True)
            return []
        if not isinstance(raw, list) or not raw:
            self.found.problem(("apps",), f"expected a list of apps, got {_described(raw)}")
            return []
        apps = []
        for index, item in enumerate(raw):
            path: KeyPath = ("apps", index)
            if not isinstance(item, dict):
                self.found.problem(path, f"expected an app (a mapping with appDirPath), got {_described(item)}")
                continue
            app = self.app(Section(path, self.section(path, item, {**SHARED_KEYS, **APP_KEYS}), common),
                           resources, config)
            if app is not None:
                apps.append(app)
        return apps

    def app(self, section: Section, common_resources: PathSetting, common_config: PathSetting) -> App | None:
        path = section.path
        folder = section.values.get("appDirPath")
        if not folder:
            self.found.problem(path, "missing required key 'appDirPath' (the app's folder)",
                               "add `appDirPath: ./my-app/`, relative to the run file", key=True)
            return None
        directory = self.resolve(folder, self.run_dir)
        if not directory.is_dir():
            self.found.problem(path + ("appDirPath",), f"app folder {folder} does not exist ({directory})",
                               "fix the path: it is relative to the run file's folder")
            return None
        has_command = "command" in section.values
        if not section.values.get("command") and path + ("command",) not in self.invalid:
            self.found.problem(path + ("command",) if has_command else path,
                               "the app has no command; dapr run would start only its sidecar, aura needs the app's",
                               "add the program dapr run should start, e.g. `command: [python3, app.py]`",
                               key=not has_command)
        app_id = section.text("appID")
        local = directory / DAPR_DIR
        resources = self.resources(section, directory)
        if not resources.paths and (local / "resources").is_dir():
            resources = PathSetting(((local / "resources"),), path + ("appDirPath",))
        config = self.config(section, directory)
        if not config.paths and (local / "config.yaml").is_file():
            config = PathSetting(((local / "config.yaml"),), path + ("appDirPath",))
        return App(section, directory, app_id or directory.name, path + ("appID" if app_id else "appDirPath",),
                   resources if resources.paths else common_resources, config if config.paths else common_config)

    def check_ids_and_ports(self, apps: list[App]) -> None:
        ids: dict[str, App] = {}
        ports: dict[int, KeyPath] = {}
        taken = {app.app_id for app in apps}
        for app in apps:
            reason = app_id_problem(app.app_id)
            if reason:
                origin = "" if app.id_path[-1] == "appID" else " (appID is not set, so the id is the folder's name)"
                self.found.problem(app.id_path, f"{reason}{origin}",
                                   f"set appID to a valid id, e.g. '{suggest_label(app.app_id, taken=taken)}'")
            if app.app_id in ids:
                first = ids[app.app_id]
                self.found.problem(app.id_path, f"app id '{app.app_id}' is also used by {first.label} "
                                   f"(line {self.doc.locate(first.id_path).line})", "app ids must be unique: set appID")
            ids.setdefault(app.app_id, app)
            for key in PORT_KEYS:
                port, where = app.section.number(key), app.section.path + (key,)
                if port > 65535:
                    self.found.problem(where, f"port {port} is out of range (1-65535)")
                elif port > 0 and port in ports:
                    self.found.problem(where, f"port {port} is also used by {dotted(ports[port])} "
                                       f"(line {self.doc.locate(ports[port]).line})", "give each listener its own port")
                elif port > 0:
                    ports[port] = where

    def existing(self, section: Section, key: str, base: Path, want_dir: bool) -> list[Path]:
        """The paths of `key` (a string or a list) resolved against `base`; a missing one is a problem."""
        raw = section.values.get(key)
        texts = raw if isinstance(raw, list) else [raw] if raw else []
        found = []
        for index, text in enumerate(texts):
            path = self.resolve(text, base)
            if not (path.is_dir() if want_dir else path.is_file()):
                where = section.path + ((key, index) if isinstance(raw, list) else (key,))
                self.found.problem(where, f"{'resources folder' if want_dir else 'configuration file'} {text} "
                                   f"does not exist ({path})",
                                   "paths in common are relative to the run file, paths in an app to its appDirPath")
            found.append(path)
        return found

    def resources(self, section: Section, base: Path) -> PathSetting:
        # dapr appends the deprecated resourcesPath to resourcesPaths.
        paths = [*self.existing(section, "resourcesPaths", base, True),
                 *self.existing(section, "resourcesPath", base, True)]
        key = "resourcesPaths" if section.values.get("resourcesPaths") else "resourcesPath"
        return PathSetting(tuple(dict.fromkeys(paths)), section.path + (key,))

    def config(self, section: Section, base: Path) -> PathSetting:
        return PathSetting(tuple(self.existing(section, "configFilePath", base, False)),
                           section.path + ("configFilePath",))


def _convert(value: Any, kind: Kind) -> Any:
    """yaml.v2's decoding into the Go field: scalars become strings, nothing else is coerced."""
    if kind is Kind.INT:
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if kind is Kind.BOOL:
        return value if isinstance(value, bool) else None
    if kind in (Kind.TEXT, Kind.OPTIONAL_TEXT):
        return _scalar_text(value)
    if kind is Kind.TEXT_LIST:
        if not isinstance(value, list):
            return None
        items = [_scalar_text(item) if item is not None else None for item in value]
        return None if any(item is None for item in items) else items
    if not isinstance(value, dict):
        return None
    env = {str(key): _scalar_text(item) for key, item in value.items()}
    return None if any(item is None for item in env.values()) else env


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _described(value: Any) -> str:
    if isinstance(value, (str, int, float, bool)):
        return repr(value)
    if isinstance(value, list):
        return "an empty list" if not value else "a list"
    return "a mapping" if isinstance(value, dict) else type(value).__name__
