package cli

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/colo-ci/colo/internal/engine"
)

// writeTasksTable writes rows as a table.
func writeTasksTable(w io.Writer, rows []taskRow, now time.Time) {
	if len(rows) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tSTATUS\tREASON\tDURATION")
	for _, r := range rows {
		label := r.Label
		if r.Finally {
			label += " (finally)"
		}
		dur := "---"
		if !r.Start.IsZero() {
			dur = formatDuration(r.duration(now))
		}
		reason := r.Reason
		if reason == "" {
			reason = "---"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", label, r.State, reason, dur)
	}
	tw.Flush()
}

// writeSummary writes the closing summary of one run: its tasks, then one
// line with its outcome and, on the next, its message. The durations are
// those rows and took tell (the status keeps whole seconds only).
func writeSummary(w io.Writer, kind, name string, st engine.Status, rows []taskRow, took time.Duration, now time.Time) {
	fmt.Fprintln(w)
	writeTasksTable(w, rows, now)
	state, reason, message := runStatus(st)
	line := fmt.Sprintf("%s %s %s", kind, name, state)
	if reason != "" && reason != state {
		line += " (" + reason + ")"
	}
	if took > 0 {
		line += " in " + formatDuration(took)
	}
	fmt.Fprintln(w, line)
	if message != "" {
		fmt.Fprintf(w, "  %s\n", message)
	}
}

// runTimes returns a run's start and completion times (zero when unset).
func runTimes(st engine.Status) (start, end time.Time) {
	switch {
	case st.PipelineRun != nil:
		if t := st.PipelineRun.StartTime; t != nil {
			start = t.Time
		}
		if t := st.PipelineRun.CompletionTime; t != nil {
			end = t.Time
		}
	case st.TaskRun != nil:
		if t := st.TaskRun.StartTime; t != nil {
			start = t.Time
		}
		if t := st.TaskRun.CompletionTime; t != nil {
			end = t.Time
		}
	}
	return start, end
}
