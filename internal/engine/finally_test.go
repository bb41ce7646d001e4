package engine

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

func TestFinally(t *testing.T) {
	const statusTask = `
    finally:
    - name: report
      params:
      - {name: all, value: $(tasks.status)}
      - {name: a, value: $(tasks.a.status)}
      - {name: b, value: $(tasks.b.status)}
      - {name: breason, value: $(tasks.b.reason)}
      taskSpec:
        params: [{name: all}, {name: a}, {name: b}, {name: breason}]
        steps: [{name: s, image: x, args: ["$(params.all)", "$(params.a)", "$(params.b)", "$(params.breason)"]}]
    - name: only-on-failure
      when: [{input: $(tasks.status), operator: in, values: [Failed]}]
      taskSpec:` + stepX + `
`
	runPipelineCases(t, []pipelineCase{{
		name: "all succeeded",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - {name: a, taskSpec: {steps: [{name: s, image: x}]}}
    - {name: b, taskSpec: {steps: [{name: s, image: x}]}}` + statusTask,
		want: prSummary{
			Status: "True", Reason: "Completed", Message: "Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 1",
			Skipped:  []v1.SkippedTask{{Name: "only-on-failure", Reason: "When Expressions evaluated to false", WhenExpressions: v1.WhenExpressions{{Input: "Succeeded", Operator: "in", Values: []string{"Failed"}}}}},
			Children: []string{"pr-a", "pr-b", "pr-report"},
		},
		wantArgs: map[string][]string{"pr-report/step-s": {"Succeeded", "Succeeded", "Succeeded", "Succeeded"}},
	}, {
		name: "one skipped",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - {name: a, taskSpec: {steps: [{name: s, image: x}]}}
    - {name: b, when: [{input: "1", operator: notin, values: ["1"]}], taskSpec: {steps: [{name: s, image: x}]}}` + statusTask,
		want: prSummary{
			Status: "True", Reason: "Completed", Message: "Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 2",
			Skipped: []v1.SkippedTask{
				{Name: "b", Reason: "When Expressions evaluated to false", WhenExpressions: v1.WhenExpressions{{Input: "1", Operator: "notin", Values: []string{"1"}}}},
				{Name: "only-on-failure", Reason: "When Expressions evaluated to false", WhenExpressions: v1.WhenExpressions{{Input: "Completed", Operator: "in", Values: []string{"Failed"}}}},
			},
			Children: []string{"pr-a", "pr-report"},
		},
		wantArgs: map[string][]string{"pr-report/step-s": {"Completed", "Succeeded", "None", ""}},
	}, {
		name: "one failed",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - {name: a, taskSpec: {steps: [{name: s, image: x}]}}
    - {name: b, taskSpec: {steps: [{name: s, image: x}]}}` + statusTask,
		script: script{"pr-b/step-s": {exit: 1}},
		want: prSummary{
			Status: "False", Reason: "Failed", Message: "Tasks Completed: 4 (Failed: 1, Cancelled 0), Skipped: 0",
			Children: []string{"pr-a", "pr-b", "pr-report", "pr-only-on-failure"},
		},
		wantArgs:    map[string][]string{"pr-report/step-s": {"Failed", "Succeeded", "Failed", "StepFailed"}},
		wantReasons: []string{"Running", "Failed"},
	}, {
		name: "a failing finally task fails the run",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - {name: a, taskSpec: {steps: [{name: s, image: x}]}}
    finally:
    - {name: f, taskSpec: {steps: [{name: s, image: x}]}}
`,
		script: script{"pr-f/step-s": {exit: 1}},
		want: prSummary{
			Status: "False", Reason: "Failed", Message: "Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 0",
			Children: []string{"pr-a", "pr-f"},
		},
	}})
}

func TestFinallyStartTime(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - {name: a, taskSpec: {steps: [{name: s, image: x}]}}
    finally:
    - {name: f, taskSpec: {steps: [{name: s, image: x}]}}
`, Options{})
	run(t, e, script{"pr-a/step-s": {dur: 5 * time.Second}})
	st := e.Status().PipelineRun
	want := mt(5 * time.Second)
	if diff := cmp.Diff(want, st.FinallyStartTime); diff != "" {
		t.Errorf("finallyStartTime (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(mt(0), st.StartTime); diff != "" {
		t.Errorf("startTime (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(mt(6*time.Second), st.CompletionTime); diff != "" {
		t.Errorf("completionTime (-want +got):\n%s", diff)
	}
	if st.PipelineSpec == nil || len(st.PipelineSpec.Finally) != 1 {
		t.Errorf("pipelineSpec = %+v", st.PipelineSpec)
	}
}
