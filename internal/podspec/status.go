package podspec

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// CannotStart returns why a container of pod can never start, if one
// cannot: its image cannot be pulled, or its configuration names a Secret
// or ConfigMap that is not there. A compiled Pod completes only when every
// container has run, so such a Pod never will.
//
// A pull the kubelet only postponed because too many were asked for at
// once ("pull QPS exceeded") is not such a reason: it is tried again.
func CannotStart(pod *corev1.Pod) (waiting *corev1.ContainerStateWaiting, container, image string) {
	for _, statuses := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, cs := range statuses {
			w := cs.State.Waiting
			if w == nil {
				continue
			}
			switch w.Reason {
			case "ImagePullBackOff":
				if strings.Contains(w.Message, "QPS exceeded") {
					continue
				}
				return w, cs.Name, cs.Image
			case "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError":
				return w, cs.Name, cs.Image
			}
		}
	}
	return nil, "", ""
}
