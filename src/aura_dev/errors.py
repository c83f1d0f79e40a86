"""The exception tree of aura.  The CLI maps each branch to an exit code.

    AuraError                      exit 1: something failed at run time
    ├── UserError                  exit 2: the user's input is wrong; nothing was started
    │   ├── WorkspaceNotFound      no aura.yaml above the current folder
    │   ├── WorkspaceInvalid       the workspace file has problems (all of them listed)
    │   ├── PortInUse              an explicit port is held by another process
    │   ├── UnknownService         a service named on the command line is not in the workspace
    │   ├── AlreadyRunning         a supervisor already runs this workspace
    │   ├── NotRunning             the command needs a running stack and there is none
    │   ├── ScaffoldRefused        `aura dev new` would overwrite or escape the workspace
    │   └── CannotWrite            a folder aura must write to refuses it (checked first: nothing was written)
    ├── FilesystemError            reading or writing failed during the work (disk full, permissions, …)
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

import errno
from collections.abc import Sequence


class AuraError(Exception):
    """Base of every error aura reports to the user.  `hint` says how to fix it."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = list(details)

    def __reduce__(self) -> tuple[object, ...]:
        # Whole, with hint, details and a subclass's own fields: a detached start's
        # supervisor sends its refusal to the waiting command as a pickle.
        return (_rebuilt, (type(self), self.args, self.__dict__))


def _rebuilt(cls: type[AuraError], args: tuple[object, ...], state: dict[str, object]) -> AuraError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


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


class CannotWrite(UserError):
    pass


class FilesystemError(AuraError):
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


_OS_HINTS = {
    errno.EROFS: "the file system is mounted read-only: use a writable copy of the workspace",
    errno.EACCES: "check the owner and permissions of the file and its folder (ls -ld)",
    errno.EPERM: "check the owner and permissions of the file and its folder (ls -ld)",
    errno.ENOSPC: "free some disk space and try again",
    errno.EDQUOT: "free some disk space (you are over your quota) and try again",
    errno.ELOOP: "a symlink on the way leads back to itself: fix or remove it",
    errno.ENOTDIR: "the path, or a folder on it, is a file where a folder is expected",
    errno.EISDIR: "the path is a folder where a file is expected",
}


def from_os_error(exc: OSError) -> FilesystemError:
    """An OSError that escaped a command, as a message: what failed, where, and what to do."""
    where = f": {exc.filename}" if exc.filename else ""
    return FilesystemError(f"{os_reason(exc)}{where}", hint=os_hint(exc))


def os_hint(exc: OSError) -> str | None:
    """What to do about an OSError, where the error number says."""
    return _OS_HINTS.get(exc.errno or 0)


def os_reason(exc: OSError) -> str:
    """What the system said, as words ("permission denied", "read-only file system")."""
    if exc.errno == errno.ELOOP:
        return "a symlink loop (a link that leads back to itself)"
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]
