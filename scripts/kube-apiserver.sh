#!/usr/bin/env bash
# Build a real kube-apiserver and kubectl from the Go module proxy, once, into the user's cache.
#
#   scripts/kube-apiserver.sh build   build (or reuse) the binaries; prints their folder
#   scripts/kube-apiserver.sh dir     print the folder without building
#
# Why a build: no cluster is reachable here, but the API server alone validates and stores
# objects for real (built-in types and CRDs, strict field checking). k8s.io/kubernetes cannot
# be an ordinary dependency (its go.mod points the k8s.io/* modules at ./staging folders that
# the module download lacks), so a throwaway module replaces each staging path with the
# published module of the same release.
set -euo pipefail

KUBE_VERSION="${AURA_KUBE_VERSION:-v1.37.2}"
STAGING_VERSION="v0.${KUBE_VERSION#v1.}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/aura-dev/kube"
OUT="${AURA_KUBE_DIR:-$CACHE_ROOT/$KUBE_VERSION}"

find_go() {
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  for candidate in /usr/local/go/bin/go "$HOME/go/bin/go" "$HOME/sdk/go/bin/go"; do
    [ -x "$candidate" ] && { echo "$candidate"; return; }
  done
  echo "kube-apiserver.sh: no Go toolchain found (install Go >= 1.25 or put it on PATH)" >&2
  exit 1
}

cached() {
  # The version check, not the file's presence, proves a previous build finished.
  # Outputs are captured first: with pipefail, `cmd | grep -q` fails whenever grep exits
  # before cmd has written everything (cmd dies of SIGPIPE), which made this check flaky.
  [ -x "$OUT/kube-apiserver" ] && [ -x "$OUT/kubectl" ] || return 1
  local server client
  server="$("$OUT/kube-apiserver" --version 2>/dev/null)" || return 1
  client="$("$OUT/kubectl" version --client 2>/dev/null)" || return 1
  [ "$server" = "Kubernetes $KUBE_VERSION" ] && [[ "$client" == *"$KUBE_VERSION"* ]]
}

build() {
  if cached; then
    echo "kube-apiserver and kubectl $KUBE_VERSION: cached in $OUT"
    return
  fi
  local go started info gomod gosum
  go="$(find_go)"
  started=$(date +%s)
  mkdir -p "$OUT"
  work="$(mktemp -d "${TMPDIR:-/tmp}/aura-kube-build.XXXXXX")"  # global: the EXIT trap outlives build()
  trap 'rm -rf "${work:-}"' EXIT
  echo "building kube-apiserver and kubectl $KUBE_VERSION (about 6 minutes cold on 2 cores)"

  info="$(cd "$work" && GOFLAGS=-mod=mod "$go" mod download -json "k8s.io/kubernetes@$KUBE_VERSION")"
  gomod="$(printf '%s' "$info" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  gosum="$(printf '%s' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')/go.sum"
  [ -f "$gomod" ] && [ -f "$gosum" ] || { echo "kube-apiserver.sh: go mod download gave no go.mod/go.sum" >&2; exit 1; }

  # The upstream go.mod, renamed, with every staging replace pointed at the published module.
  sed -e 's#^module k8s.io/kubernetes$#module aura.local/kubebuild#' \
      -e "s#=> \./staging/src/\(k8s.io/[A-Za-z0-9._-]*\)#=> \1 $STAGING_VERSION#" \
      "$gomod" >"$work/go.mod"
  printf '\nrequire k8s.io/kubernetes %s\n' "$KUBE_VERSION" >>"$work/go.mod"
  cp "$gosum" "$work/go.sum"
  chmod u+w "$work/go.mod" "$work/go.sum"
  printf 'package kubebuild\n' >"$work/doc.go"

  # Without these ldflags the version reads v0.0.0-master+$Format:%H$, which kubectl cannot parse.
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
  ldflags+=" -X k8s.io/component-base/version.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2)"
  for cmd in kube-apiserver kubectl; do
    (cd "$work" && CGO_ENABLED=0 "$go" build -mod=mod -trimpath -ldflags "$ldflags" \
        -o "$OUT/$cmd.partial" "k8s.io/kubernetes/cmd/$cmd")
    # Rename last so an interrupted build never looks finished.
    mv -f "$OUT/$cmd.partial" "$OUT/$cmd"
    echo "built $OUT/$cmd"
  done
  cached || { echo "kube-apiserver.sh: built binaries do not report $KUBE_VERSION" >&2; exit 1; }
  echo "built in $(( $(date +%s) - started )) s"
}

case "${1:-build}" in
  build) build ;;
  dir) echo "$OUT" ;;
  *) echo "usage: $0 build|dir" >&2; exit 2 ;;
esac
