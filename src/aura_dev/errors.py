"""The exception tree of aura.  The CLI maps each branch to an exit code.

    AuraError                      exit 1: something failed at run time
    ├── UserError                  exit 2: the user's input is wrong; nothing was started
    │   ├── WorkspaceNotFound      no aura.yaml above the current folder
    │   ├── WorkspaceInvalid       the workspace file has problems (all of them listed)
    │   ├── PortInUse              an explicit port is held by another process
    │   ├── UnknownService         a service named on the command line is not in the workspace
    │   ├── AlreadyRunning         a supervisor already runs this workspace
    │   ├── NotRunning             the command needs a running stack and there is none
    │   └── ScaffoldRefused        `aura dev new` would overwrite or escape the workspace
    ├── RuntimeNotInstalled        the Dapr binaries are missing: run `aura dev init`
    ├── RuntimeInstallError        `aura dev init` could not install the runtime
    │   ├── ChecksumMismatch       a downloaded archive does not match its .sha256
    │   ├── ModuleNotServed        the Go module proxy refuses a module version
    │   └── BuildFailed            `go build` failed (the tail of its log is attached)
    ├── InfraError                 Redis / placement / scheduler could not be started
    ├── StartupError               a unit did not become ready (its last log lines attached)
    └── ClusterError               the Kubernetes API server refused or was unreachable
"""

from __future__ import annotations

from collections.abc import Sequence


class AuraError(Exception):
    """Base of every error aura reports to the user.  `hint` says how to fix it."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = list(details)


class UserError(AuraError):
    exit_code = 2


class WorkspaceNotFound(UserError):
    pass


class WorkspaceInvalid(UserError):
    """Carries every problem found in the file, not only the first."""

    def __init__(self, message: str, problems: Sequence[object]) -> None:
        super().__init__(message)
        self.problems = list(problems)


class PortInUse(UserError):
    pass


class UnknownService(UserError):
    pass


class AlreadyRunning(UserError):
    pass


class NotRunning(UserError):
    pass


class ScaffoldRefused(UserError):
    pass


class RuntimeNotInstalled(AuraError):
    pass


class RuntimeInstallError(AuraError):
    pass


class ChecksumMismatch(RuntimeInstallError):
    pass


class ModuleNotServed(RuntimeInstallError):
    pass


class BuildFailed(RuntimeInstallError):
    pass


class InfraError(AuraError):
    pass


class StartupError(AuraError):
    pass


class ClusterError(AuraError):
    pass
