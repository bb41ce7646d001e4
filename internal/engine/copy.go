package engine

import (
	"encoding/json"
	"fmt"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// copyJSON copies a value through JSON; every API type round-trips.
func copyJSON[T any](in *T) *T {
	if in == nil {
		return nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		panic(fmt.Sprintf("copy %T: %v", in, err))
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("copy %T: %v", in, err))
	}
	return out
}

func deepCopyTaskRunStatus(s *v1.TaskRunStatus) *v1.TaskRunStatus { return copyJSON(s) }

func deepCopyPipelineRunStatus(s *v1.PipelineRunStatus) *v1.PipelineRunStatus {
	return copyJSON(s)
}

func copyBinding(b v1.WorkspaceBinding) v1.WorkspaceBinding { return *copyJSON(&b) }

func copyWorkspace(w Workspace) Workspace {
	out := w
	if w.Binding != nil {
		b := copyBinding(*w.Binding)
		out.Binding = &b
	}
	return out
}

func copyProcesses(ps []Process) []Process {
	if ps == nil {
		return nil
	}
	out := make([]Process, len(ps))
	for i := range ps {
		out[i] = *copyJSON(&ps[i])
	}
	return out
}

func copyPodTemplate(p *v1.PodTemplate) *v1.PodTemplate { return copyJSON(p) }

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
