package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

func TestFanOut(t *testing.T) {
	arr := func(name string, vals ...string) v1.Param { return v1.Param{Name: name, Value: v1.NewArray(vals...)} }
	str := func(name, val string) v1.Param { return v1.Param{Name: name, Value: v1.NewString(val)} }
	tests := []struct {
		name string
		m    v1.Matrix
		want []string
	}{{
		name: "the first param varies fastest",
		m:    v1.Matrix{Params: v1.Params{arr("platform", "linux", "mac"), arr("browser", "safari", "chrome")}},
		want: []string{"browser=safari platform=linux", "browser=safari platform=mac", "browser=chrome platform=linux", "browser=chrome platform=mac"},
	}, {
		name: "include adds a key to the combinations it agrees with, and appends what matches nothing",
		m: v1.Matrix{
			Params: v1.Params{arr("platform", "linux", "mac"), arr("browser", "safari", "chrome")},
			Include: []v1.IncludeParams{
				{Name: "linux-url", Params: v1.Params{str("platform", "linux"), str("url", "u")}},
				{Name: "edge", Params: v1.Params{str("browser", "edge")}},
			},
		},
		want: []string{
			"browser=safari platform=linux url=u", "browser=safari platform=mac",
			"browser=chrome platform=linux url=u", "browser=chrome platform=mac",
			"browser=edge",
		},
	}, {
		name: "an include with only new keys goes into every combination",
		m: v1.Matrix{
			Params:  v1.Params{arr("a", "1", "2")},
			Include: []v1.IncludeParams{{Params: v1.Params{str("b", "x")}}},
		},
		want: []string{"a=1 b=x", "a=2 b=x"},
	}, {
		name: "include only: one run per entry",
		m: v1.Matrix{Include: []v1.IncludeParams{
			{Name: "one", Params: v1.Params{str("IMAGE", "i1")}},
			{Name: "two", Params: v1.Params{str("IMAGE", "i2"), str("DIGEST", "d")}},
		}},
		want: []string{"IMAGE=i1", "DIGEST=d IMAGE=i2"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range fanOut(&tc.m) {
				var parts []string
				for _, p := range c.params() {
					parts = append(parts, p.Name+"="+p.Value.StringVal)
				}
				got = append(got, strings.Join(parts, " "))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("combinations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatrixPipelines(t *testing.T) {
	twelve := make([]string, 12)
	for i := range twelve {
		twelve[i] = fmt.Sprintf("v%d", i)
	}
	results := script{}
	for i := range twelve {
		results[fmt.Sprintf("pr-m-%d/step-s", i)] = step{taskResults: map[string]string{"r": fmt.Sprintf("r%d", i)}}
	}
	runPipelineCases(t, []pipelineCase{{
		name: "results of 12 runs are ordered by TaskRun name as strings",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    results:
    - {name: all, type: array, value: "$(tasks.m.results.r[*])"}
    tasks:
    - name: m
      matrix:
        params: [{name: p, value: [` + strings.Join(twelve, ", ") + `]}]
      taskSpec:
        params: [{name: p}]
        results: [{name: r}]` + stepX + `
    - name: after
      runAfter: [m]
      params:
      - {name: count, value: $(tasks.m.matrix.length)}
      - {name: rcount, value: $(tasks.m.matrix.r.length)}
      - {name: all, value: "$(tasks.m.results.r[*])"}
      taskSpec:
        params: [{name: count}, {name: rcount}, {name: all, type: array}]
        steps: [{name: s, image: x, args: ["$(params.count)", "$(params.rcount)", "$(params.all[*])"]}]
`,
		script: results,
		want: prSummary{
			Status: "True", Reason: "Succeeded", Message: "Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 0",
			Children: []string{"pr-m-0", "pr-m-1", "pr-m-2", "pr-m-3", "pr-m-4", "pr-m-5", "pr-m-6", "pr-m-7", "pr-m-8", "pr-m-9", "pr-m-10", "pr-m-11", "pr-after"},
			Results: []v1.PipelineRunResult{{Name: "all", Value: v1.NewArray(
				"r0", "r1", "r10", "r11", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9")}},
		},
		wantArgs: map[string][]string{"pr-after/step-s": {"12", "12", "r0", "r1", "r10", "r11", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"}},
	}, {
		name: "an empty matrix array skips the task",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: list, value: []}]
  pipelineSpec:
    params: [{name: list, type: array}]
    tasks:
    - name: m
      matrix:
        params: [{name: p, value: "$(params.list[*])"}]
      taskSpec:
        params: [{name: p}]` + stepX + `
`,
		want: prSummary{
			Status: "True", Reason: "Completed", Message: "Tasks Completed: 0 (Failed: 0, Cancelled 0), Skipped: 1",
			Skipped: []v1.SkippedTask{{Name: "m", Reason: "Matrix Parameters have an empty array"}},
		},
	}, {
		name: "one failed run fails the task once all are done; display names come from include",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: m
      matrix:
        params: [{name: os, value: [linux, mac]}]
        include: [{name: "on mac", params: [{name: os, value: mac}]}]
      taskSpec:
        params: [{name: os}]
        steps: [{name: s, image: x, args: ["$(params.os)"]}]
`,
		script: script{"pr-m-1/step-s": {exit: 1}},
		want: prSummary{
			Status: "False", Reason: "Failed", Message: "Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0",
			Children: []string{"pr-m-0", "pr-m-1"},
		},
		wantRuns: map[string]string{"pr-m-0": "Succeeded", "pr-m-1": "StepFailed"},
		wantArgs: map[string][]string{"pr-m-0/step-s": {"linux"}, "pr-m-1/step-s": {"mac"}},
	}})
}

func TestMatrixDisplayNames(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: m
      displayName: build
      matrix:
        params: [{name: os, value: [linux, mac]}]
        include: [{name: "on mac", params: [{name: os, value: mac}]}]
      taskSpec:
        params: [{name: os}]`+stepX+`
`, Options{})
	run(t, e, script{})
	var got []string
	for _, c := range e.Status().PipelineRun.ChildReferences {
		got = append(got, c.Name+": "+c.DisplayName)
	}
	if diff := cmp.Diff([]string{"pr-m-0: build", "pr-m-1: on mac"}, got); diff != "" {
		t.Errorf("display names (-want +got):\n%s", diff)
	}
}

func TestTooManyCombinations(t *testing.T) {
	vals := make([]string, 257)
	for i := range vals {
		vals[i] = fmt.Sprint(i)
	}
	pr, _, refs := objects(t, `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: m
      matrix:
        params: [{name: p, value: [`+strings.Join(vals, ",")+`]}]
      taskSpec:
        params: [{name: p}]`+stepX+`
`)
	_, err := NewPipelineRun(pr, refs, Options{})
	if err == nil || err.(*InvalidRunError).Reason != ReasonPipelineValidationFailed {
		t.Errorf("err = %v, want a PipelineValidationFailed error", err)
	}
}
