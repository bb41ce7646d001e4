package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/colo-ci/colo/internal/load"
)

// PodCompiler builds the Pod that runs one run.
type PodCompiler interface {
	// Compile returns the Pod that runs run, a *v1.PipelineRun or a
	// *v1.TaskRun that has been validated. Every reference in run, and in
	// the objects of set, names an object of set by name. The caller sets
	// the Pod's name, namespace, owner reference and the labels and
	// annotations of this package on the returned Pod, and creates it.
	Compile(ctx context.Context, run client.Object, set *load.Set) (*corev1.Pod, error)
}

// PodCompilerFunc is a function that is a PodCompiler.
type PodCompilerFunc func(ctx context.Context, run client.Object, set *load.Set) (*corev1.Pod, error)

// Compile calls f.
func (f PodCompilerFunc) Compile(ctx context.Context, run client.Object, set *load.Set) (*corev1.Pod, error) {
	return f(ctx, run, set)
}

// Labels and annotations the controller puts on the Pods it makes.
const (
	// LabelManagedBy (with value ManagedByValue) marks every Pod the
	// controller makes; the controller watches only Pods that carry it.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedByValue = "colo"

	// AnnotationSpecStatus holds the run's spec.status once the user asks
	// the run to stop: Cancelled, CancelledRunFinally, StoppedRunFinally
	// (PipelineRun) or TaskRunCancelled (TaskRun). It is absent until then.
	// The Pod projects it into the orchestrator's container through a
	// downwardAPI volume; the orchestrator watches that file and passes the
	// request on to its engine.
	AnnotationSpecStatus = "colo.dev/spec-status"
)

// OrchestratorContainer is the name of the container whose log carries the
// run's status reports.
const OrchestratorContainer = "orchestrator"

// containerState returns the state of the named container of pod, or nil
// before the kubelet reported one.
func containerState(pod *corev1.Pod, name string) *corev1.ContainerState {
	for i := range pod.Status.ContainerStatuses {
		if pod.Status.ContainerStatuses[i].Name == name {
			return &pod.Status.ContainerStatuses[i].State
		}
	}
	return nil
}

// podDone reports whether every container of pod has ended.
func podDone(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}
