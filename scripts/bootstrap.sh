#!/usr/bin/env bash
# Provision this machine for aura-dev, idempotently: Debian packages (redis-server, docker.io,
# etcd-server, tmux), a running Docker engine, the project in .venv, the sample workspace's
# dependencies, the Dapr runtime (aura dev init; reuses the Go caches when warm) and the
# Kubernetes API server used by the export/deploy tests.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
started=$(date +%s)

step "Debian packages"
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)  # the tests' real terminal (a closed one stops `up`)
if ((${#missing[@]})); then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "installed: ${missing[*]}"
else
  echo "present: redis-server, dockerd, etcd, tmux"
fi

step "Docker engine"
if ! docker info >/dev/null 2>&1; then
  # No init system to ask: start the daemon ourselves and wait until it answers.
  $SUDO sh -c 'nohup dockerd >/var/log/aura-dockerd.log 2>&1 &'
  for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
fi
docker info --format 'engine {{.ServerVersion}} answers' 

step "Python environment (.venv)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,sample,bench,kubernetes]"
# An editable install leaves aura's own modules uncompiled, and with PYTHONDONTWRITEBYTECODE
# set (as on this machine) Python never caches them: every `aura` would spend ~0.1 s
# compiling.  pip compiles what it installs from wheels; do the same for src/.
.venv/bin/python -m compileall -q src/aura_dev
.venv/bin/aura --version

# ---- browser tests (the dashboard's; only the test suite needs this block) -----------------
# Debian's chromium driven by Playwright for Python: the wheel carries its own driver, and the
# tests point it at /usr/bin/chromium — `playwright install` (a browser download) is never run.
step "Browser tests: chromium and Playwright"
if ! command -v chromium >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
.venv/bin/python -m pip install -q -e ".[browser]"
echo "$(chromium --version 2>/dev/null), playwright $(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("playwright"))')"
# ---- end of browser tests ----------------------------------------------------------------

step "Sample workspace: Node dependencies"
for pkg in sample-workspace/services/*/package.json; do
  [ -f "$pkg" ] || continue
  (cd "$(dirname "$pkg")" && npm ci --silent --no-audit --no-fund)
  echo "npm ci: $(dirname "$pkg")"
done

step "Dapr runtime"
.venv/bin/aura dev init

if [ -x scripts/kube-apiserver.sh ]; then
  step "Kubernetes API server binaries"
  bash scripts/kube-apiserver.sh build
fi

echo "bootstrap done in $(( $(date +%s) - started )) s"
