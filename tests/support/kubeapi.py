"""A real kube-apiserver on etcd, on 127.0.0.1 with free ports, for the export/deploy tests.

There is no kubelet, scheduler or controller manager: the server validates and stores
objects (built-in types and CRDs, strict field checking), nothing runs as pods.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "scripts" / "kube-apiserver.sh"
DAPR_MODULE = "github.com/dapr/dapr@v1.18.2"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kube_binaries(*, build: bool) -> tuple[Path | None, str]:
    """The folder with kube-apiserver and kubectl (built once into the user's cache), or why not."""
    done = subprocess.run(["bash", str(BUILD_SCRIPT), "build" if build else "dir"], capture_output=True,
                          text=True, timeout=3600)
    if done.returncode != 0:
        return None, f"scripts/kube-apiserver.sh failed ({done.returncode}): {done.stderr[-2000:]}"
    folder = Path(subprocess.run(["bash", str(BUILD_SCRIPT), "dir"], capture_output=True, text=True,
                                 check=True).stdout.strip())
    missing = [name for name in ("kube-apiserver", "kubectl") if not os.access(folder / name, os.X_OK)]
    return (None, f"not built: {', '.join(missing)} in {folder}") if missing else (folder, "")


def go_binary() -> str | None:
    return shutil.which("go") or next((p for p in ("/usr/local/go/bin/go",) if os.access(p, os.X_OK)), None)


def dapr_module_dir() -> tuple[Path | None, str]:
    """The dapr module's source: in the Go module cache, else downloaded; or why not."""
    go = go_binary()
    if go is None:
        return None, "no Go toolchain"
    env = {**os.environ, "GOFLAGS": "-mod=mod"}
    cache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True, env=env).stdout.strip()
    folder = Path(cache) / DAPR_MODULE
    if cache and (folder / "go.mod").is_file():
        return folder, ""
    done = subprocess.run([go, "mod", "download", "-json", DAPR_MODULE], capture_output=True, text=True,
                          timeout=600, cwd="/", env=env)
    if done.returncode != 0:
        return None, f"go mod download {DAPR_MODULE} failed: {(done.stdout + done.stderr)[-2000:]}"
    return Path(json.loads(done.stdout)["Dir"]), ""


def dapr_crds_dir() -> tuple[Path | None, str]:
    """Dapr's CRDs, as its Helm chart ships them."""
    module, why = dapr_module_dir()
    if module is None:
        return None, why
    folder = module / "charts" / "dapr" / "crds"
    return (folder, "") if folder.is_dir() else (None, f"{folder} is missing")


@dataclass
class KubeAPI:
    """etcd and kube-apiserver, started in `workdir`; `stop()` leaves no process behind."""

    bin_dir: Path
    workdir: Path
    etcd: str
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    port: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    def env(self) -> dict[str, str]:
        """Environment for a client of this server (and nothing else)."""
        return {"KUBECONFIG": str(self.kubeconfig)}

    def start(self, timeout: float = 90) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        client_port, peer_port, self.port = free_port(), free_port(), free_port()
        self._spawn("etcd", [
            self.etcd, "--data-dir", str(self.workdir / "etcd"), "--name", "aura-test",
            "--listen-client-urls", f"http://127.0.0.1:{client_port}",
            "--advertise-client-urls", f"http://127.0.0.1:{client_port}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-cluster", f"aura-test=http://127.0.0.1:{peer_port}",
        ])
        key, pub = self.workdir / "sa.key", self.workdir / "sa.pub"
        subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
        subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-out", str(pub)], check=True,
                       capture_output=True)
        tokens = self.workdir / "tokens.csv"
        tokens.write_text(f'{self.token},admin,1,"system:masters"\n')
        self._spawn("kube-apiserver", [
            str(self.bin_dir / "kube-apiserver"), f"--etcd-servers=http://127.0.0.1:{client_port}",
            "--bind-address=127.0.0.1", f"--secure-port={self.port}", "--advertise-address=127.0.0.1",
            # A loopback advertise address is refused by the default endpoint reconciler.
            "--endpoint-reconciler-type=none",
            "--service-account-issuer=https://kubernetes.default.svc", f"--service-account-key-file={pub}",
            f"--service-account-signing-key-file={key}", f"--cert-dir={self.workdir / 'certs'}",
            f"--token-auth-file={tokens}", "--authorization-mode=AlwaysAllow",
            "--service-cluster-ip-range=10.0.0.0/24",
        ])
        self._wait_ready(timeout)
        self.kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "aura-test",
            "clusters": [{"name": "aura-test", "cluster": {"server": self.server, "insecure-skip-tls-verify": True}}],
            "users": [{"name": "admin", "user": {"token": self.token}}],
            "contexts": [{"name": "aura-test", "context": {"cluster": "aura-test", "user": "admin"}}],
        }, indent=2))

    def _spawn(self, name: str, argv: Sequence[str]) -> None:
        log = open(self.workdir / f"{name}.log", "wb")
        # Own session, so that stop() can signal the whole group.
        self.processes.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                               cwd=self.workdir))
        log.close()

    def _wait_ready(self, timeout: float) -> None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        request = urllib.request.Request(f"{self.server}/readyz", headers={"Authorization": f"Bearer {self.token}"})
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for proc in self.processes:
                if proc.poll() is not None:
                    raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(request, context=context, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError as exc:
                last = str(exc)
            time.sleep(0.2)
        raise RuntimeError(f"kube-apiserver not ready after {timeout} s ({last}):\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        parts = []
        for name in ("etcd", "kube-apiserver"):
            path = self.workdir / f"{name}.log"
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def kubectl(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(self.bin_dir / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args],
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def get_json(self, *args: str) -> dict[str, object]:
        result: dict[str, object] = json.loads(self.kubectl("get", *args, "-o", "json").stdout)
        return result

    def stop(self) -> None:
        """SIGTERM the API server first (it needs etcd to shut down cleanly), then etcd; SIGKILL stragglers."""
        for proc in reversed(self.processes):
            if proc.poll() is not None:
                continue
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except ProcessLookupError:
                pass  # already gone
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.processes.clear()
