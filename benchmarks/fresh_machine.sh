#!/usr/bin/env bash
# Time the README's two commands as a fresh machine sees them: a fresh clone of this
# repository's HEAD, with empty Go module and build caches, an empty pip and npm cache,
# and aura's data and cache folders (the Dapr runtime, the Kubernetes binaries) empty too.
# The machine's real caches are not touched: everything lives under one temporary folder.
#
#   bash benchmarks/fresh_machine.sh            fresh clone → the sample running (main job)
#   bash benchmarks/fresh_machine.sh --tests    then → the test suite passing (test command)
#
# Debian packages already installed stay installed (this script cannot uninstall them for a
# fair cold start); what the README commands would install is listed in their output.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WITH_TESTS=0
[ "${1:-}" = "--tests" ] && WITH_TESTS=1
ROOT="${FRESH_ROOT:-$(mktemp -d /tmp/aura-fresh.XXXXXX)}"
mkdir -p "$ROOT"
export GOMODCACHE="$ROOT/go/mod" GOCACHE="$ROOT/go/build" GOPATH="$ROOT/go/path"
export AURA_DATA_DIR="$ROOT/aura-data" AURA_CACHE_DIR="$ROOT/aura-cache" XDG_CACHE_HOME="$ROOT/xdg-cache"
export PIP_CACHE_DIR="$ROOT/pip" npm_config_cache="$ROOT/npm" CI=true
git clone -q "$REPO" "$ROOT/aura"
cd "$ROOT/aura"
echo "fresh clone of $(git rev-parse --short HEAD) in $ROOT/aura"

now() { date +%s.%N; }
started=$(now)
# The README's main job, with `-d` so that the command returns once the sample is running
# (the foreground `aura dev up` brings it up the same way and then stays).
( bash scripts/bootstrap.sh && . .venv/bin/activate && aura dev up -w sample-workspace -d ) 2>&1 \
  | tee "$ROOT/main-job.log"
running=$(now)
.venv/bin/aura dev down -w sample-workspace
printf '\nfresh machine → sample running: %.0f s\n' "$(echo "$running - $started" | bc)" | tee -a "$ROOT/times.txt"

if [ "$WITH_TESTS" -eq 1 ]; then
  # The README's test command, verbatim, started right after the main job.
  ( bash scripts/bootstrap.sh --tests && . .venv/bin/activate && python -m pytest -p no:cacheprovider \
      --basetemp="$ROOT/pytest" ) 2>&1 | tee "$ROOT/tests.log"
  passed=$(now)
  printf 'fresh machine → tests passing: %.0f s (of which after the sample ran: %.0f s)\n' \
    "$(echo "$passed - $started" | bc)" "$(echo "$passed - $running" | bc)" | tee -a "$ROOT/times.txt"
fi
echo "logs and times in $ROOT"
