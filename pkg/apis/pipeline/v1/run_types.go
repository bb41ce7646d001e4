package v1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PipelineRun runs a Pipeline once.
type PipelineRun struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              PipelineRunSpec   `json:"spec,omitempty"`
	Status            PipelineRunStatus `json:"status,omitempty"`
}

// PipelineRunSpecStatus is what a user asks of a run that has been created.
type PipelineRunSpecStatus string

// Values of PipelineRun spec.status.
const (
	PipelineRunSpecStatusCancelled           PipelineRunSpecStatus = "Cancelled"
	PipelineRunSpecStatusCancelledRunFinally PipelineRunSpecStatus = "CancelledRunFinally"
	PipelineRunSpecStatusStoppedRunFinally   PipelineRunSpecStatus = "StoppedRunFinally"
	PipelineRunSpecStatusPending             PipelineRunSpecStatus = "PipelineRunPending"
)

// PipelineRunSpec says what to run and with which inputs.
type PipelineRunSpec struct {
	PipelineRef     *PipelineRef            `json:"pipelineRef,omitempty"`
	PipelineSpec    *PipelineSpec           `json:"pipelineSpec,omitempty"`
	Params          Params                  `json:"params,omitempty"`
	Status          PipelineRunSpecStatus   `json:"status,omitempty"`
	Timeouts        *TimeoutFields          `json:"timeouts,omitempty"`
	TaskRunTemplate PipelineTaskRunTemplate `json:"taskRunTemplate,omitempty"`
	Workspaces      []WorkspaceBinding      `json:"workspaces,omitempty"`
	TaskRunSpecs    []PipelineTaskRunSpec   `json:"taskRunSpecs,omitempty"`
	ManagedBy       *string                 `json:"managedBy,omitempty"`
}

// TimeoutFields bound a pipeline run, its DAG tasks and its finally tasks.
type TimeoutFields struct {
	Pipeline *metav1.Duration `json:"pipeline,omitempty"`
	Tasks    *metav1.Duration `json:"tasks,omitempty"`
	Finally  *metav1.Duration `json:"finally,omitempty"`
}

// PipelineTaskRunTemplate applies to every TaskRun of a PipelineRun.
type PipelineTaskRunTemplate struct {
	PodTemplate        *PodTemplate `json:"podTemplate,omitempty"`
	ServiceAccountName string       `json:"serviceAccountName,omitempty"`
}

// PipelineTaskRunSpec overrides run settings for one pipeline task.
type PipelineTaskRunSpec struct {
	PipelineTaskName   string                       `json:"pipelineTaskName,omitempty"`
	ServiceAccountName string                       `json:"serviceAccountName,omitempty"`
	PodTemplate        *PodTemplate                 `json:"podTemplate,omitempty"`
	StepSpecs          []TaskRunStepSpec            `json:"stepSpecs,omitempty"`
	SidecarSpecs       []TaskRunSidecarSpec         `json:"sidecarSpecs,omitempty"`
	Metadata           *PipelineTaskMetadata        `json:"metadata,omitempty"`
	ComputeResources   *corev1.ResourceRequirements `json:"computeResources,omitempty"`
	Timeout            *metav1.Duration             `json:"timeout,omitempty"`
}

// TaskRunStepSpec overrides one step's compute resources.
type TaskRunStepSpec struct {
	Name             string                      `json:"name"`
	ComputeResources corev1.ResourceRequirements `json:"computeResources"`
}

// TaskRunSidecarSpec overrides one sidecar's compute resources.
type TaskRunSidecarSpec struct {
	Name             string                      `json:"name"`
	ComputeResources corev1.ResourceRequirements `json:"computeResources"`
}

// TaskRun runs a Task once.
type TaskRun struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              TaskRunSpec   `json:"spec,omitempty"`
	Status            TaskRunStatus `json:"status,omitempty"`
}

// TaskRunSpecStatus is what a user asks of a TaskRun that has been created.
type TaskRunSpecStatus string

// Values of TaskRun spec.status.
const (
	TaskRunSpecStatusCancelled TaskRunSpecStatus = "TaskRunCancelled"
	TaskRunSpecStatusPending   TaskRunSpecStatus = "TaskRunPending"
)

// TaskRunSpec says what to run and with which inputs.
type TaskRunSpec struct {
	Debug              *TaskRunDebug                `json:"debug,omitempty"`
	Params             Params                       `json:"params,omitempty"`
	ServiceAccountName string                       `json:"serviceAccountName,omitempty"`
	TaskRef            *TaskRef                     `json:"taskRef,omitempty"`
	TaskSpec           *TaskSpec                    `json:"taskSpec,omitempty"`
	Status             TaskRunSpecStatus            `json:"status,omitempty"`
	StatusMessage      string                       `json:"statusMessage,omitempty"`
	Retries            int                          `json:"retries,omitempty"`
	Timeout            *metav1.Duration             `json:"timeout,omitempty"`
	PodTemplate        *PodTemplate                 `json:"podTemplate,omitempty"`
	Workspaces         []WorkspaceBinding           `json:"workspaces,omitempty"`
	StepSpecs          []TaskRunStepSpec            `json:"stepSpecs,omitempty"`
	SidecarSpecs       []TaskRunSidecarSpec         `json:"sidecarSpecs,omitempty"`
	ComputeResources   *corev1.ResourceRequirements `json:"computeResources,omitempty"`
	ManagedBy          *string                      `json:"managedBy,omitempty"`
}

// TaskRunDebug holds breakpoints for debugging a TaskRun.
type TaskRunDebug struct {
	Breakpoints *TaskBreakpoints `json:"breakpoints,omitempty"`
}

// TaskBreakpoints says where a TaskRun pauses.
type TaskBreakpoints struct {
	OnFailure   string   `json:"onFailure,omitempty"`
	BeforeSteps []string `json:"beforeSteps,omitempty"`
}

// PodTemplate holds Pod-level settings for the Pods of a run.
type PodTemplate struct {
	NodeSelector                 map[string]string                 `json:"nodeSelector,omitempty"`
	Env                          []corev1.EnvVar                   `json:"env,omitempty"`
	Tolerations                  []corev1.Toleration               `json:"tolerations,omitempty"`
	Affinity                     *corev1.Affinity                  `json:"affinity,omitempty"`
	SecurityContext              *corev1.PodSecurityContext        `json:"securityContext,omitempty"`
	Volumes                      []corev1.Volume                   `json:"volumes,omitempty"`
	RuntimeClassName             *string                           `json:"runtimeClassName,omitempty"`
	AutomountServiceAccountToken *bool                             `json:"automountServiceAccountToken,omitempty"`
	DNSPolicy                    *corev1.DNSPolicy                 `json:"dnsPolicy,omitempty"`
	DNSConfig                    *corev1.PodDNSConfig              `json:"dnsConfig,omitempty"`
	EnableServiceLinks           *bool                             `json:"enableServiceLinks,omitempty"`
	PriorityClassName            *string                           `json:"priorityClassName,omitempty"`
	SchedulerName                string                            `json:"schedulerName,omitempty"`
	ImagePullSecrets             []corev1.LocalObjectReference     `json:"imagePullSecrets,omitempty"`
	HostAliases                  []corev1.HostAlias                `json:"hostAliases,omitempty"`
	HostNetwork                  bool                              `json:"hostNetwork,omitempty"`
	TopologySpreadConstraints    []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
}
