"""Run by the *app's* interpreter (not aura's): the entry point of a Python app that aura
starts, cold or from a warm standby.  Standard library only, and syntax that Python 3.8
still reads, because the app's venv may be older than aura's and has no aura installed.

    python [flags] standby_boot.py run|standby RECORD MANIFEST SERVICE_DIR module|script TARGET [ARG...]

`run`: run the entry point now (a cold start).  `standby`: import the modules the last run
recorded in RECORD (third-party and standard library only, never the service's own code),
write what was loaded to MANIFEST, print READY_MARKER, and wait for a line on stdin: `go
SECONDS` runs the entry point in this already warm interpreter; anything else (or the end
of stdin: aura is gone) exits.  Either way the run records, when it first listens on a
socket and again at exit, the modules it imported from outside the service folder.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    # This folder (aura's package) must not shadow the app's modules: python put it first.
    del sys.path[0]

import os  # noqa: E402  - after the sys.path fix, on purpose

READY_MARKER = "\x00aura-standby:ready"
LISTENING_MARKER = "\x00aura-standby:listening"  # a standby-run app took its port: the old one let go
RECORD_DELAY = 0.2  # seconds after the app listens: its first requests (the readiness probe) come first
FAILED_MARKER = "\x00aura-standby:failed:"
PRELOAD_NICE = 10  # the preloading thread only: the app's own thread keeps its priority


def loaded_modules(service_dir: str) -> list[list[str]]:
    """[name, file] of every imported module that is not the service's own code (inside its
    folder, not in a venv or site-packages there), in import order (parents before their
    submodules); file "" for a namespace package."""
    prefixes = tuple({os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
    folder = service_dir + os.sep
    real_dirs = {}  # type: dict[str, str]

    def real(path: str) -> str:  # one realpath per folder, not per module: this runs as the app boots
        head, tail = os.path.split(path)
        if head not in real_dirs:
            real_dirs[head] = os.path.realpath(head)
        return os.path.join(real_dirs[head], tail)

    def is_user_code(path: str) -> bool:
        return path.startswith(folder) and not path.startswith(prefixes) \
            and "site-packages" not in path and "dist-packages" not in path

    found = []
    for name, module in list(sys.modules.items()):
        if module is None or name in ("__main__", "__mp_main__"):
            continue
        file = getattr(module, "__file__", None)
        if isinstance(file, str):
            path = real(file)
            if not is_user_code(path):
                found.append([name, path])
            continue
        paths = [real(os.path.join(p, "x")) for p in (getattr(module, "__path__", None) or []) if isinstance(p, str)]
        if paths and not any(is_user_code(p) for p in paths):
            found.append([name, ""])
    return found


def _write_json(path: str, value: object) -> None:
    import json

    temporary = "%s.%d.tmp" % (path, os.getpid())
    with open(temporary, "w") as handle:
        json.dump(value, handle)
    os.replace(temporary, path)


def _record(path: str, service_dir: str) -> None:
    try:
        _write_json(path, {"python": sys.executable, "version": sys.version, "modules": loaded_modules(service_dir)})
    except Exception:  # a record is an optimisation: never a reason for the app to fail
        pass


def _install_hooks(record: str, service_dir: str, bind_wait: float, announce: bool) -> None:
    """Record the modules once the app listens (it is about to be ready) and at exit; for
    `bind_wait` seconds, retry a bind whose address is still held (by the process this one
    replaces, which is shutting down as this one boots); with `announce`, tell aura when
    the app listens."""
    import atexit
    import errno
    import socket
    import time

    original_listen, original_bind = socket.socket.listen, socket.socket.bind
    deadline = time.monotonic() + bind_wait

    def listen(self: socket.socket, *args: int) -> None:
        socket.socket.listen = original_listen  # type: ignore[method-assign]
        original_listen(self, *args)
        if announce:
            os.write(1, (LISTENING_MARKER + "\n").encode())
        loop = None
        if "asyncio" in sys.modules:
            try:
                loop = sys.modules["asyncio"].get_running_loop()
            except RuntimeError:
                pass
        if loop is not None:
            loop.call_later(RECORD_DELAY, _record, record, service_dir)
        else:
            _record(record, service_dir)

    def bind(self: socket.socket, address: object) -> None:
        while True:
            try:
                return original_bind(self, address)  # type: ignore[arg-type]
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)

    socket.socket.listen = listen  # type: ignore[method-assign,assignment]
    if bind_wait > 0:
        socket.socket.bind = bind  # type: ignore[method-assign,assignment]
    atexit.register(_record, record, service_dir)


def _socket_count() -> int:
    try:
        return sum(1 for fd in os.listdir("/proc/self/fd")
                   if os.readlink("/proc/self/fd/" + fd).startswith("socket:"))
    except OSError:
        return 0


def preload(record: str, service_dir: str, low_priority: bool = True) -> tuple[list[str], str]:
    """Import the recorded modules in a thread (of low priority for a reload's standby; a
    preboot's is on the start's critical path); the modules that failed, and why this
    interpreter may not serve as a standby ("" if it may)."""
    import importlib
    import json
    import signal
    import threading

    try:
        with open(record) as handle:
            names = [entry[0] for entry in json.load(handle).get("modules", [])]
    except (OSError, ValueError, TypeError, KeyError, IndexError):
        names = []
    handlers = {sig: signal.getsignal(sig) for sig in signal.valid_signals() if sig not in (signal.SIGKILL,
                                                                                           signal.SIGSTOP)}
    sockets = _socket_count()
    failed: list[str] = []

    def work() -> None:
        try:
            if low_priority:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PRELOAD_NICE)  # Linux: this thread
        except (OSError, AttributeError):
            pass
        for name in names:
            if name not in sys.modules:
                try:
                    importlib.import_module(name)
                except BaseException:  # noqa: BLE001 - the app imports it itself, fresh, at go
                    failed.append(name)

    worker = threading.Thread(target=work, name="aura-standby-preload", daemon=True)
    worker.start()
    worker.join()
    threads = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
    if threads:
        return failed, "a thread started at import: " + ", ".join(sorted(threads)[:3])
    if _socket_count() > sockets:
        return failed, "a socket was opened at import"
    changed = [sig.name for sig, handler in handlers.items() if signal.getsignal(sig) != handler]
    if changed:
        return failed, "a signal handler was set at import: " + ", ".join(changed[:3])
    return failed, ""


def _read_line(fd: int) -> bytes:
    """One line, read byte by byte: sys.stdin would read ahead and keep bytes for the app."""
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
    return line


def run(kind: str, target: str, args: list[str]) -> None:
    """The entry point as `python -m TARGET ARGS` or `python TARGET ARGS` would run it."""
    import runpy
    import types

    sys.modules["__main__"] = types.ModuleType("__main__")
    if kind == "module":
        sys.argv = ["-m"] + args  # runpy puts the module's file first, as -m does
        getattr(runpy, "_run_module_as_main")(target, True)
    elif os.path.isfile(target):
        # As `python app.py` (3.9+): `__file__` absolute, `sys.argv[0]` as written, code in `__main__`.
        import builtins
        import importlib.machinery
        import io

        path = os.path.abspath(target)
        main = sys.modules["__main__"]
        main.__dict__.update(__file__=path, __cached__=None, __package__=None, __spec__=None,
                             __builtins__=builtins, __loader__=importlib.machinery.SourceFileLoader("__main__", path))
        with io.open_code(path) as source:
            code = compile(source.read(), path, "exec")
        sys.argv = [target] + args
        exec(code, main.__dict__)
    else:  # a folder or zip file with a __main__.py
        sys.argv = [target] + args
        runpy.run_path(target, run_name="__main__")


def main(argv: list[str]) -> None:
    mode, record, manifest, service_dir, kind, target = argv[:6]
    args = argv[6:]
    service_dir = os.path.realpath(service_dir)
    sys.path.insert(0, os.getcwd() if kind == "module" else os.path.dirname(os.path.realpath(target)))
    bind_wait, announce = 0.0, False
    if mode in ("standby", "preboot"):
        failed, refusal = preload(record, service_dir, low_priority=mode == "standby")
        if refusal:
            print(FAILED_MARKER + refusal, flush=True)
            sys.exit(3)
        _write_json(manifest, {"modules": loaded_modules(service_dir), "failed": failed})
        print(READY_MARKER, flush=True)
        words = _read_line(0).split()
        if not words or words[0] != b"go":
            sys.exit(0)
        bind_wait, announce = (float(words[1]) if len(words) > 1 else 0.0), True
        devnull = os.open(os.devnull, os.O_RDONLY)  # as a cold start's stdin
        os.dup2(devnull, 0)
        os.close(devnull)
    _install_hooks(record, service_dir, bind_wait, announce)
    run(kind, target, args)


if __name__ == "__main__":
    main(sys.argv[1:])
