#!/usr/bin/env bash
# Runs colo's end-to-end tests against the project's own single-node
# Kubernetes cluster (hack/cluster).
#
# Brings the cluster up if it is not running: the first time on a machine
# this installs containerd, runc and the CNI plugins from Debian packages and
# builds etcd and Kubernetes from the Go module proxy (about 10-15 minutes
# on 2 cores; cached afterwards). A cluster this script started is stopped
# again when the tests end, unless COLO_E2E_KEEP_CLUSTER=1.
#
# Arguments are passed to `go test`, e.g. hack/e2e.sh -run TestPod -v
set -euo pipefail

cd "$(dirname "$0")/.."

cluster() {
  go run ./hack/cluster "$@"
}

started=false
if ! cluster status >/dev/null 2>&1; then
  echo "e2e: bringing the test cluster up" >&2
  started=true
  # Stop it on any exit once we decided to start it, also after a failed up.
  if [[ "${COLO_E2E_KEEP_CLUSTER:-0}" != 1 ]]; then
    trap 'echo "e2e: stopping the test cluster" >&2; cluster down || true' EXIT
  fi
  cluster up >/dev/null
fi

# KUBECONFIG, COLO_REGISTRY, COLO_CLUSTER_DIR and kubectl on PATH.
eval "$(cluster env | sed 's/^/export /')"

# The conformance tests (the upstream examples in a Pod and through the
# controller) leave their reports here; they are printed after the tests.
reports=$(mktemp -d)
export COLO_CONFORMANCE_REPORTS=$reports

echo "e2e: running go test -tags e2e ./test/e2e/... (cluster started here: $started)" >&2
rc=0
go test -tags e2e -count=1 -timeout 45m "$@" ./test/e2e/... || rc=$?
for f in "$reports"/*.txt; do
  [[ -e $f ]] && cat "$f"
done
rm -rf "$reports"
exit "$rc"
