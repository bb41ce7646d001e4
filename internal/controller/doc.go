// Package controller is colo's Kubernetes controller: it runs the tekton.dev/v1
// PipelineRuns and TaskRuns whose spec.managedBy is ManagedBy, each in one
// Pod, and reports their status in upstream Tekton's shape.
//
// A run is claimed by its spec.managedBy alone: a predicate drops every
// other run before it is queued, so colo can run beside an installed Tekton
// (which, since v1.5, ignores runs managed by anyone else) or on a cluster
// without one.
//
// For a claimed run the reconciler:
//
//   - does nothing while spec.status is PipelineRunPending (TaskRunPending),
//     but report the run as pending;
//   - reads the Pipeline, Tasks and StepActions the run names from the API
//     server (by name in the run's namespace, or through the cluster
//     resolver) into a load.Set; a remote resolver (git, hub, bundles, http)
//     fails the run with CouldntGetPipeline or CouldntGetTask;
//   - validates the run with package validate and the engine's own checks;
//     an invalid run fails with every problem in its message and no Pod;
//   - creates exactly one Pod for it, named PodName, owned by the run
//     (controller reference), through a PodCompiler;
//   - follows the status the orchestrator in that Pod writes to its log
//     (StatusReader) and patches the run's status with each report, emitting
//     Events as upstream does when the Succeeded condition changes;
//   - passes spec.status cancellation to the orchestrator through the Pod
//     annotation AnnotationSpecStatus;
//   - fails the run when its Pod is deleted or evicted before it finished,
//     and enforces the run's timeout as a backstop to the Pod's own.
//
// Because the Pod's name is derived from the run's, a restarted controller
// (or a second replica that takes over leadership) finds the Pod it made
// and never makes a second one.
package controller
