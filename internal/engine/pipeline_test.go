package engine

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

func TestSimplePipelineRun(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: echo
spec:
  params:
  - name: msg
  results:
  - name: said
  steps:
  - name: say
    image: busybox
    script: echo $(params.msg)
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: pr
spec:
  params:
  - name: greeting
    value: hello
  pipelineSpec:
    params:
    - name: greeting
    results:
    - name: final
      value: $(tasks.second.results.said)
    tasks:
    - name: first
      taskRef:
        name: echo
      params:
      - name: msg
        value: $(params.greeting)
    - name: second
      taskRef:
        name: echo
      params:
      - name: msg
        value: $(tasks.first.results.said) again
`, Options{})
	x := run(t, e, script{
		"pr-first/step-say":  {taskResults: map[string]string{"said": "one"}},
		"pr-second/step-say": {taskResults: map[string]string{"said": "two"}},
	})
	wantLog := []string{
		"start pr-first#0", "step pr-first#0 step-say", "end pr-first#0",
		"start pr-second#0", "step pr-second#0 step-say", "end pr-second#0", "finish",
	}
	if diff := cmp.Diff(wantLog, x.log); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if got := x.started[3].(StartStep).Process.Script; got != "echo one again" {
		t.Errorf("second script = %q", got)
	}
	want := prSummary{
		Status: corev1.ConditionTrue, Reason: "Succeeded", Message: "Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 0",
		Children: []string{"pr-first", "pr-second"},
		Results:  []v1.PipelineRunResult{{Name: "final", Value: v1.NewString("two")}},
	}
	if diff := cmp.Diff(want, summarizePipelineRun(e.Status().PipelineRun)); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

// pipelineCase is a PipelineRun, what its steps do, and what its status
// must say at the end.
type pipelineCase struct {
	name     string
	doc      string
	script   script
	cancels  []timed
	opts     Options
	want     prSummary
	wantRuns map[string]string // TaskRun name -> reason
	wantLog  []string          // if set, the actions
	// wantArgs, if set, maps "<taskRun>/<container>" to the args the step
	// was started with.
	wantArgs map[string][]string
	// wantReasons, if set, are the run's condition reasons as they changed.
	wantReasons []string
}

func runPipelineCases(t *testing.T, tests []pipelineCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, tc.doc, tc.opts)
			x := run(t, e, tc.script, tc.cancels...)
			st := e.Status()
			if diff := cmp.Diff(tc.want, summarizePipelineRun(st.PipelineRun), ignoreTimes); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
			if tc.wantRuns != nil {
				if diff := cmp.Diff(tc.wantRuns, taskRunReasons(st)); diff != "" {
					t.Errorf("TaskRun reasons (-want +got):\n%s", diff)
				}
			}
			if tc.wantArgs != nil {
				got := map[string][]string{}
				for _, a := range x.started {
					if s, ok := a.(StartStep); ok {
						got[s.Attempt.TaskRun+"/"+s.Process.Name] = s.Process.Args
					}
				}
				for k, want := range tc.wantArgs {
					if diff := cmp.Diff(want, got[k]); diff != "" {
						t.Errorf("args of %s (-want +got):\n%s", k, diff)
					}
				}
			}
			if tc.wantReasons != nil {
				if diff := cmp.Diff(tc.wantReasons, x.reasons); diff != "" {
					t.Errorf("reasons over time (-want +got):\n%s", diff)
				}
			}
			if tc.wantLog != nil {
				if diff := cmp.Diff(tc.wantLog, x.log); diff != "" {
					t.Errorf("actions (-want +got):\n%s", diff)
				}
			}
		})
	}
}

const stepX = `
        steps: [{name: s, image: x}]`

func TestPipelineSkipping(t *testing.T) {
	runPipelineCases(t, []pipelineCase{{
		name: "a when-skipped task: runAfter children run, result consumers and their descendants are skipped",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: a
      when: [{input: "x", operator: in, values: ["y"]}]
      taskSpec:
        results: [{name: r}]` + stepX + `
    - name: b
      runAfter: [a]
      taskSpec:` + stepX + `
    - name: c
      params: [{name: p, value: $(tasks.a.results.r)}]
      taskSpec:
        params: [{name: p}]` + stepX + `
    - name: d
      runAfter: [c]
      taskSpec:` + stepX + `
`,
		want: prSummary{
			Status: "True", Reason: "Completed", Message: "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 3",
			Skipped: []v1.SkippedTask{
				{Name: "a", Reason: "When Expressions evaluated to false", WhenExpressions: v1.WhenExpressions{{Input: "x", Operator: "in", Values: []string{"y"}}}},
				{Name: "c", Reason: "Results were missing"},
				{Name: "d", Reason: "Parent Tasks were skipped"},
			},
			Children: []string{"pr-b"},
		},
	}, {
		name: "a completed producer without the result: a stopAndFail consumer fails validation, finally runs",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: a
      taskSpec:
        results: [{name: r}]` + stepX + `
    - name: b
      params: [{name: p, value: $(tasks.a.results.r)}]
      taskSpec:
        params: [{name: p}]` + stepX + `
    finally:
    - name: f
      taskSpec:` + stepX + `
`,
		want: prSummary{
			Status: "False", Reason: "PipelineValidationFailed",
			Message:  `Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 0, Failed Validation: 1 (task "a" completed successfully but did not emit the result "r", which is referenced by task "b")`,
			Skipped:  []v1.SkippedTask{{Name: "b", Reason: "PipelineRun was stopping"}},
			Children: []string{"pr-a", "pr-f"},
		},
	}, {
		name: "the same with an onError continue consumer: it is skipped and the run completes",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: a
      taskSpec:
        results: [{name: r}]` + stepX + `
    - name: b
      onError: continue
      params: [{name: p, value: $(tasks.a.results.r)}]
      taskSpec:
        params: [{name: p}]` + stepX + `
`,
		want: prSummary{
			Status: "True", Reason: "Completed", Message: "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 1",
			Skipped:  []v1.SkippedTask{{Name: "b", Reason: "Results were missing"}},
			Children: []string{"pr-a"},
		},
	}, {
		name: "a finally task that uses a missing result is skipped",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: a
      taskSpec:
        results: [{name: r}]` + stepX + `
    finally:
    - name: f
      params: [{name: p, value: $(tasks.a.results.r)}]
      taskSpec:
        params: [{name: p}]` + stepX + `
`,
		want: prSummary{
			Status: "True", Reason: "Completed", Message: "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 1",
			Skipped:  []v1.SkippedTask{{Name: "f", Reason: "Results were missing"}},
			Children: []string{"pr-a"},
		},
	}, {
		name: "a failure with onError continue is ignored; $(tasks.status) still says Failed",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: a
      onError: continue
      taskSpec:` + stepX + `
    - name: b
      runAfter: [a]
      taskSpec:` + stepX + `
    finally:
    - name: f
      params:
      - {name: all, value: $(tasks.status)}
      - {name: one, value: $(tasks.a.status)}
      - {name: why, value: $(tasks.a.reason)}
      taskSpec:
        params: [{name: all}, {name: one}, {name: why}]
        steps: [{name: s, image: x, args: ["$(params.all)", "$(params.one)", "$(params.why)"]}]
`,
		script: script{"pr-a/step-s": {exit: 1}, "pr-f/step-s": {}},
		want: prSummary{
			Status: "True", Reason: "Succeeded", Message: "Tasks Completed: 3 (Failed: 1 (Ignored: 1), Cancelled 0), Skipped: 0",
			Children: []string{"pr-a", "pr-b", "pr-f"},
		},
		wantRuns: map[string]string{"pr-a": "FailureIgnored", "pr-b": "Succeeded", "pr-f": "Succeeded"},
		wantArgs: map[string][]string{"pr-f/step-s": {"Failed", "Failed", "FailureIgnored"}},
	}, {
		name: "a failure while a sibling runs: the sibling finishes, the rest is skipped",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: a
      taskSpec:` + stepX + `
    - name: b
      taskSpec:` + stepX + `
    - name: c
      runAfter: [b]
      taskSpec:` + stepX + `
`,
		script: script{"pr-a/step-s": {exit: 1}, "pr-b/step-s": {dur: time.Minute}},
		want: prSummary{
			Status: "False", Reason: "Failed", Message: "Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 1",
			Skipped:  []v1.SkippedTask{{Name: "c", Reason: "PipelineRun was stopping"}},
			Children: []string{"pr-a", "pr-b"},
		},
		wantRuns:    map[string]string{"pr-a": "StepFailed", "pr-b": "Succeeded"},
		wantReasons: []string{"Running", "PipelineRunStopping", "Failed"},
	}, {
		name: "with finally, a failure keeps the run Running until finally is done",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: a
      taskSpec:` + stepX + `
    - name: b
      taskSpec:` + stepX + `
    finally:
    - name: f
      taskSpec:` + stepX + `
`,
		script: script{"pr-a/step-s": {exit: 1}, "pr-b/step-s": {dur: time.Minute}},
		want: prSummary{
			Status: "False", Reason: "Failed", Message: "Tasks Completed: 3 (Failed: 1, Cancelled 0), Skipped: 0",
			Children: []string{"pr-a", "pr-b", "pr-f"},
		},
		wantReasons: []string{"Running", "Failed"},
	}, {
		name: "when with CEL",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: branch, value: main}]
  pipelineSpec:
    params: [{name: branch}]
    tasks:
    - name: a
      when: [{cel: "'$(params.branch)' == 'main'"}]
      taskSpec:` + stepX + `
    - name: b
      when: [{cel: "'$(params.branch)'.startsWith('release')"}]
      taskSpec:` + stepX + `
`,
		want: prSummary{
			Status: "True", Reason: "Completed", Message: "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 1",
			Skipped:  []v1.SkippedTask{{Name: "b", Reason: "When Expressions evaluated to false", WhenExpressions: v1.WhenExpressions{{CEL: "'main'.startsWith('release')"}}}},
			Children: []string{"pr-a"},
		},
	}, {
		name: "when on a result: whole-array input renders as JSON",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: a
      taskSpec:
        results: [{name: arr, type: array}]` + stepX + `
    - name: b
      when: [{input: "$(tasks.a.results.arr[*])", operator: in, values: ['["x","y"]']}]
      taskSpec:` + stepX + `
    - name: c
      when: [{input: "y", operator: in, values: ["$(tasks.a.results.arr[*])"]}]
      taskSpec:` + stepX + `
`,
		script: script{"pr-a/step-s": {taskResults: map[string]string{"arr": `["x","y"]`}}},
		want: prSummary{
			Status: "True", Reason: "Succeeded", Message: "Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 0",
			Children: []string{"pr-a", "pr-b", "pr-c"},
		},
	}})
}
