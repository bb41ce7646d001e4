package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// StepAction is a step that tasks reuse by name.
type StepAction struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              StepActionSpec `json:"spec"`
}

// StepActionSpec is what a StepAction runs.
type StepActionSpec struct {
	Description     string                  `json:"description,omitempty"`
	Image           string                  `json:"image,omitempty"`
	Command         []string                `json:"command,omitempty"`
	Args            []string                `json:"args,omitempty"`
	Env             []corev1.EnvVar         `json:"env,omitempty"`
	Script          string                  `json:"script,omitempty"`
	WorkingDir      string                  `json:"workingDir,omitempty"`
	Params          v1.ParamSpecs           `json:"params,omitempty"`
	Results         []v1.StepResult         `json:"results,omitempty"`
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`
	VolumeMounts    []corev1.VolumeMount    `json:"volumeMounts,omitempty"`
}
