package podspec

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestCannotStart(t *testing.T) {
	waiting := func(name, reason, message string) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, Image: name + ":1", State: corev1.ContainerState{
			Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message},
		}}
	}
	running := corev1.ContainerStatus{Name: "orchestrator", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	tests := []struct {
		name          string
		init, main    []corev1.ContainerStatus
		wantContainer string
	}{
		{name: "no statuses yet"},
		{name: "starting", main: []corev1.ContainerStatus{running, waiting("step-a", "ContainerCreating", "")}},
		{name: "pulling for the first time", main: []corev1.ContainerStatus{waiting("step-a", "ErrImagePull", "not found")}},
		{name: "backing off a pull", main: []corev1.ContainerStatus{running, waiting("step-a", "ImagePullBackOff", `Back-off pulling image "a"`)}, wantContainer: "step-a"},
		{name: "a pull the kubelet postponed", main: []corev1.ContainerStatus{waiting("step-a", "ImagePullBackOff", `Back-off pulling image "a": ErrImagePull: pull QPS exceeded`)}},
		{name: "an invalid image name", main: []corev1.ContainerStatus{waiting("step-b", "InvalidImageName", "")}, wantContainer: "step-b"},
		{name: "a missing Secret", main: []corev1.ContainerStatus{waiting("step-c", "CreateContainerConfigError", `secret "s" not found`)}, wantContainer: "step-c"},
		{name: "an init container", init: []corev1.ContainerStatus{waiting("prepare", "ImagePullBackOff", "")}, wantContainer: "prepare"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Status: corev1.PodStatus{InitContainerStatuses: tt.init, ContainerStatuses: tt.main}}
			w, container, image := CannotStart(pod)
			if container != tt.wantContainer {
				t.Fatalf("container %q, want %q", container, tt.wantContainer)
			}
			if tt.wantContainer == "" {
				if w != nil {
					t.Errorf("waiting %+v, want none", w)
				}
				return
			}
			if w == nil || image != tt.wantContainer+":1" {
				t.Errorf("waiting %+v image %q, want the container's state and image", w, image)
			}
		})
	}
}
