package v1beta1

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
)

// DeepCopy returns an independent copy, made through JSON, which every
// field round-trips by design.
func (in *StepAction) DeepCopy() *StepAction {
	if in == nil {
		return nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		panic(fmt.Sprintf("deep copy StepAction: %v", err))
	}
	out := &StepAction{}
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("deep copy StepAction: %v", err))
	}
	return out
}

// DeepCopyObject implements runtime.Object.
func (in *StepAction) DeepCopyObject() runtime.Object { return in.DeepCopy() }
