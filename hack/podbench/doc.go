// Command podbench measures colo's Pod mode on a running cluster against the
// two things a user would compare it with, and prints the figures:
//
//   - one Pod: a PipelineRun of N trivial tasks chained by runAfter, run
//     with `colo run --on pod` (the whole run compiled into one Pod);
//   - one Pod per task: the same N tasks as N TaskRuns, each run with
//     `colo run --on pod` one after another, so each is compiled by the same
//     compiler into a Pod of its own, the way upstream runs every task;
//   - bare Pod: one Pod whose one container runs the same N scripts one
//     after another, created and watched until it succeeds.
//
// Each figure is the wall time from starting the run to seeing it end, as a
// user waiting at a terminal sees it; the medians over -n rounds are
// printed with the ratios the goals are stated in. A first round, not
// counted, warms the node's image cache.
//
// Usage: go run ./hack/podbench [-tasks 10] [-n 5] [-kubeconfig FILE] [-image busybox]
//
// The kubeconfig defaults to $KUBECONFIG; for the test cluster:
//
//	eval "$(go run ./hack/cluster env | sed 's/^/export /')"
//	go run ./hack/podbench
package main
