// Command bench measures colo's local runner against the floor a user would
// compare it with, and prints the figures:
//
//   - a TaskRun of one trivial step against sh running it: what a run
//     costs whatever its steps;
//   - a TaskRun of 200 trivial sequential steps against bash running the
//     same 200 scripts one after another;
//   - a PipelineRun of 50 independent tasks that each sleep 1 s against the
//     ideal of 1 s;
//   - the peak resident set size of colo's processes during those runs.
//
// Usage: go run ./hack/bench [-steps 200] [-tasks 50] [-n 3]
package main
