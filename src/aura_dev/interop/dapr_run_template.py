"""The shape of a Dapr multi-app run template (`dapr run -f dapr.yaml`), as dapr/cli's
pkg/runfileconfig defines it: which keys exist where and what each holds, and the typed
template aura reads it into, with its problems and notes located in the file."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto
from pathlib import Path
from typing import Any

from aura_dev.errors import WorkspaceInvalid
from aura_dev.workspace.problems import Problem, dotted
from aura_dev.workspace.yamlsource import KeyPath, SourceDocument

RUN_FILE = "dapr.yaml"
DAPR_DIR = ".dapr"


class RunFileInvalid(WorkspaceInvalid):
    """The run template has problems; each is located in the run file."""


class Kind(Enum):
    INT = auto()
    BOOL = auto()
    TEXT = auto()
    OPTIONAL_TEXT = auto()  # Go *string: "" is a value (it disables); only absence is empty
    TEXT_LIST = auto()
    ENV = auto()


EXPECTED = {
    Kind.INT: "a whole number", Kind.BOOL: "true or false", Kind.TEXT: "a string",
    Kind.OPTIONAL_TEXT: "a string", Kind.TEXT_LIST: "a list of strings", Kind.ENV: "a mapping of NAME: value",
}

# standalone.SharedRunConfig: allowed in `common` and in every app.
SHARED_KEYS: dict[str, Kind] = {
    "configFilePath": Kind.TEXT, "appProtocol": Kind.TEXT, "apiListenAddresses": Kind.TEXT,
    "enableProfiling": Kind.BOOL, "logLevel": Kind.TEXT, "appMaxConcurrency": Kind.INT,
    "placementHostAddress": Kind.OPTIONAL_TEXT, "resourcesPath": Kind.TEXT, "resourcesPaths": Kind.TEXT_LIST,
    "appSSL": Kind.BOOL, "maxBodySize": Kind.TEXT, "readBufferSize": Kind.TEXT,
    "daprHTTPMaxRequestSize": Kind.INT, "daprHTTPReadBufferSize": Kind.INT,
    "enableAppHealthCheck": Kind.BOOL, "appHealthCheckPath": Kind.TEXT, "appHealthProbeInterval": Kind.INT,
    "appHealthProbeTimeout": Kind.INT, "appHealthThreshold": Kind.INT, "enableApiLogging": Kind.BOOL,
    "runtimePath": Kind.TEXT, "env": Kind.ENV, "daprdLogDestination": Kind.TEXT, "appLogDestination": Kind.TEXT,
    "schedulerHostAddress": Kind.OPTIONAL_TEXT,
}
# standalone.RunConfig and runfileconfig.ContainerConfiguration: per app only.
APP_KEYS: dict[str, Kind] = {
    "appDirPath": Kind.TEXT, "appID": Kind.TEXT, "appChannelAddress": Kind.TEXT, "appPort": Kind.INT,
    "daprHTTPPort": Kind.INT, "daprGRPCPort": Kind.INT, "daprInternalGRPCPort": Kind.INT, "metricsPort": Kind.INT,
    "profilePort": Kind.INT, "command": Kind.TEXT_LIST, "unixDomainSocket": Kind.TEXT,
    "containerImage": Kind.TEXT, "containerImagePullPolicy": Kind.TEXT, "createService": Kind.BOOL,
}
TOP_KEYS = ("version", "name", "common", "apps")
PORT_KEYS = ("appPort", "daprHTTPPort", "daprGRPCPort", "daprInternalGRPCPort", "metricsPort")


@dataclass
class Section:
    """The checked keys of `common` or of one app; an app reads common's for empty shared keys."""

    path: KeyPath
    values: dict[str, Any]
    common: Section | None = None

    def _inherits(self, key: str) -> bool:
        return self.common is not None and key in SHARED_KEYS and _is_empty(key, self.values.get(key))

    def origin(self, key: str) -> KeyPath:
        """Where the effective value of `key` is written: the app, or common."""
        return self.common.origin(key) if self.common is not None and self._inherits(key) else self.path + (key,)

    def raw(self, key: str) -> Any:
        return self.common.raw(key) if self.common is not None and self._inherits(key) else self.values.get(key)

    def text(self, key: str) -> str:
        return str(self.raw(key) or "")

    def number(self, key: str) -> int:
        return int(self.raw(key) or 0)

    def flag(self, key: str) -> bool:
        return bool(self.raw(key))

    def env(self) -> dict[str, tuple[str, KeyPath]]:
        """Each variable with where it is set: common's, overridden key by key by the app's."""
        merged = self.common.env() if self.common is not None else {}
        merged.update({key: (value, self.path + ("env", key)) for key, value in (self.values.get("env") or {}).items()})
        return merged


def _is_empty(key: str, value: Any) -> bool:
    # Go's IsZero: a nil *string is empty, but a pointer to "" is a value.
    kind = SHARED_KEYS.get(key) or APP_KEYS.get(key)
    return value is None if kind is Kind.OPTIONAL_TEXT else not value


@dataclass(frozen=True)
class PathSetting:
    """Resource folders or a configuration file as dapr resolves them, and where they come from."""

    paths: tuple[Path, ...]
    origin: KeyPath


@dataclass(frozen=True)
class App:
    section: Section
    directory: Path
    app_id: str
    id_path: KeyPath  # appID, or appDirPath when the id is the folder's name
    resources: PathSetting  # empty paths: dapr's default, ~/.dapr/components
    config: PathSetting

    @property
    def label(self) -> str:
        return f"{dotted(self.section.path)} ({self.app_id})"


@dataclass(frozen=True)
class RunTemplate:
    """A checked run template: every app with common's settings and dapr's path rules applied."""

    doc: SourceDocument
    name: str
    common: Section
    apps: tuple[App, ...]
    resources: PathSetting  # common's
    config: PathSetting  # common's
    notes: tuple[Problem, ...]  # keys dapr run ignores too
    absolute: frozenset[Path]  # paths written absolute (or from ~): they stay absolute in aura.yaml


class Findings:
    """Problems (which stop the import) and notes (which do not), located in the run file."""

    def __init__(self, doc: SourceDocument, notes: tuple[Problem, ...] = ()) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self.notes: list[Problem] = list(notes)

    def problem(self, path: KeyPath, message: str, hint: str | None = None, *, key: bool = False) -> None:
        self.problems.append(Problem(self.doc.path, self.doc.locate(path, prefer_key=key), path, message, hint))

    def note(self, path: KeyPath, message: str) -> None:
        self.notes.append(Problem(self.doc.path, self.doc.locate(path, prefer_key=True), path, message))

    def stop_on_problems(self) -> None:
        if self.problems:
            count = len(self.problems)
            self.problems.sort(key=lambda p: (p.location.line, p.location.column))
            raise RunFileInvalid(f"{self.doc.path.name} has {count} problem{'s' if count != 1 else ''}",
                                 self.problems)

    def sorted_notes(self) -> list[Problem]:
        return sorted(self.notes, key=lambda n: (n.location.line, n.location.column))
