package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

const nestedPipelines = `
apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: inner}
spec:
  params: [{name: greeting}]
  workspaces: [{name: src}]
  results: [{name: said, value: $(tasks.show.results.said)}]
  tasks:
  - name: show
    params: [{name: greeting, value: $(params.greeting)}]
    workspaces: [{name: src, workspace: src}]
    taskSpec:
      params: [{name: greeting}]
      workspaces: [{name: src}]
      results: [{name: said}]
      steps: [{name: s, image: x, args: ["$(params.greeting)", "$(workspaces.src.path)", "$(context.pipelineRun.name)"]}]
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: greeting, value: hello}]
  workspaces: [{name: shared, emptyDir: {}}]
  pipelineSpec:
    params: [{name: greeting}]
    workspaces: [{name: shared}]
    tasks:
    - name: child
      pipelineRef: {name: inner}
      params: [{name: greeting, value: $(params.greeting)}]
      workspaces: [{name: src, workspace: shared, subPath: s}]
    - name: after
      params: [{name: got, value: $(tasks.child.results.said)}]
      taskSpec:
        params: [{name: got}]
        steps: [{name: s, image: x, args: ["$(params.got)"]}]
`

func TestPipelinesInPipelines(t *testing.T) {
	e := newEngine(t, nestedPipelines, Options{})
	x := run(t, e, script{"pr-child-show/step-s": {taskResults: map[string]string{"said": "hi"}}})
	steps := startedSteps(x)
	if diff := cmp.Diff([]string{"hello", "/workspace/src", "pr-child"}, steps["pr-child-show/step-s"].Args); diff != "" {
		t.Errorf("inner step args (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"hi"}, steps["pr-after/step-s"].Args); diff != "" {
		t.Errorf("after step args (-want +got):\n%s", diff)
	}
	att := startedAttempts(x)["pr-child-show"]
	if len(att.Workspaces) != 1 || att.Workspaces[0].Binding == nil || att.Workspaces[0].Binding.SubPath != "s" {
		t.Errorf("inner workspaces = %+v", att.Workspaces)
	}
	st := e.Status()
	want := prSummary{
		Status: corev1.ConditionTrue, Reason: "Succeeded", Message: "Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 0",
		Children: []string{"pr-child", "pr-after"},
	}
	if diff := cmp.Diff(want, summarizePipelineRun(st.PipelineRun)); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if got := st.PipelineRun.ChildReferences[0].Kind; got != "PipelineRun" {
		t.Errorf("child kind = %q", got)
	}
	if len(st.PipelineRuns) != 1 {
		t.Fatalf("child pipeline runs = %+v", st.PipelineRuns)
	}
	child := st.PipelineRuns[0]
	wantChild := prSummary{
		Status: corev1.ConditionTrue, Reason: "Succeeded", Message: "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0",
		Children: []string{"pr-child-show"},
		Results:  []v1.PipelineRunResult{{Name: "said", Value: v1.NewString("hi")}},
	}
	if child.Name != "pr-child" || child.PipelineTask != "child" || child.Parent != "pr" {
		t.Errorf("child = %s %s %s", child.Name, child.PipelineTask, child.Parent)
	}
	if diff := cmp.Diff(wantChild, summarizePipelineRun(&child.Status)); diff != "" {
		t.Errorf("child status (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"pr-child-show": "Succeeded", "pr-after": "Succeeded"}, taskRunReasons(st)); diff != "" {
		t.Errorf("TaskRuns (-want +got):\n%s", diff)
	}
}

func TestPipelinesInPipelinesFailure(t *testing.T) {
	runPipelineCases(t, []pipelineCase{{
		name:   "a failing child pipeline fails its task",
		doc:    nestedPipelines,
		script: script{"pr-child-show/step-s": {exit: 1}},
		want: prSummary{
			Status: "False", Reason: "Failed", Message: "Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 1",
			Skipped:  []v1.SkippedTask{{Name: "after", Reason: "PipelineRun was stopping"}},
			Children: []string{"pr-child"},
		},
		wantRuns: map[string]string{"pr-child-show": "StepFailed"},
	}, {
		name: "an embedded pipelineSpec sees the parent's bindings",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  workspaces: [{name: w, emptyDir: {}}]
  pipelineSpec:
    workspaces: [{name: w}]
    tasks:
    - name: child
      workspaces: [{name: w}]
      pipelineSpec:
        tasks:
        - name: t
          taskSpec:
            steps: [{name: s, image: x, args: ["$(workspaces.w.path)"]}]
`,
		want: prSummary{
			Status: "True", Reason: "Succeeded", Message: "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0",
			Children: []string{"pr-child"},
		},
		wantArgs: map[string][]string{"pr-child-t/step-s": {"/workspace/w"}},
	}, {
		name: "a child pipeline that cannot start fails its task",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: child
      pipelineSpec:
        params: [{name: needed}]
        tasks:
        - name: t
          taskSpec:` + stepX + `
`,
		want: prSummary{
			Status: "False", Reason: "Failed", Message: "Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0",
			Children: []string{"pr-child"},
		},
	}})
}

func TestPipelinesInPipelinesCancel(t *testing.T) {
	e := newEngine(t, nestedPipelines, Options{})
	x := run(t, e, script{"pr-child-show/step-s": {dur: 3600e9}}, at(60e9, CancelRequested{Mode: v1.PipelineRunSpecStatusCancelled}))
	st := e.Status()
	if c := st.PipelineRun.GetCondition(); c.Reason != "Cancelled" {
		t.Errorf("condition = %+v", c)
	}
	if diff := cmp.Diff(map[string]string{"pr-child-show": "TaskRunCancelled"}, taskRunReasons(st)); diff != "" {
		t.Errorf("TaskRuns (-want +got):\n%s; log %v", diff, x.log)
	}
}
