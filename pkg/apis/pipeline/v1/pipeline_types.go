package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Pipeline is a graph of tasks.
type Pipeline struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              PipelineSpec `json:"spec"`
}

// PipelineSpec is what a Pipeline runs.
type PipelineSpec struct {
	DisplayName string                         `json:"displayName,omitempty"`
	Description string                         `json:"description,omitempty"`
	Tasks       []PipelineTask                 `json:"tasks,omitempty"`
	Params      ParamSpecs                     `json:"params,omitempty"`
	Workspaces  []PipelineWorkspaceDeclaration `json:"workspaces,omitempty"`
	Results     []PipelineResult               `json:"results,omitempty"`
	Finally     []PipelineTask                 `json:"finally,omitempty"`
}

// PipelineTask is one node of a pipeline's graph.
type PipelineTask struct {
	Name         string                         `json:"name,omitempty"`
	DisplayName  string                         `json:"displayName,omitempty"`
	Description  string                         `json:"description,omitempty"`
	TaskRef      *TaskRef                       `json:"taskRef,omitempty"`
	TaskSpec     *EmbeddedTask                  `json:"taskSpec,omitempty"`
	When         WhenExpressions                `json:"when,omitempty"`
	OnError      PipelineTaskOnErrorType        `json:"onError,omitempty"`
	Retries      int                            `json:"retries,omitempty"`
	RunAfter     []string                       `json:"runAfter,omitempty"`
	Params       Params                         `json:"params,omitempty"`
	Matrix       *Matrix                        `json:"matrix,omitempty"`
	Workspaces   []WorkspacePipelineTaskBinding `json:"workspaces,omitempty"`
	Timeout      *metav1.Duration               `json:"timeout,omitempty"`
	PipelineRef  *PipelineRef                   `json:"pipelineRef,omitempty"`
	PipelineSpec *PipelineSpec                  `json:"pipelineSpec,omitempty"`
}

// PipelineTaskOnErrorType says whether a failed task fails the pipeline.
type PipelineTaskOnErrorType string

// PipelineTask onError values.
const (
	PipelineTaskStopAndFail PipelineTaskOnErrorType = "stopAndFail"
	PipelineTaskContinue    PipelineTaskOnErrorType = "continue"
)

// EmbeddedTask is a task spec written inside a pipeline.
type EmbeddedTask struct {
	runtime.TypeMeta `json:",inline,omitempty"`
	Spec             runtime.RawExtension `json:"spec,omitempty"`
	Metadata         PipelineTaskMetadata `json:"metadata,omitempty"`
	TaskSpec         `json:",inline,omitempty"`
}

// PipelineTaskMetadata is metadata for the TaskRun of an embedded task.
type PipelineTaskMetadata struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// TaskKind is Task or ClusterTask.
type TaskKind string

// TaskRef refers to a Task by name or through a resolver.
type TaskRef struct {
	Name        string   `json:"name,omitempty"`
	Kind        TaskKind `json:"kind,omitempty"`
	APIVersion  string   `json:"apiVersion,omitempty"`
	ResolverRef `json:",omitempty"`
}

// PipelineRef refers to a Pipeline by name or through a resolver.
type PipelineRef struct {
	Name        string `json:"name,omitempty"`
	APIVersion  string `json:"apiVersion,omitempty"`
	ResolverRef `json:",omitempty"`
}

// Matrix fans a task out over the Cartesian product of array params.
type Matrix struct {
	Params  Params          `json:"params,omitempty"`
	Include []IncludeParams `json:"include,omitempty"`
}

// IncludeParams adds or extends combinations of a matrix.
type IncludeParams struct {
	Name   string `json:"name,omitempty"`
	Params Params `json:"params,omitempty"`
}

// PipelineResult is a result of the whole pipeline, built from task results.
type PipelineResult struct {
	Name        string      `json:"name"`
	Type        ResultsType `json:"type,omitempty"`
	Description string      `json:"description"`
	Value       ParamValue  `json:"value"`
}

// PipelineWorkspaceDeclaration declares a workspace a Pipeline needs.
type PipelineWorkspaceDeclaration struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Optional    bool   `json:"optional,omitempty"`
}

// WorkspacePipelineTaskBinding maps a pipeline workspace to a task workspace.
type WorkspacePipelineTaskBinding struct {
	Name      string `json:"name"`
	Workspace string `json:"workspace,omitempty"`
	SubPath   string `json:"subPath,omitempty"`
}
