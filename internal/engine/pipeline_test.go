package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
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
	st := e.Status().PipelineRun
	c := st.GetCondition()
	if c.Status != corev1.ConditionTrue || c.Reason != "Succeeded" || c.Message != "Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 0" {
		t.Errorf("condition = %+v", c)
	}
	if len(st.Results) != 1 || st.Results[0].Value.StringVal != "two" {
		t.Errorf("results = %+v", st.Results)
	}
	if len(st.ChildReferences) != 2 || st.ChildReferences[1].Name != "pr-second" {
		t.Errorf("childReferences = %+v", st.ChildReferences)
	}
}
