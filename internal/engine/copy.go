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

// deepCopyTaskRunStatus copies a task run's status for a snapshot. The
// resolved spec, the bulk of it, is shared: the engine replaces a status's
// TaskSpec with a new value for each attempt and never changes one it has
// set.
func deepCopyTaskRunStatus(s *v1.TaskRunStatus) *v1.TaskRunStatus {
	if s == nil {
		return nil
	}
	in := *s
	in.TaskSpec, in.RetriesStatus = nil, nil
	out := copyJSON(&in)
	out.TaskSpec = s.TaskSpec
	if s.RetriesStatus != nil {
		out.RetriesStatus = make([]v1.TaskRunStatus, len(s.RetriesStatus))
		for i := range s.RetriesStatus {
			out.RetriesStatus[i] = *deepCopyTaskRunStatus(&s.RetriesStatus[i])
		}
	}
	return out
}

// deepCopyPipelineRunStatus copies a pipeline run's status for a
// snapshot, sharing its PipelineSpec, which the engine sets once.
func deepCopyPipelineRunStatus(s *v1.PipelineRunStatus) *v1.PipelineRunStatus {
	if s == nil {
		return nil
	}
	in := *s
	in.PipelineSpec = nil
	out := copyJSON(&in)
	out.PipelineSpec = s.PipelineSpec
	return out
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
