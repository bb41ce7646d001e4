package engine

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

func TestTaskRunTimeoutFromPipelineRun(t *testing.T) {
	tests := []struct {
		name     string
		timeouts string
		task     string // extra PipelineTask fields
		specs    string // taskRunSpecs
		finally  bool
		want     time.Duration
	}{
		{name: "nothing set: the default", want: time.Hour},
		{name: "pipeline 0 alone never reaches TaskRuns", timeouts: `{pipeline: "0"}`, want: time.Hour},
		{name: "pipeline alone never reaches TaskRuns", timeouts: `{pipeline: 3h}`, want: time.Hour},
		{name: "tasks above the default", timeouts: `{pipeline: 2h, tasks: 90m}`, want: 90 * time.Minute},
		{name: "tasks below the default", timeouts: `{pipeline: 2h, tasks: 20m}`, want: time.Hour},
		{name: "tasks 0", timeouts: `{pipeline: "0", tasks: "0"}`, want: 0},
		{name: "tasks derived from pipeline minus finally", timeouts: `{pipeline: 3h, finally: 30m}`, want: 150 * time.Minute},
		{name: "finally above the default", timeouts: `{pipeline: 5h, finally: 2h}`, finally: true, want: 2 * time.Hour},
		{name: "PipelineTask timeout wins", timeouts: `{pipeline: 2h, tasks: 90m}`, task: "timeout: 5m", want: 5 * time.Minute},
		{name: "taskRunSpecs timeout wins", timeouts: `{pipeline: 2h, tasks: 90m}`, task: "timeout: 5m", specs: `[{pipelineTaskName: t, timeout: 7m}]`, want: 7 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
`
			if tc.timeouts != "" {
				doc += "  timeouts: " + tc.timeouts + "\n"
			}
			if tc.specs != "" {
				doc += "  taskRunSpecs: " + tc.specs + "\n"
			}
			section := "tasks"
			if tc.finally {
				doc += `  pipelineSpec:
    tasks:
    - name: first
      taskSpec:` + stepX + "\n"
				section = "finally"
			} else {
				doc += "  pipelineSpec:\n"
			}
			doc += "    " + section + ":\n    - name: t\n"
			if tc.task != "" {
				doc += "      " + tc.task + "\n"
			}
			doc += "      taskSpec:" + stepX + "\n"
			e := newEngine(t, doc, Options{})
			x := run(t, e, script{})
			var got *StartAttempt
			for _, a := range x.started {
				if s, ok := a.(StartAttempt); ok && s.PipelineTask == "t" {
					got = &s
				}
			}
			if got == nil {
				t.Fatalf("t never started; log: %v", x.log)
			}
			if got.Timeout != tc.want {
				t.Errorf("TaskRun timeout = %v, want %v", got.Timeout, tc.want)
			}
		})
	}
}

func TestPipelineTimeoutsAndCancel(t *testing.T) {
	const twoTasks = `
    tasks:
    - name: a
      taskSpec:` + stepX + `
    - name: b
      runAfter: [a]
      taskSpec:` + stepX + `
    finally:
    - name: f
      taskSpec:` + stepX + `
`
	runPipelineCases(t, []pipelineCase{{
		name: "the pipeline timeout cancels running tasks; finally does not run",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  timeouts: {pipeline: 1m}
  pipelineSpec:` + twoTasks,
		script: script{"pr-a/step-s": {dur: time.Hour}},
		want: prSummary{
			Status: "False", Reason: "PipelineRunTimeout", Message: `PipelineRun "pr" failed to finish within "1m0s"`,
			Children: []string{"pr-a"},
		},
		wantRuns: map[string]string{"pr-a": "TaskRunCancelled"},
		wantLog:  []string{"start pr-a#0", "step pr-a#0 step-s", "stop pr-a#0 TaskRunCancelled", "end pr-a#0", "finish"},
	}, {
		name: "the tasks timeout cancels DAG tasks, counted as failed; finally runs; the run times out",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  timeouts: {pipeline: 2h, tasks: 20m}
  pipelineSpec:` + twoTasks,
		script: script{"pr-a/step-s": {dur: time.Hour}},
		want: prSummary{
			Status: "False", Reason: "PipelineRunTimeout", Message: `PipelineRun "pr" failed due to tasks failed to finish within "20m0s"`,
			Skipped:  []v1.SkippedTask{{Name: "b", Reason: "PipelineRun was stopping"}},
			Children: []string{"pr-a", "pr-f"},
		},
		wantRuns:    map[string]string{"pr-a": "TaskRunCancelled", "pr-f": "Succeeded"},
		wantReasons: []string{"Running", "PipelineRunTimeoutRunningFinally", "PipelineRunTimeout"},
	}, {
		name: "the finally timeout cancels finally tasks",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  timeouts: {pipeline: 2h, finally: 10m}
  pipelineSpec:` + twoTasks,
		script: script{"pr-f/step-s": {dur: time.Hour}},
		want: prSummary{
			Status: "False", Reason: "PipelineRunTimeout", Message: `PipelineRun "pr" failed due to finally tasks failed to finish within "10m0s"`,
			Children: []string{"pr-a", "pr-b", "pr-f"},
		},
		wantRuns: map[string]string{"pr-a": "Succeeded", "pr-b": "Succeeded", "pr-f": "TaskRunCancelled"},
	}, {
		name: "Cancelled stops everything; finally never runs",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:` + twoTasks,
		script:  script{"pr-a/step-s": {dur: time.Hour}},
		cancels: []timed{at(time.Minute, CancelRequested{Mode: v1.PipelineRunSpecStatusCancelled})},
		want: prSummary{
			Status: "False", Reason: "Cancelled", Message: `PipelineRun "pr" was cancelled`,
			Children: []string{"pr-a"},
		},
		wantRuns: map[string]string{"pr-a": "TaskRunCancelled"},
	}, {
		// The cancelled task counts as failed, so the rest is skipped as
		// stopping, as upstream reports it.
		name: "CancelledRunFinally cancels running tasks and runs finally",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:` + twoTasks,
		script:  script{"pr-a/step-s": {dur: time.Hour}},
		cancels: []timed{at(time.Minute, CancelRequested{Mode: v1.PipelineRunSpecStatusCancelledRunFinally})},
		want: prSummary{
			Status: "False", Reason: "Cancelled", Message: `PipelineRun "pr" was cancelled`,
			Skipped:  []v1.SkippedTask{{Name: "b", Reason: "PipelineRun was stopping"}},
			Children: []string{"pr-a", "pr-f"},
		},
		wantRuns:    map[string]string{"pr-a": "TaskRunCancelled", "pr-f": "Succeeded"},
		wantReasons: []string{"Running", "CancelledRunningFinally", "Cancelled"},
	}, {
		name: "CancelledRunFinally between tasks skips the rest as gracefully cancelled",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  status: CancelledRunFinally
  pipelineSpec:` + twoTasks,
		want: prSummary{
			Status: "False", Reason: "Cancelled", Message: `PipelineRun "pr" was cancelled`,
			Skipped: []v1.SkippedTask{
				{Name: "a", Reason: "PipelineRun was gracefully cancelled"},
				{Name: "b", Reason: "PipelineRun was gracefully cancelled"},
			},
			Children: []string{"pr-f"},
		},
	}, {
		name: "StoppedRunFinally lets running tasks finish, with retries, then runs finally",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: a
      retries: 1
      taskSpec:` + stepX + `
    - name: b
      runAfter: [a]
      taskSpec:` + stepX + `
    finally:
    - name: f
      taskSpec:` + stepX + `
`,
		script:  script{"pr-a/step-s#0": {dur: 2 * time.Minute, exit: 1}, "pr-a/step-s#1": {dur: time.Minute}},
		cancels: []timed{at(time.Minute, CancelRequested{Mode: v1.PipelineRunSpecStatusStoppedRunFinally})},
		want: prSummary{
			Status: "False", Reason: "Cancelled", Message: `PipelineRun "pr" was cancelled`,
			Skipped:  []v1.SkippedTask{{Name: "b", Reason: "PipelineRun was gracefully stopped"}},
			Children: []string{"pr-a", "pr-f"},
		},
		wantRuns:    map[string]string{"pr-a": "Succeeded", "pr-f": "Succeeded"},
		wantReasons: []string{"Running", "StoppedRunningFinally", "Cancelled"},
		wantLog: []string{
			"start pr-a#0", "step pr-a#0 step-s", "end pr-a#0",
			"start pr-a#1", "step pr-a#1 step-s", "end pr-a#1",
			"start pr-f#0", "step pr-f#0 step-s", "end pr-f#0", "finish",
		},
	}})
}

