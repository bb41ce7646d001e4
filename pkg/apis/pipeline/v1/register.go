package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is tekton.dev/v1 as a schema.GroupVersion.
func GroupVersion() schema.GroupVersion {
	return schema.GroupVersion{Group: GroupName, Version: Version}
}

// AddToScheme registers Task, Pipeline, PipelineRun and TaskRun and their
// lists with s, so that API clients (client-go, controller-runtime) can read
// and write them as typed objects.
func AddToScheme(s *runtime.Scheme) error {
	gv := GroupVersion()
	s.AddKnownTypes(gv,
		&Task{}, &TaskList{},
		&Pipeline{}, &PipelineList{},
		&PipelineRun{}, &PipelineRunList{},
		&TaskRun{}, &TaskRunList{},
	)
	metav1.AddToGroupVersion(s, gv)
	return nil
}

// TaskList is a list of Tasks.
type TaskList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Task `json:"items"`
}

// PipelineList is a list of Pipelines.
type PipelineList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Pipeline `json:"items"`
}

// PipelineRunList is a list of PipelineRuns.
type PipelineRunList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PipelineRun `json:"items"`
}

// TaskRunList is a list of TaskRuns.
type TaskRunList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TaskRun `json:"items"`
}

// DeepCopyObject implements runtime.Object.
func (in *TaskList) DeepCopyObject() runtime.Object { return deepCopyJSON(in) }

// DeepCopyObject implements runtime.Object.
func (in *PipelineList) DeepCopyObject() runtime.Object { return deepCopyJSON(in) }

// DeepCopyObject implements runtime.Object.
func (in *PipelineRunList) DeepCopyObject() runtime.Object { return deepCopyJSON(in) }

// DeepCopyObject implements runtime.Object.
func (in *TaskRunList) DeepCopyObject() runtime.Object { return deepCopyJSON(in) }
