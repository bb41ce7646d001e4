// Package controller is colo's Kubernetes controller: it runs the tekton.dev/v1
// PipelineRuns and TaskRuns whose spec.managedBy is ManagedBy, each in one
// Pod, and reports their status in upstream Tekton's shape.
//
// A run is claimed by its spec.managedBy alone: a predicate drops every
// other run before it is queued, so colo can run beside an installed Tekton
// (which, since v1.5, ignores runs managed by anyone else) or on a cluster
// without one.
//
// For a claimed run the Reconciler:
//
//   - does nothing while spec.status is PipelineRunPending (TaskRunPending)
//     but report the run as pending;
//   - reads the Pipeline, Tasks and StepActions the run names from the API
//     server, by name in the run's namespace or through the cluster
//     resolver; a remote resolver (git, hub, bundles, http) fails the run
//     with CouldntGetPipeline, CouldntGetTask or TaskRunResolutionFailed;
//   - validates the run with package validate and the engine's own checks;
//     an invalid run fails with every problem, each with its field path,
//     in its message, and gets no Pod;
//   - creates exactly one Pod for it, named PodName, controlled by the run,
//     through a PodCompiler (package podspec in production);
//   - follows the reports the orchestrator in that Pod writes to its log
//     (a StatusReader: the pods/log API in production) and patches the
//     run's status with each, emitting the Events upstream emits when the
//     Succeeded condition changes; for a PipelineRun it also keeps a TaskRun
//     for each of its tasks, controlled by the run and managed by colo, so
//     that tools that read TaskRuns see them;
//   - passes a cancel (spec.status) to the orchestrator through the Pod
//     annotation AnnotationSpecStatus, which the Pod projects into the
//     orchestrator's container;
//   - fails the run when its Pod is deleted or evicted before the end,
//     cannot start a container (an image it cannot pull, a missing Secret),
//     ends without a final report, or outlives the run's timeout (the Pod
//     enforces it; the controller is the backstop), and deletes a Pod it
//     gives up on.
//
// Because the Pod's name comes from the run's, a restarted controller, or
// a standby replica that takes over leadership, finds the Pod that was made
// and never makes a second. Every status write carries the resource version
// it was computed from, so a reconcile that read a stale run retries rather
// than undo a newer one.
//
// The controller counts runs started and finished (colo_runs_started_total,
// colo_runs_finished_total, colo_run_duration_seconds) beside
// controller-runtime's own metrics.
package controller
