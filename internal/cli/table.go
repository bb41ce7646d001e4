package cli

import (
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/colo-ci/colo/internal/engine"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Task states as colo shows them.
const (
	stateWaiting   = "Waiting"
	stateRunning   = "Running"
	stateSucceeded = "Succeeded"
	stateFailed    = "Failed"
	stateCancelled = "Cancelled"
	stateSkipped   = "Skipped"
)

// taskRow is one line of a tasks table: a TaskRun, a skipped task, or a
// task that has not started.
type taskRow struct {
	Key     string // TaskRun name, or the pipeline task name
	Label   string // what the user sees
	Finally bool
	State   string
	Reason  string
	Message string
	Start   time.Time
	End     time.Time
	Retries int
}

// duration is how long the row's TaskRun ran (so far, when still running).
func (r taskRow) duration(now time.Time) time.Duration {
	if r.Start.IsZero() {
		return 0
	}
	end := r.End
	if end.IsZero() {
		end = now
	}
	return end.Sub(r.Start)
}

// stateOf turns a Succeeded condition into a state and reason.
func stateOf(c *v1.Condition) (state, reason string) {
	if c == nil {
		return stateWaiting, ""
	}
	switch c.Status {
	case corev1.ConditionTrue:
		return stateSucceeded, c.Reason
	case corev1.ConditionFalse:
		switch c.Reason {
		case "TaskRunCancelled", "Cancelled":
			return stateCancelled, c.Reason
		}
		return stateFailed, c.Reason
	}
	if c.Reason == "Pending" || c.Reason == "TaskRunPending" || c.Reason == "PipelineRunPending" {
		return stateWaiting, c.Reason
	}
	return stateRunning, c.Reason
}

// taskRows lists the tasks of a run's status: its TaskRuns in creation
// order, then skipped tasks, then (with waiting) tasks of the pipeline that
// have neither started nor been skipped.
func taskRows(st engine.Status, waiting bool) []taskRow {
	perTask := map[string]int{}
	for _, tr := range st.TaskRuns {
		perTask[tr.PipelineTask]++
	}
	seenTask := map[string]int{}
	var rows []taskRow
	for _, tr := range st.TaskRuns {
		label := tr.PipelineTask
		if label == "" {
			label = tr.Name
		} else if perTask[tr.PipelineTask] > 1 {
			label += "[" + strconv.Itoa(seenTask[tr.PipelineTask]) + "]"
		}
		seenTask[tr.PipelineTask]++
		state, reason := stateOf(tr.Status.GetCondition())
		row := taskRow{
			Key:     tr.Name,
			Label:   label,
			Finally: tr.Finally,
			State:   state,
			Reason:  reason,
			Retries: len(tr.Status.RetriesStatus),
		}
		if c := tr.Status.GetCondition(); c != nil {
			row.Message = c.Message
		}
		if tr.Status.StartTime != nil {
			row.Start = tr.Status.StartTime.Time
		}
		if tr.Status.CompletionTime != nil {
			row.End = tr.Status.CompletionTime.Time
		}
		rows = append(rows, row)
	}
	if st.PipelineRun == nil {
		return rows
	}
	skipped := map[string]bool{}
	for _, s := range st.PipelineRun.SkippedTasks {
		skipped[s.Name] = true
		rows = append(rows, taskRow{Key: s.Name, Label: s.Name, State: stateSkipped, Reason: s.Reason})
	}
	if spec := st.PipelineRun.PipelineSpec; waiting && spec != nil {
		add := func(pts []v1.PipelineTask, finally bool) {
			for _, pt := range pts {
				if perTask[pt.Name] == 0 && !skipped[pt.Name] {
					rows = append(rows, taskRow{Key: pt.Name, Label: pt.Name, Finally: finally, State: stateWaiting})
				}
			}
		}
		add(spec.Tasks, false)
		add(spec.Finally, true)
	}
	return rows
}

// formatDuration shows a duration the way a person reads it: tenths of a
// second under a minute, whole seconds above.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	default:
		return d.Round(time.Second).String()
	}
}

// formatAge shows how long ago t was, as kubectl does.
func formatAge(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "---"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

// runStatus returns the state, reason and message of a run's status.
func runStatus(st engine.Status) (state, reason, message string) {
	var c *v1.Condition
	switch {
	case st.PipelineRun != nil:
		c = st.PipelineRun.GetCondition()
	case st.TaskRun != nil:
		c = st.TaskRun.GetCondition()
	}
	state, reason = stateOf(c)
	if c != nil {
		message = c.Message
	}
	return state, reason, message
}
