package v1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Task is a template of steps that run in order, sharing workspaces and results.
type Task struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              TaskSpec `json:"spec"`
}

// TaskSpec is what a Task runs.
type TaskSpec struct {
	DisplayName  string                 `json:"displayName,omitempty"`
	Description  string                 `json:"description,omitempty"`
	Params       ParamSpecs             `json:"params,omitempty"`
	Steps        []Step                 `json:"steps,omitempty"`
	Volumes      []corev1.Volume        `json:"volumes,omitempty"`
	StepTemplate *StepTemplate          `json:"stepTemplate,omitempty"`
	Sidecars     []Sidecar              `json:"sidecars,omitempty"`
	Workspaces   []WorkspaceDeclaration `json:"workspaces,omitempty"`
	Results      []TaskResult           `json:"results,omitempty"`
}

// OnErrorType says what a step failure does to the rest of the task.
type OnErrorType string

// Step onError values.
const (
	StopAndFail OnErrorType = "stopAndFail"
	Continue    OnErrorType = "continue"
)

// Step is one container of a task, run after the step before it.
type Step struct {
	Name             string                      `json:"name,omitempty"`
	DisplayName      string                      `json:"displayName,omitempty"`
	Image            string                      `json:"image,omitempty"`
	Command          []string                    `json:"command,omitempty"`
	Args             []string                    `json:"args,omitempty"`
	WorkingDir       string                      `json:"workingDir,omitempty"`
	EnvFrom          []corev1.EnvFromSource      `json:"envFrom,omitempty"`
	Env              []corev1.EnvVar             `json:"env,omitempty"`
	ComputeResources corev1.ResourceRequirements `json:"computeResources,omitempty"`
	VolumeMounts     []corev1.VolumeMount        `json:"volumeMounts,omitempty"`
	VolumeDevices    []corev1.VolumeDevice       `json:"volumeDevices,omitempty"`
	ImagePullPolicy  corev1.PullPolicy           `json:"imagePullPolicy,omitempty"`
	SecurityContext  *corev1.SecurityContext     `json:"securityContext,omitempty"`
	Script           string                      `json:"script,omitempty"`
	Timeout          *metav1.Duration            `json:"timeout,omitempty"`
	Workspaces       []WorkspaceUsage            `json:"workspaces,omitempty"`
	OnError          OnErrorType                 `json:"onError,omitempty"`
	StdoutConfig     *StepOutputConfig           `json:"stdoutConfig,omitempty"`
	StderrConfig     *StepOutputConfig           `json:"stderrConfig,omitempty"`
	Ref              *Ref                        `json:"ref,omitempty"`
	Params           Params                      `json:"params,omitempty"`
	Results          []StepResult                `json:"results,omitempty"`
	When             WhenExpressions             `json:"when,omitempty"`
}

// StepTemplate holds container fields every step of a task starts from.
type StepTemplate struct {
	Image            string                      `json:"image,omitempty"`
	Command          []string                    `json:"command,omitempty"`
	Args             []string                    `json:"args,omitempty"`
	WorkingDir       string                      `json:"workingDir,omitempty"`
	EnvFrom          []corev1.EnvFromSource      `json:"envFrom,omitempty"`
	Env              []corev1.EnvVar             `json:"env,omitempty"`
	ComputeResources corev1.ResourceRequirements `json:"computeResources,omitempty"`
	VolumeMounts     []corev1.VolumeMount        `json:"volumeMounts,omitempty"`
	VolumeDevices    []corev1.VolumeDevice       `json:"volumeDevices,omitempty"`
	ImagePullPolicy  corev1.PullPolicy           `json:"imagePullPolicy,omitempty"`
	SecurityContext  *corev1.SecurityContext     `json:"securityContext,omitempty"`
}

// StepOutputConfig redirects a step's stdout or stderr to a file.
type StepOutputConfig struct {
	Path string `json:"path,omitempty"`
}

// Ref names a StepAction a step runs.
type Ref struct {
	Name        string `json:"name,omitempty"`
	ResolverRef `json:",omitempty"`
}

// ResolverName names a remote resolver (git, http, hub, bundles, cluster).
type ResolverName string

// ResolverRef asks a resolver for an object.
type ResolverRef struct {
	Resolver ResolverName `json:"resolver,omitempty"`
	Params   Params       `json:"params,omitempty"`
}

// StepResult declares a result of one step.
type StepResult struct {
	Name        string                  `json:"name"`
	Type        ResultsType             `json:"type,omitempty"`
	Properties  map[string]PropertySpec `json:"properties,omitempty"`
	Description string                  `json:"description,omitempty"`
}

