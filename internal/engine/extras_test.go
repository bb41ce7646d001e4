package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

func TestStepArtifacts(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps:
    - name: producer
      image: x
      script: cat > $(step.artifacts.path)
    - name: consumer
      image: x
      script: echo '$(steps.producer.outputs.image)'
`, Options{})
	x := &sim{}
	plan := e.Next(t0)
	start := plan.Actions[0].(StartAttempt)
	first := plan.Actions[1].(StartStep)
	if first.Process.Script != "cat > /tekton/steps/step-producer/artifacts/provenance.json" {
		t.Errorf("producer script = %q", first.Process.Script)
	}
	e.Observe(StepFinished{Attempt: start.ID, Step: 0, At: t0, StartedAt: t0,
		Artifacts: []byte(`{"outputs":[{"name":"image","values":[{"uri":"pkg:x","digest":{"sha256":"abc"}}]}]}`)})
	plan = e.Next(t0)
	second := plan.Actions[0].(StartStep)
	if want := `echo '[{"digest":{"sha256":"abc"},"uri":"pkg:x"}]'`; second.Process.Script != want {
		t.Errorf("consumer script = %q, want %q", second.Process.Script, want)
	}
	_ = x
	e.Observe(StepFinished{Attempt: start.ID, Step: 1, At: t0, StartedAt: t0})
	e.Next(t0)
	st := e.Status().TaskRun
	want := &v1.Artifacts{Outputs: []v1.Artifact{{Name: "image", Values: []v1.ArtifactValue{{URI: "pkg:x", Digest: map[string]string{"sha256": "abc"}}}}}}
	if diff := cmp.Diff(want, st.Artifacts); diff != "" {
		t.Errorf("artifacts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.Outputs, st.Steps[0].Outputs); diff != "" {
		t.Errorf("step outputs (-want +got):\n%s", diff)
	}
}

func TestTaskRunSpecsAndMetadata(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr, uid: u1, labels: {team: a}, annotations: {note: pr}}
spec:
  taskRunTemplate:
    serviceAccountName: default-sa
    podTemplate: {nodeSelector: {disk: ssd}, schedulerName: s1}
  taskRunSpecs:
  - pipelineTaskName: t
    serviceAccountName: special
    podTemplate: {schedulerName: s2, env: [{name: E, value: v}]}
    metadata: {labels: {team: b}, annotations: {extra: "1"}}
    computeResources: {limits: {memory: 2Gi}}
  pipelineSpec:
    tasks:
    - name: t
      onError: continue
      taskSpec:
        metadata: {labels: {from: spec, team: c}}
        steps: [{name: s, image: x}]
    - name: plain
      taskSpec:
        steps: [{name: s, image: x}]
`, Options{})
	x := run(t, e, script{})
	atts := startedAttempts(x)
	a := atts["pr-t"]
	if a.ServiceAccount != "special" {
		t.Errorf("service account = %q", a.ServiceAccount)
	}
	wantPT := &v1.PodTemplate{NodeSelector: map[string]string{"disk": "ssd"}, SchedulerName: "s2", Env: []corev1.EnvVar{{Name: "E", Value: "v"}}}
	if diff := cmp.Diff(wantPT, a.PodTemplate); diff != "" {
		t.Errorf("pod template (-want +got):\n%s", diff)
	}
	wantLabels := map[string]string{
		"team": "b", "from": "spec",
		"tekton.dev/pipeline": "pr", "tekton.dev/pipelineRun": "pr", "tekton.dev/pipelineRunUID": "u1",
		"tekton.dev/pipelineTask": "t", "tekton.dev/memberOf": "tasks",
	}
	if diff := cmp.Diff(wantLabels, a.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	wantAnn := map[string]string{"note": "pr", "extra": "1", "pipeline.tekton.dev/pipeline-task-on-error": "continue"}
	if diff := cmp.Diff(wantAnn, a.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	lim := startedSteps(x)["pr-t/step-s"].Resources.Limits
	if got := lim.Memory().String(); got != "2Gi" {
		t.Errorf("memory limit = %s", got)
	}
	if p := atts["pr-plain"]; p.ServiceAccount != "default-sa" || p.PodTemplate.SchedulerName != "s1" {
		t.Errorf("plain attempt = %+v", p)
	}
}

func TestRunTimeErrors(t *testing.T) {
	runPipelineCases(t, []pipelineCase{{
		name: "CEL on a result that is not a boolean fails the run",
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
      when: [{cel: "'$(tasks.a.results.r)'"}]
      taskSpec:` + stepX + `
`,
		script: script{"pr-a/step-s": {taskResults: map[string]string{"r": "x"}}},
		want: prSummary{
			Status: "False", Reason: "CELEvaluationFailed",
			Message:  "Error evaluating CEL '$(tasks.a.results.r)' for pipelineRun pr: The CEL expression 'x' is not evaluated to a boolean",
			Children: []string{"pr-a"},
		},
	}, {
		name: "a matrix param that is not an array after results fails the run",
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
      matrix:
        params: [{name: p, value: $(tasks.a.results.r)}]
      taskSpec:
        params: [{name: p}]` + stepX + `
`,
		script: script{"pr-a/step-s": {taskResults: map[string]string{"r": "x"}}},
		want: prSummary{
			Status: "False", Reason: "InvalidMatrixParameterTypes",
			Message:  `PipelineRun /pr: matrix params of pipeline task "b" must be arrays: p`,
			Children: []string{"pr-a"},
		},
	}})
}

func TestInvalidRunErrorText(t *testing.T) {
	err := &InvalidRunError{Reason: ReasonParameterMissing, Errs: []error{errors.New("one"), errors.New("two")}}
	if got := err.Error(); got != "ParameterMissing: one; two" {
		t.Errorf("Error() = %q", got)
	}
	if got := err.Message(); got != "one; two" {
		t.Errorf("Message() = %q", got)
	}
	if !errors.Is(err, err.Errs[1]) {
		t.Errorf("errors.Is does not find a wrapped problem")
	}
}

func TestStaleEventsAreIgnored(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  retries: 1
  taskSpec:
    steps: [{name: a, image: x}]
`, Options{})
	plan := e.Next(t0)
	id := plan.Actions[0].(StartAttempt).ID
	e.Observe(&StepFinished{Attempt: id, Step: 0, ExitCode: 1, At: t0, StartedAt: t0})
	plan = e.Next(t0)
	var names []string
	for _, a := range plan.Actions {
		names = append(names, strings.TrimPrefix(strings.SplitN(strings.TrimPrefix(typeName(a), "engine."), "{", 2)[0], "*"))
	}
	if diff := cmp.Diff([]string{"EndAttempt", "StartAttempt", "StartStep"}, names); diff != "" {
		t.Fatalf("actions (-want +got):\n%s", diff)
	}
	// The first attempt's events no longer count.
	e.Observe(StepFinished{Attempt: id, Step: 0, ExitCode: 0, At: t0, StartedAt: t0})
	e.Observe(&SidecarsReady{Attempt: id, At: t0})
	e.Observe(StepFinished{Attempt: AttemptID{TaskRun: "tr", Retry: 1}, Step: 5, At: t0})
	if p := e.Next(t0); len(p.Actions) != 0 || p.Done {
		t.Errorf("stale events moved the run: %+v", p)
	}
}

func typeName(a Action) string {
	switch a.(type) {
	case StartAttempt:
		return "StartAttempt"
	case StartStep:
		return "StartStep"
	case StopAttempt:
		return "StopAttempt"
	case EndAttempt:
		return "EndAttempt"
	case Finish:
		return "Finish"
	}
	return "?"
}

// A task's artifacts reach later tasks as $(tasks.<t>.inputs|outputs.<name>):
// in params, and in an embedded taskSpec as results are.
func TestTaskArtifactsInLaterTasks(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: produce
      taskSpec:
        steps:
        - {name: p, image: x, script: cat > $(artifacts.path)}
    - name: consume
      runAfter: [produce]
      params:
      - {name: src, value: $(tasks.produce.inputs.source)}
      taskSpec:
        params: [{name: src}]
        steps:
        - {name: c, image: x, script: "echo '$(tasks.produce.outputs.image)' '$(params.src)'"}
`, Options{})
	plan := e.Next(t0)
	start := plan.Actions[0].(StartAttempt)
	e.Observe(StepFinished{Attempt: start.ID, Step: 0, At: t0, StartedAt: t0,
		Artifacts: []byte(`{"inputs":[{"name":"source","values":[{"uri":"pkg:src"}]}],"outputs":[{"name":"image","values":[{"uri":"pkg:x","digest":{"sha256":"abc"}}]}]}`)})
	var got string
	for range 3 {
		for _, a := range e.Next(t0).Actions {
			if st, ok := a.(StartStep); ok && st.Attempt.TaskRun != start.ID.TaskRun {
				got = st.Process.Script
			}
		}
		if got != "" {
			break
		}
	}
	want := `echo '[{"digest":{"sha256":"abc"},"uri":"pkg:x"}]' '[{"uri":"pkg:src"}]'`
	if got != want {
		t.Errorf("consumer script = %q, want %q", got, want)
	}
}
