package engine

import (
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// trSummary is what a user checks in a TaskRun's status.
type trSummary struct {
	Status  corev1.ConditionStatus
	Reason  string
	Message string
	Steps   []stepSummary
	Results []v1.TaskRunResult
	Retries []string // reasons of archived attempts
}

type stepSummary struct {
	Name        string
	ExitCode    int32
	Reason      string // terminated.reason
	Termination string // terminationReason
}

func summarizeTaskRun(st *v1.TaskRunStatus) trSummary {
	var s trSummary
	if c := st.GetCondition(); c != nil {
		s.Status, s.Reason, s.Message = c.Status, c.Reason, c.Message
	}
	for _, step := range st.Steps {
		ss := stepSummary{Name: step.Name, Termination: step.TerminationReason}
		if t := step.Terminated; t != nil {
			ss.ExitCode, ss.Reason = t.ExitCode, t.Reason
		}
		s.Steps = append(s.Steps, ss)
	}
	s.Results = st.Results
	for _, r := range st.RetriesStatus {
		if c := r.GetCondition(); c != nil {
			s.Retries = append(s.Retries, c.Reason)
		}
	}
	return s
}

// prSummary is what a user checks in a PipelineRun's status.
type prSummary struct {
	Status   corev1.ConditionStatus
	Reason   string
	Message  string
	Skipped  []v1.SkippedTask
	Children []string
	Results  []v1.PipelineRunResult
}

func summarizePipelineRun(st *v1.PipelineRunStatus) prSummary {
	var s prSummary
	if c := st.GetCondition(); c != nil {
		s.Status, s.Reason, s.Message = c.Status, c.Reason, c.Message
	}
	s.Skipped = st.SkippedTasks
	for _, c := range st.ChildReferences {
		s.Children = append(s.Children, c.Name)
	}
	s.Results = st.Results
	return s
}

// taskRunReasons returns each TaskRun's condition reason by name.
func taskRunReasons(st Status) map[string]string {
	out := map[string]string{}
	for _, tr := range st.TaskRuns {
		if c := tr.Status.GetCondition(); c != nil {
			out[tr.Name] = c.Reason
		}
	}
	return out
}
