package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/podspec"
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

	// AnnotationSpecStatus holds how the user asked the run to stop, once
	// they did: the cancel mode the orchestrator takes (Cancelled,
	// CancelledRunFinally or StoppedRunFinally; a TaskRun's
	// TaskRunCancelled is Cancelled). It is absent until then.
	AnnotationSpecStatus = "colo.dev/spec-status"
)

// The orchestrator sees AnnotationSpecStatus in the file DownwardDir/
// DownwardCancelFile of its container: a downwardAPI volume, which the
// kubelet updates when the annotation changes. The file is empty until the
// run is asked to stop.
const (
	DownwardDir        = "/colo/downward"
	DownwardCancelFile = "cancel"
	downwardVolume     = "colo-downward"
)

// OrchestratorContainer is the name of the container that runs the
// orchestrator, whose log carries the run's status reports.
const OrchestratorContainer = podspec.OrchestratorContainer

// addDownward projects AnnotationSpecStatus into the orchestrator's
// container, unless the Pod already has the volume.
func addDownward(pod *corev1.Pod) {
	for _, v := range pod.Spec.Volumes {
		if v.Name == downwardVolume {
			return
		}
	}
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
		Name: downwardVolume,
		VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
			Items: []corev1.DownwardAPIVolumeFile{{
				Path:     DownwardCancelFile,
				FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['" + AnnotationSpecStatus + "']"},
			}},
		}},
	})
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if c.Name == OrchestratorContainer {
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: downwardVolume, MountPath: DownwardDir, ReadOnly: true})
		}
	}
}

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
