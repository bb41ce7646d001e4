package v1beta1

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the API group of every type here.
const GroupName = "tekton.dev"

// Version is this package's API version.
const Version = "v1beta1"

// GroupVersion is tekton.dev/v1beta1 as a schema.GroupVersion.
func GroupVersion() schema.GroupVersion {
	return schema.GroupVersion{Group: GroupName, Version: Version}
}

// AddToScheme registers StepAction and StepActionList with s, so that API
// clients can read them as typed objects.
func AddToScheme(s *runtime.Scheme) error {
	gv := GroupVersion()
	s.AddKnownTypes(gv, &StepAction{}, &StepActionList{})
	metav1.AddToGroupVersion(s, gv)
	return nil
}

// StepActionList is a list of StepActions.
type StepActionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []StepAction `json:"items"`
}

// DeepCopyObject implements runtime.Object.
func (in *StepActionList) DeepCopyObject() runtime.Object {
	if in == nil {
		return nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		panic(fmt.Sprintf("deep copy StepActionList: %v", err))
	}
	out := &StepActionList{}
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("deep copy StepActionList: %v", err))
	}
	return out
}