func TestPipelineRunWakeAt(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  timeouts: {pipeline: 1h, tasks: 30m}
  pipelineSpec:
    tasks:
    - name: a
      timeout: 10m
      taskSpec:
        steps: [{name: s, image: x, timeout: 1m}]
`, Options{})
	plan := e.Next(t0)
	if diff := cmp.Diff(t0.Add(time.Minute), plan.WakeAt); diff != "" {
		t.Errorf("WakeAt (-want +got):\n%s", diff)
	}
	if len(plan.Actions) != 2 {
		t.Fatalf("actions = %#v", plan.Actions)
	}
}

func TestDueStepTimeoutIsNotReturnedAgain(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps: [{name: s, image: x, timeout: 1m}]
`, Options{})
	plan := e.Next(t0)
	if want := t0.Add(time.Minute); !plan.WakeAt.Equal(want) {
		t.Errorf("WakeAt = %v, want the step's deadline %v", plan.WakeAt, want)
	}
	// The executor has not reported the step yet: the engine must not ask
	// to be woken at once, again and again.
	plan = e.Next(t0.Add(time.Minute))
	if want := t0.Add(time.Hour); !plan.WakeAt.Equal(want) {
		t.Errorf("WakeAt = %v, want the TaskRun's deadline %v", plan.WakeAt, want)
	}
}
