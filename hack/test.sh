#!/usr/bin/env bash
# Runs colo's whole test suite on a Debian machine with Go, installing what
# the tests need first: unit and integration tests, the upstream Tekton
# examples through the conformance runner, then the end-to-end tests on a
# real single-node Kubernetes the project builds and starts itself.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v busybox >/dev/null || need+=(busybox)
command -v python3 >/dev/null || need+=(python3)
if ((${#need[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 ./...

examples=../shared/conformance/tekton-examples
if [[ -d $examples ]]; then
  echo "== conformance: $examples"
  go run ./cmd/colo conformance "$examples"
fi

# End-to-end tests on the project's own single-node Kubernetes: the first
# run on a machine builds it from the Go module proxy (see hack/cluster).
echo "== e2e"
hack/e2e.sh