// TaskResult declares a result of a task.
type TaskResult struct {
	Name        string                  `json:"name"`
	Type        ResultsType             `json:"type,omitempty"`
	Properties  map[string]PropertySpec `json:"properties,omitempty"`
	Description string                  `json:"description,omitempty"`
	Value       *ParamValue             `json:"value,omitempty"`
}

// Sidecar is a container that runs beside a task's steps.
type Sidecar struct {
	Name                     string                          `json:"name"`
	Image                    string                          `json:"image,omitempty"`
	Command                  []string                        `json:"command,omitempty"`
	Args                     []string                        `json:"args,omitempty"`
	WorkingDir               string                          `json:"workingDir,omitempty"`
	Ports                    []corev1.ContainerPort          `json:"ports,omitempty"`
	EnvFrom                  []corev1.EnvFromSource          `json:"envFrom,omitempty"`
	Env                      []corev1.EnvVar                 `json:"env,omitempty"`
	ComputeResources         corev1.ResourceRequirements     `json:"computeResources,omitempty"`
	VolumeMounts             []corev1.VolumeMount            `json:"volumeMounts,omitempty"`
	VolumeDevices            []corev1.VolumeDevice           `json:"volumeDevices,omitempty"`
	LivenessProbe            *corev1.Probe                   `json:"livenessProbe,omitempty"`
	ReadinessProbe           *corev1.Probe                   `json:"readinessProbe,omitempty"`
	StartupProbe             *corev1.Probe                   `json:"startupProbe,omitempty"`
	Lifecycle                *corev1.Lifecycle               `json:"lifecycle,omitempty"`
	TerminationMessagePath   string                          `json:"terminationMessagePath,omitempty"`
	TerminationMessagePolicy corev1.TerminationMessagePolicy `json:"terminationMessagePolicy,omitempty"`
	ImagePullPolicy          corev1.PullPolicy               `json:"imagePullPolicy,omitempty"`
	SecurityContext          *corev1.SecurityContext         `json:"securityContext,omitempty"`
	Stdin                    bool                            `json:"stdin,omitempty"`
	StdinOnce                bool                            `json:"stdinOnce,omitempty"`
	TTY                      bool                            `json:"tty,omitempty"`
	Script                   string                          `json:"script,omitempty"`
	Workspaces               []WorkspaceUsage                `json:"workspaces,omitempty"`
	RestartPolicy            *corev1.ContainerRestartPolicy  `json:"restartPolicy,omitempty"`
}

// WorkspaceDeclaration declares a workspace a Task needs.
type WorkspaceDeclaration struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	MountPath   string `json:"mountPath,omitempty"`
	ReadOnly    bool   `json:"readOnly,omitempty"`
	Optional    bool   `json:"optional,omitempty"`
}

// WorkspaceUsage mounts a task workspace into one step or sidecar only.
type WorkspaceUsage struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath,omitempty"`
}

// WorkspaceBinding binds a declared workspace to a volume source.
type WorkspaceBinding struct {
	Name                  string                                    `json:"name"`
	SubPath               string                                    `json:"subPath,omitempty"`
	VolumeClaimTemplate   *corev1.PersistentVolumeClaim             `json:"volumeClaimTemplate,omitempty"`
	PersistentVolumeClaim *corev1.PersistentVolumeClaimVolumeSource `json:"persistentVolumeClaim,omitempty"`
	EmptyDir              *corev1.EmptyDirVolumeSource              `json:"emptyDir,omitempty"`
	ConfigMap             *corev1.ConfigMapVolumeSource             `json:"configMap,omitempty"`
	Secret                *corev1.SecretVolumeSource                `json:"secret,omitempty"`
	Projected             *corev1.ProjectedVolumeSource             `json:"projected,omitempty"`
	CSI                   *corev1.CSIVolumeSource                   `json:"csi,omitempty"`
}

// WhenExpression guards a task or step: input operator values, or a CEL expression.
type WhenExpression struct {
	Input    string   `json:"input,omitempty"`
	Operator string   `json:"operator,omitempty"`
	Values   []string `json:"values,omitempty"`
	CEL      string   `json:"cel,omitempty"`
}

// When operators.
const (
	WhenIn    = "in"
	WhenNotIn = "notin"
)

// WhenExpressions are ANDed.
type WhenExpressions []WhenExpression

// StepActionObject is the kind a step ref names.
const (
	KindTask        = "Task"
	KindTaskRun     = "TaskRun"
	KindPipeline    = "Pipeline"
	KindPipelineRun = "PipelineRun"
	KindStepAction  = "StepAction"
)
