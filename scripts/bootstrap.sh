#!/usr/bin/env bash
# Provision this machine for aura-dev, idempotently.
#
#   bash scripts/bootstrap.sh           the main job: what `aura dev up -w sample-workspace` needs
#                                       (redis-server, the project in .venv, the sample's Node
#                                       dependencies, the Dapr runtime via `aura dev init`)
#   bash scripts/bootstrap.sh --tests   the main job, then what the test suite needs on top
#                                       (Docker, etcd, the test extras, the Kubernetes API server, …)
#
# Adding an install step: if `aura dev up` needs it, it goes in main_job; if only tests (or a
# benchmark) need it, it goes in tests_job, in a block of its own with a comment naming who
# needs it.  The main job must stay minutes long on a fresh machine: nothing slow that only
# tests use belongs there.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TESTS=0
for arg in "$@"; do
  case "$arg" in
    --tests) WITH_TESTS=1 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bootstrap.sh: unknown argument '$arg' (use --tests, or nothing)" >&2; exit 2 ;;
  esac
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
started=$(date +%s)
step() { printf '\n\033[1m== %s\033[0m  (%d s)\n' "$*" "$(( $(date +%s) - started ))"; }

# apt_install COMMAND=PACKAGE…: install the Debian packages whose command is missing.
APT_UPDATED=0
apt_install() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null 2>&1 || missing+=("${pair#*=}")
  done
  if ((${#missing[@]})); then
    if [ "$APT_UPDATED" -eq 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    echo "installed: ${missing[*]}"
  else
    echo "present: ${*%%=*}"
  fi
}

pip_install() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[$1]"
}

main_job() {
  step "Debian packages for the stack"
  apt_install redis-server=redis-server

  step "Python environment (.venv)"
  pip_install sample
  # An editable install leaves aura's own modules uncompiled, and with PYTHONDONTWRITEBYTECODE
  # set (as on this machine) Python never caches them: every `aura` would spend ~0.1 s
  # compiling.  pip compiles what it installs from wheels; do the same for src/.
  .venv/bin/python -m compileall -q src/aura_dev
  .venv/bin/aura --version

  step "Sample workspace: Node dependencies"
  for pkg in sample-workspace/services/*/package.json; do
    [ -f "$pkg" ] || continue
    (cd "$(dirname "$pkg")" && npm ci --silent --no-audit --no-fund)
    echo "npm ci: $(dirname "$pkg")"
  done

  step "Java for Zipkin (traces; the stack runs without it)"
  apt_install java=openjdk-17-jre-headless

  step "Dapr runtime and the Zipkin server (aura dev init)"
  .venv/bin/aura dev init
}

tests_job() {
  step "Debian packages for the tests"
  # docker.io: the docker backend's tests; etcd-server: the Kubernetes API server's store;
  # tmux: the tests' real terminal (a closed one stops `up`).
  apt_install dockerd=docker.io etcd=etcd-server tmux=tmux

  step "Docker engine (the docker backend's tests)"
  if ! docker info >/dev/null 2>&1; then
    # No init system to ask: start the daemon ourselves and wait until it answers.
    $SUDO sh -c 'nohup dockerd >/var/log/aura-dockerd.log 2>&1 &'
    for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  docker info --format 'engine {{.ServerVersion}} answers'

  step "Python test and benchmark extras"
  pip_install "test,sample,bench,kubernetes"
  .venv/bin/python -m compileall -q src/aura_dev

  # ---- browser tests (the dashboard's) ------------------------------------------------------
  # Debian's chromium driven by Playwright for Python: the wheel carries its own driver, and the
  # tests point it at /usr/bin/chromium — `playwright install` (a browser download) is never run.
  step "Browser tests: chromium and Playwright"
  apt_install chromium=chromium
  pip_install "test,sample,bench,kubernetes,browser"
  echo "$(chromium --version 2>/dev/null), playwright $(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("playwright"))')"

  # Kubernetes export/deploy tests: a real kube-apiserver and kubectl (~10 min cold).
  if [ -x scripts/kube-apiserver.sh ]; then
    step "Kubernetes API server binaries"
    bash scripts/kube-apiserver.sh build
  fi
}

main_job
echo "main job done in $(( $(date +%s) - started )) s"
if [ "$WITH_TESTS" -eq 1 ]; then
  tests_job
  echo "tests job done in $(( $(date +%s) - started )) s"
fi
