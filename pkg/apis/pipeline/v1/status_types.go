package v1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConditionSucceeded is the one condition type a run reports.
const ConditionSucceeded = "Succeeded"

// Condition is a run's state, in the shape knative and Tekton report it.
type Condition struct {
	Type               string                 `json:"type"`
	Status             corev1.ConditionStatus `json:"status"`
	Severity           string                 `json:"severity,omitempty"`
	LastTransitionTime metav1.Time            `json:"lastTransitionTime,omitempty"`
	Reason             string                 `json:"reason,omitempty"`
	Message            string                 `json:"message,omitempty"`
}

// Status is the part every run status shares.
type Status struct {
	ObservedGeneration int64             `json:"observedGeneration,omitempty"`
	Conditions         []Condition       `json:"conditions,omitempty"`
	Annotations        map[string]string `json:"annotations,omitempty"`
}

// GetCondition returns the Succeeded condition, or nil.
func (s *Status) GetCondition() *Condition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == ConditionSucceeded {
			return &s.Conditions[i]
		}
	}
	return nil
}

// SetCondition replaces or adds the condition of c's type.
func (s *Status) SetCondition(c Condition) {
	for i := range s.Conditions {
		if s.Conditions[i].Type == c.Type {
			if s.Conditions[i].Status == c.Status && s.Conditions[i].Reason == c.Reason && s.Conditions[i].Message == c.Message {
				return
			}
			s.Conditions[i] = c
			return
		}
	}
	s.Conditions = append(s.Conditions, c)
}

// PipelineRunStatus is what a PipelineRun reports.
type PipelineRunStatus struct {
	Status                  `json:",inline"`
	PipelineRunStatusFields `json:",inline"`
}

// PipelineRunStatusFields are the PipelineRun-specific parts of its status.
type PipelineRunStatusFields struct {
	StartTime        *metav1.Time           `json:"startTime,omitempty"`
	CompletionTime   *metav1.Time           `json:"completionTime,omitempty"`
	Results          []PipelineRunResult    `json:"results,omitempty"`
	PipelineSpec     *PipelineSpec          `json:"pipelineSpec,omitempty"`
	SkippedTasks     []SkippedTask          `json:"skippedTasks,omitempty"`
	ChildReferences  []ChildStatusReference `json:"childReferences,omitempty"`
	FinallyStartTime *metav1.Time           `json:"finallyStartTime,omitempty"`
	Provenance       *Provenance            `json:"provenance,omitempty"`
	SpanContext      map[string]string      `json:"spanContext,omitempty"`
}

// Provenance records where the resolved spec came from.
type Provenance struct {
	RefSource    *RefSource        `json:"refSource,omitempty"`
	FeatureFlags map[string]string `json:"featureFlags,omitempty"`
}

// RefSource identifies a resolved remote object.
type RefSource struct {
	URI        string            `json:"uri,omitempty"`
	Digest     map[string]string `json:"digest,omitempty"`
	EntryPoint string            `json:"entryPoint,omitempty"`
}

// PipelineRunResult is one pipeline result's value.
type PipelineRunResult struct {
	Name  string     `json:"name"`
	Value ParamValue `json:"value"`
}

// SkippedTask names a pipeline task that did not run, and why.
type SkippedTask struct {
	Name            string          `json:"name"`
	Reason          string          `json:"reason"`
	WhenExpressions WhenExpressions `json:"whenExpressions,omitempty"`
}

// ChildStatusReference points at a TaskRun of a PipelineRun.
type ChildStatusReference struct {
	metav1.TypeMeta  `json:",inline"`
	Name             string          `json:"name,omitempty"`
	DisplayName      string          `json:"displayName,omitempty"`
	PipelineTaskName string          `json:"pipelineTaskName,omitempty"`
	WhenExpressions  WhenExpressions `json:"whenExpressions,omitempty"`
}

// TaskRunStatus is what a TaskRun reports.
type TaskRunStatus struct {
	Status              `json:",inline"`
	TaskRunStatusFields `json:",inline"`
}

// TaskRunStatusFields are the TaskRun-specific parts of its status.
type TaskRunStatusFields struct {
	PodName        string            `json:"podName,omitempty"`
	StartTime      *metav1.Time      `json:"startTime,omitempty"`
	CompletionTime *metav1.Time      `json:"completionTime,omitempty"`
	Steps          []StepState       `json:"steps,omitempty"`
	RetriesStatus  []TaskRunStatus   `json:"retriesStatus,omitempty"`
	Results        []TaskRunResult   `json:"results,omitempty"`
	Artifacts      *Artifacts        `json:"artifacts,omitempty"`
	Sidecars       []SidecarState    `json:"sidecars,omitempty"`
	TaskSpec       *TaskSpec         `json:"taskSpec,omitempty"`
	Provenance     *Provenance       `json:"provenance,omitempty"`
	SpanContext    map[string]string `json:"spanContext,omitempty"`
}

// TaskRunResult is one task result's value.
type TaskRunResult struct {
	Name  string      `json:"name"`
	Type  ResultsType `json:"type,omitempty"`
	Value ParamValue  `json:"value"`
}

// StepState is one step's outcome.
type StepState struct {
	corev1.ContainerState `json:",inline"`
	Name                  string          `json:"name,omitempty"`
	Container             string          `json:"container,omitempty"`
	ImageID               string          `json:"imageID,omitempty"`
	Results               []TaskRunResult `json:"results,omitempty"`
	TerminationReason     string          `json:"terminationReason,omitempty"`
	Inputs                []Artifact      `json:"inputs,omitempty"`
	Outputs               []Artifact      `json:"outputs,omitempty"`
}

// SidecarState is one sidecar's outcome.
type SidecarState struct {
	corev1.ContainerState `json:",inline"`
	Name                  string `json:"name,omitempty"`
	Container             string `json:"container,omitempty"`
	ImageID               string `json:"imageID,omitempty"`
}

// Artifacts are a task's declared inputs and outputs.
type Artifacts struct {
	Inputs  []Artifact `json:"inputs,omitempty"`
	Outputs []Artifact `json:"outputs,omitempty"`
}

// Artifact is a named list of artifact values.
type Artifact struct {
	Name        string          `json:"name,omitempty"`
	Values      []ArtifactValue `json:"values,omitempty"`
	BuildOutput bool            `json:"buildOutput,omitempty"`
}

// ArtifactValue identifies one artifact.
type ArtifactValue struct {
	Digest map[string]string `json:"digest,omitempty"`
	URI    string            `json:"uri,omitempty"`
}
