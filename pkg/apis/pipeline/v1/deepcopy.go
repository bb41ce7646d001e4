package v1

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
)

// deepCopyJSON copies in into out through JSON. Every type here round-trips
// through JSON by design (that is how it is read and written), so this is a
// faithful copy without generated code.
func deepCopyJSON[T any](in *T) *T {
	if in == nil {
		return nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		panic(fmt.Sprintf("deep copy %T: %v", in, err))
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("deep copy %T: %v", in, err))
	}
	return out
}

// DeepCopy returns an independent copy.
func (in *TaskSpec) DeepCopy() *TaskSpec { return deepCopyJSON(in) }

// DeepCopy returns an independent copy.
func (in *Step) DeepCopy() *Step { return deepCopyJSON(in) }

// DeepCopy returns an independent copy.
func (in *PipelineSpec) DeepCopy() *PipelineSpec { return deepCopyJSON(in) }

// DeepCopy returns an independent copy.
func (in *PipelineTask) DeepCopy() *PipelineTask { return deepCopyJSON(in) }

// DeepCopy returns an independent copy.
func (in *Task) DeepCopy() *Task { return deepCopyJSON(in) }

// DeepCopy returns an independent copy.
func (in *Pipeline) DeepCopy() *Pipeline { return deepCopyJSON(in) }

// DeepCopy returns an independent copy.
func (in *PipelineRun) DeepCopy() *PipelineRun { return deepCopyJSON(in) }

// DeepCopy returns an independent copy.
func (in *TaskRun) DeepCopy() *TaskRun { return deepCopyJSON(in) }

// DeepCopyObject implements runtime.Object.
func (in *Task) DeepCopyObject() runtime.Object { return in.DeepCopy() }

// DeepCopyObject implements runtime.Object.
func (in *Pipeline) DeepCopyObject() runtime.Object { return in.DeepCopy() }

// DeepCopyObject implements runtime.Object.
func (in *PipelineRun) DeepCopyObject() runtime.Object { return in.DeepCopy() }

// DeepCopyObject implements runtime.Object.
func (in *TaskRun) DeepCopyObject() runtime.Object { return in.DeepCopy() }
