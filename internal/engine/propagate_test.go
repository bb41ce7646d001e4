package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// An embedded taskSpec may use another task's results directly in its
// steps: upstream propagates them without a param (and orders the tasks).
func TestResultsPropagateIntoEmbeddedSpecs(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
      - name: a
        taskSpec:
          results: [{name: s}, {name: arr, type: array}, {name: obj, properties: {k: {}}}]
          steps: [{name: s, image: alpine, script: "true"}]
      - name: b
        taskSpec:
          steps:
            - name: use
              image: alpine
              args: ["$(tasks.a.results.arr[*])"]
              script: echo "$(tasks.a.results.s) $(tasks.a.results.obj.k) $(tasks.a.results.arr[1])"
`, Options{})
	x := run(t, e, script{"pr-a/step-s": {taskResults: map[string]string{"s": "str", "arr": `["x","y"]`, "obj": `{"k":"v"}`}}})
	var got StartStep
	for _, a := range x.started {
		if st, ok := a.(StartStep); ok && st.Attempt.TaskRun == "pr-b" {
			got = st
		}
	}
	if diff := cmp.Diff(`echo "str v y"`, got.Process.Script); diff != "" {
		t.Errorf("script (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"x", "y"}, got.Process.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"start pr-a#0", "step pr-a#0 step-s", "end pr-a#0", "start pr-b#0", "step pr-b#0 step-use", "end pr-b#0", "finish"}, x.log); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}
