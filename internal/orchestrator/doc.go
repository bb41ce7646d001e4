// Package orchestrator is `colo orchestrate`: the container of a compiled
// Pod (see package podspec) that drives the run. It builds the same engine
// `colo run` builds, from the run and the objects it uses, and carries out
// the engine's actions with the step runners of the Pod's other containers
// (see packages control and steprunner):
//
//   - StartAttempt lays out the task's /tekton (results, steps, run,
//     scripts, home, downward) in the task's volume, which the orchestrator
//     mounts at control.TasksDir/<volume>, emptying what an earlier attempt
//     left (a retry runs in the same, still running containers), and starts
//     the task's sidecars; once each is ready (its readiness probe passed,
//     run by its runner) or ended, the steps may start.
//   - StartStep writes the step's script to /tekton/scripts and tells the
//     step's container the fully substituted command line, environment,
//     working directory and timeout. The container's image must be the one
//     the step asks for: the Pod was compiled before the run started, so
//     the orchestrator checks.
//   - A step's end comes back as an event; its results and its task's are
//     read from the task's volume, as `colo run` reads them from a host
//     directory. The engine checks their sizes against its limits.
//   - StopAttempt (a timeout, a cancel) stops the running step: SIGTERM,
//     then SIGKILL after a grace period. The engine reports upstream's
//     reasons (TaskRunTimeout, TimeoutExceeded, TaskRunCancelled).
//   - A task whose TaskRun is over for good, or that was skipped, has its
//     containers told to exit: a Pod completes only when every container has
//     exited. When the run finishes, every container left is told to exit;
//     the orchestrator writes the final status, waits for them, and exits
//     last: 0 when the run succeeded, 1 when it failed.
//
// # Status on the log
//
// The run's status leaves the Pod through the orchestrator's log, in
// frames (see status.go): progress frames while the run goes on, and a
// final frame with the document runstore would write to status.json.
// ReadStatus finds the final one in a log and never takes a frame that was
// cut short for a status. A log line of the orchestrator's own never lands
// inside a frame.
//
// SIGTERM (the Pod is being deleted) cancels the run. A cancel mode
// (Cancelled, CancelledRunFinally, StoppedRunFinally) in StateDir/cancel
// (written with kubectl exec, say) or in DownwardCancelFile (a downwardAPI
// volume projecting an annotation of the Pod) asks the run to stop as
// spec.status would.
package orchestrator
