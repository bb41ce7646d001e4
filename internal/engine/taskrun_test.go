package engine

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

func TestSimpleTaskRun(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: hello
spec:
  params:
  - name: who
    value: world
  taskSpec:
    params:
    - name: who
    results:
    - name: out
    steps:
    - name: greet
      image: busybox
      script: echo hello $(params.who) > $(results.out.path)
    - image: busybox
      args: ["$(context.taskRun.name)", "$(context.task.retry-count)"]
`, Options{})
	x := run(t, e, script{
		"hello/step-greet": {taskResults: map[string]string{"out": "hi"}},
	})
	wantLog := []string{"start hello#0", "step hello#0 step-greet", "step hello#0 step-unnamed-1", "end hello#0", "finish"}
	if diff := cmp.Diff(wantLog, x.log); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	p := x.started[1].(StartStep).Process
	if p.Script != "echo hello world > /tekton/results/out" {
		t.Errorf("script = %q", p.Script)
	}
	if got, want := x.started[2].(StartStep).Process.Args, []string{"hello", "0"}; !cmp.Equal(got, want) {
		t.Errorf("args = %q, want %q", got, want)
	}
	st := e.Status().TaskRun
	want := &v1.TaskRunStatus{
		Status: v1.Status{Conditions: []v1.Condition{{Type: "Succeeded", Status: corev1.ConditionTrue, Reason: "Succeeded", Message: "All Steps have completed executing"}}},
		TaskRunStatusFields: v1.TaskRunStatusFields{
			StartTime:      mt(0),
			CompletionTime: mt(2 * time.Second),
			Steps: []v1.StepState{
				{Name: "greet", Container: "step-greet", TerminationReason: "Completed", ContainerState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: *mt(0), FinishedAt: *mt(time.Second)}}},
				{Name: "unnamed-1", Container: "step-unnamed-1", TerminationReason: "Completed", ContainerState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: *mt(time.Second), FinishedAt: *mt(2 * time.Second)}}},
			},
			Results: []v1.TaskRunResult{{Name: "out", Type: "string", Value: v1.NewString("hi")}},
		},
	}
	st.TaskSpec = nil
	for i := range st.Conditions {
		st.Conditions[i].LastTransitionTime = metav1.Time{}
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}
