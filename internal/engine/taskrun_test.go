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
	if st.TaskSpec == nil || st.TaskSpec.Steps[0].Script != "echo hello world > /tekton/results/out" {
		t.Errorf("status.taskSpec is not the substituted spec: %+v", st.TaskSpec)
	}
	st.TaskSpec = nil
	for i := range st.Conditions {
		st.Conditions[i].LastTransitionTime = metav1.Time{}
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

func TestTaskRunOutcomes(t *testing.T) {
	ok := func(name string) stepSummary {
		return stepSummary{Name: name, Reason: "Completed", Termination: "Completed"}
	}
	tests := []struct {
		name    string
		doc     string
		script  script
		cancels []timed
		want    trSummary
	}{{
		name: "a failed step skips the later ones, which exit 1",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps:
    - {name: a, image: x}
    - {name: b, image: x}
    - {name: c, image: x}
`,
		script: script{"tr/step-b": {exit: 2}},
		want: trSummary{
			Status: "False", Reason: "StepFailed", Message: `"step-b" exited with code 2`,
			Steps: []stepSummary{ok("a"), {Name: "b", ExitCode: 2, Reason: "Error", Termination: "Error"}, {Name: "c", ExitCode: 1, Reason: "Error", Termination: "Skipped"}},
		},
	}, {
		name: "onError continue records the real exit code and the task succeeds",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps:
    - {name: a, image: x, onError: continue}
    - {name: b, image: x}
`,
		script: script{"tr/step-a": {exit: 3}},
		want: trSummary{
			Status: "True", Reason: "Succeeded", Message: "All Steps have completed executing",
			Steps: []stepSummary{{Name: "a", ExitCode: 3, Reason: "Completed", Termination: "Continued"}, ok("b")},
		},
	}, {
		name: "a step past its timeout fails the task even with onError continue",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps:
    - {name: a, image: x, onError: continue, timeout: 1s}
    - {name: b, image: x}
`,
		script: script{"tr/step-a": {dur: 5 * time.Second}},
		want: trSummary{
			Status: "False", Reason: "StepFailed", Message: `"step-a" exited because the step exceeded the specified timeout limit`,
			Steps: []stepSummary{{Name: "a", ExitCode: 1, Reason: "Error", Termination: "TimeoutExceeded"}, {Name: "b", ExitCode: 1, Reason: "Error", Termination: "Skipped"}},
		},
	}, {
		name: "a step whose when is false is skipped with exit 0 and the task succeeds",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  params: [{name: go, value: "no"}]
  taskSpec:
    params: [{name: go}]
    steps:
    - name: a
      image: x
      when: [{input: $(params.go), operator: in, values: ["yes"]}]
    - {name: b, image: x}
`,
		want: trSummary{
			Status: "True", Reason: "Succeeded", Message: "All Steps have completed executing",
			Steps: []stepSummary{{Name: "a", ExitCode: 0, Reason: "Completed", Termination: "Skipped"}, ok("b")},
		},
	}, {
		name: "a step when uses results of an earlier step",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps:
    - name: a
      image: x
      results: [{name: go}]
    - name: b
      image: x
      when: [{input: $(steps.a.results.go), operator: notin, values: ["no"]}]
    - name: c
      image: x
      when: [{cel: "'$(steps.a.results.go)' == 'no'"}]
`,
		script: script{"tr/step-a": {results: map[string]string{"go": "no"}}},
		want: trSummary{
			Status: "True", Reason: "Succeeded", Message: "All Steps have completed executing",
			Steps: []stepSummary{ok("a"), {Name: "b", Reason: "Completed", Termination: "Skipped"}, ok("c")},
		},
	}, {
		name: "retries archive failed attempts and the last one counts",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  retries: 2
  taskSpec:
    steps:
    - {name: a, image: x}
`,
		script: script{"tr/step-a#0": {exit: 1}, "tr/step-a#1": {exit: 1}},
		want: trSummary{
			Status: "True", Reason: "Succeeded", Message: "All Steps have completed executing",
			Steps:   []stepSummary{ok("a")},
			Retries: []string{"StepFailed", "StepFailed"},
		},
	}, {
		name: "retries run out",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  retries: 1
  taskSpec:
    steps:
    - {name: a, image: x}
`,
		script: script{"tr/step-a": {exit: 1}},
		want: trSummary{
			Status: "False", Reason: "StepFailed", Message: `"step-a" exited with code 1`,
			Steps:   []stepSummary{{Name: "a", ExitCode: 1, Reason: "Error", Termination: "Error"}},
			Retries: []string{"StepFailed"},
		},
	}, {
		name: "the TaskRun timeout stops the attempt; a timeout is retried",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  timeout: 10s
  retries: 1
  taskSpec:
    steps:
    - {name: a, image: x}
    - {name: b, image: x}
`,
		script: script{"tr/step-a": {dur: time.Minute}},
		want: trSummary{
			Status: "False", Reason: "TaskRunTimeout", Message: `TaskRun "tr" failed to finish within "10s"`,
			Steps:   []stepSummary{{Name: "a", ExitCode: 1, Reason: "TaskRunTimeout", Termination: "TaskRunTimeout"}, {Name: "b", ExitCode: 1, Reason: "TaskRunTimeout", Termination: "TaskRunTimeout"}},
			Retries: []string{"TaskRunTimeout"},
		},
	}, {
		name: "a cancelled TaskRun is not retried",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  retries: 3
  taskSpec:
    steps:
    - {name: a, image: x}
`,
		script:  script{"tr/step-a": {dur: time.Minute}},
		cancels: []timed{at(5*time.Second, CancelRequested{Mode: v1.PipelineRunSpecStatusCancelled})},
		want: trSummary{
			Status: "False", Reason: "TaskRunCancelled", Message: `TaskRun "tr" was cancelled. `,
			Steps: []stepSummary{{Name: "a", ExitCode: 1, Reason: "TaskRunCancelled", Termination: "TaskRunCancelled"}},
		},
	}, {
		name: "an OOM-killed step fails with StepOOM",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps:
    - {name: a, image: x}
`,
		script: script{"tr/step-a": {reason: "OOMKilled", exit: 137}},
		want: trSummary{
			Status: "False", Reason: "StepOOM", Message: `"step-a" exited because the step exceeded the specified memory limit`,
			Steps: []stepSummary{{Name: "a", ExitCode: 137, Reason: "OOMKilled", Termination: "OOMKilled"}},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, "apiVersion: tekton.dev/v1\n"+tc.doc, Options{})
			run(t, e, tc.script, tc.cancels...)
			got := summarizeTaskRun(e.Status().TaskRun)
			if diff := cmp.Diff(tc.want, got, ignoreTimes); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSidecarsAndTemplates(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr, labels: {app: demo}}
spec:
  serviceAccountName: builder
  stepSpecs: [{name: b, computeResources: {limits: {memory: 1Gi}}}]
  taskSpec:
    stepTemplate:
      image: template-image
      env: [{name: A, value: template}, {name: B, value: template}]
      volumeMounts: [{name: v, mountPath: /m}]
      computeResources: {requests: {cpu: "1"}}
      securityContext: {runAsUser: 1000}
    sidecars:
    - name: db
      image: db-image
      args: ["$(context.taskRun.name)"]
    steps:
    - name: a
      env: [{name: B, value: step}, {name: C, value: step}]
      securityContext: {runAsNonRoot: true}
      stdoutConfig: {path: /out}
      stderrConfig: {path: /err}
    - name: b
      image: own-image
`, Options{})
	x := run(t, e, script{})
	wantLog := []string{"start tr#0", "step tr#0 step-a", "step tr#0 step-b", "end tr#0", "finish"}
	if diff := cmp.Diff(wantLog, x.log); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	sa := x.started[0].(StartAttempt)
	if sa.ServiceAccount != "builder" || sa.Labels["app"] != "demo" || sa.Timeout != time.Hour {
		t.Errorf("attempt = %+v", sa)
	}
	if len(sa.Sidecars) != 1 || sa.Sidecars[0].Name != "sidecar-db" || sa.Sidecars[0].Args[0] != "tr" {
		t.Errorf("sidecars = %+v", sa.Sidecars)
	}
	steps := startedSteps(x)
	a := steps["tr/step-a"]
	if a.Image != "template-image" || a.StdoutPath != "/out" || a.StderrPath != "/err" {
		t.Errorf("step a = %+v", a)
	}
	wantEnv := []corev1.EnvVar{{Name: "A", Value: "template"}, {Name: "B", Value: "step"}, {Name: "C", Value: "step"}}
	if diff := cmp.Diff(wantEnv, a.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if a.SecurityContext == nil || a.SecurityContext.RunAsUser == nil || *a.SecurityContext.RunAsUser != 1000 || a.SecurityContext.RunAsNonRoot == nil {
		t.Errorf("securityContext = %+v", a.SecurityContext)
	}
	if len(a.VolumeMounts) != 1 || a.Resources.Requests.Cpu().String() != "1" {
		t.Errorf("mounts %v resources %v", a.VolumeMounts, a.Resources)
	}
	b := steps["tr/step-b"]
	if b.Image != "own-image" || b.Resources.Limits.Memory().String() != "1Gi" {
		t.Errorf("step b = %+v", b)
	}
	st := e.Status().TaskRun
	if len(st.Sidecars) != 1 || st.Sidecars[0].Name != "db" || st.Sidecars[0].Terminated == nil {
		t.Errorf("sidecar status = %+v", st.Sidecars)
	}
}

func TestAttemptFailed(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    sidecars: [{name: db, image: db}]
    steps: [{name: a, image: x}]
`, Options{})
	plan := e.Next(t0)
	if len(plan.Actions) != 1 {
		t.Fatalf("actions = %#v", plan.Actions)
	}
	id := plan.Actions[0].(StartAttempt).ID
	e.Observe(&AttemptFailed{Attempt: id, Reason: "SidecarFailed", Message: "sidecar db exited", At: t0.Add(time.Second)})
	plan = e.Next(t0.Add(time.Second))
	if diff := cmp.Diff([]Action{EndAttempt{Attempt: id}, Finish{}}, plan.Actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	got := summarizeTaskRun(e.Status().TaskRun)
	want := trSummary{
		Status: "False", Reason: "SidecarFailed", Message: "sidecar db exited",
		Steps: []stepSummary{{Name: "a", ExitCode: 1, Reason: "SidecarFailed", Termination: "SidecarFailed"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if p := e.Next(t0.Add(time.Hour)); !p.Done || len(p.Actions) != 0 {
		t.Errorf("after the end Next = %+v, want Done and nothing to do", p)
	}
}
