package engine

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

func TestTaskResults(t *testing.T) {
	tests := []struct {
		name   string
		decl   string // results of the taskSpec
		steps  string // extra step fields of step s
		script script
		opts   Options
		want   trSummary
	}{{
		name:   "string, array and object results, verbatim",
		decl:   `[{name: s}, {name: a, type: array}, {name: o, properties: {k: {}}}]`,
		script: script{"tr/step-s": {taskResults: map[string]string{"s": " spaced \n", "a": `["x","y"]`, "o": `{"k":"v"}`}}},
		want: trSummary{
			Status: "True", Reason: "Succeeded", Message: "All Steps have completed executing",
			Results: []v1.TaskRunResult{
				{Name: "a", Type: "array", Value: v1.NewArray("x", "y")},
				{Name: "o", Type: "object", Value: v1.NewObject(map[string]string{"k": "v"})},
				{Name: "s", Type: "string", Value: v1.NewString(" spaced \n")},
			},
		},
	}, {
		name:   "an array result that is not a JSON array fails validation",
		decl:   `[{name: a, type: array}]`,
		script: script{"tr/step-s": {taskResults: map[string]string{"a": "foo"}}},
		want: trSummary{
			Status: "False", Reason: "TaskRunValidationFailed",
			Message: `Provided results don't match declared results; may be invalid JSON or missing result declaration:  "a": task result is expected to be "array" type but was initialized to a different type "string"`,
		},
	}, {
		name:   "an object result without a declared key fails validation",
		decl:   `[{name: o, properties: {k: {}, j: {}}}]`,
		script: script{"tr/step-s": {taskResults: map[string]string{"o": `{"k":"v"}`}}},
		want: trSummary{
			Status: "False", Reason: "TaskRunValidationFailed",
			Message: `missing keys for these results which are required in TaskResult's properties map[o:[j]]`,
			Results: []v1.TaskRunResult{{Name: "o", Type: "object", Value: v1.NewObject(map[string]string{"k": "v"})}},
		},
	}, {
		name:   "a result over the size limit fails the TaskRun",
		decl:   `[{name: big}]`,
		script: script{"tr/step-s": {taskResults: map[string]string{"big": strings.Repeat("x", 11)}}},
		opts:   Options{MaxResultSize: 10},
		want: trSummary{
			Status: "False", Reason: "TaskRunResultLargerThanAllowedLimit",
			Message: `TaskRun "tr" failed to retrieve results: result "big" of 11 bytes exceeds the max allowed size of 10 bytes`,
			Results: []v1.TaskRunResult{{Name: "big", Type: "string", Value: v1.NewString("xxxxxxxxxxx")}},
		},
	}, {
		name:   "results together over the total limit fail the TaskRun",
		decl:   `[{name: a}, {name: b}]`,
		script: script{"tr/step-s": {taskResults: map[string]string{"a": "123456", "b": "123456"}}},
		opts:   Options{MaxTotalResultSize: 10},
		want: trSummary{
			Status: "False", Reason: "TaskRunResultLargerThanAllowedLimit",
			Message: `TaskRun "tr" failed to retrieve results: results of 12 bytes together exceed the max allowed size of 10 bytes`,
			Results: []v1.TaskRunResult{{Name: "a", Type: "string", Value: v1.NewString("123456")}, {Name: "b", Type: "string", Value: v1.NewString("123456")}},
		},
	}, {
		name:   "a task result lifts a step result",
		decl:   `[{name: lifted, value: $(steps.s.results.sr)}]`,
		steps:  `results: [{name: sr}]`,
		script: script{"tr/step-s": {results: map[string]string{"sr": "from-step"}}},
		want: trSummary{
			Status: "True", Reason: "Succeeded", Message: "All Steps have completed executing",
			Results: []v1.TaskRunResult{{Name: "lifted", Type: "string", Value: v1.NewString("from-step")}},
		},
	}, {
		name:   "an unwritten result is not an error",
		decl:   `[{name: r}]`,
		script: script{},
		want:   trSummary{Status: "True", Reason: "Succeeded", Message: "All Steps have completed executing"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    results: ` + tc.decl + `
    steps:
    - name: s
      image: x
`
			if tc.steps != "" {
				doc += "      " + tc.steps + "\n"
			}
			e := newEngine(t, doc, tc.opts)
			run(t, e, tc.script)
			got := summarizeTaskRun(e.Status().TaskRun)
			got.Steps = nil
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStepResultsInStatusAndLaterSteps(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps:
    - name: a
      image: x
      results: [{name: list, type: array}, {name: word}]
    - name: b
      image: x
      args: ["$(steps.a.results.list[*])", "$(steps.a.results.word)"]
      env: [{name: W, value: $(steps.a.results.word)}]
`, Options{})
	x := run(t, e, script{"tr/step-a": {results: map[string]string{"list": `["1","2"]`, "word": "w"}}})
	p := startedSteps(x)["tr/step-b"]
	if diff := cmp.Diff([]string{"1", "2", "w"}, p.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	if len(p.Env) != 1 || p.Env[0].Value != "w" {
		t.Errorf("env = %v", p.Env)
	}
	want := []v1.TaskRunResult{
		{Name: "list", Type: "array", Value: v1.NewArray("1", "2")},
		{Name: "word", Type: "string", Value: v1.NewString("w")},
	}
	if diff := cmp.Diff(want, e.Status().TaskRun.Steps[0].Results); diff != "" {
		t.Errorf("step results (-want +got):\n%s", diff)
	}
}

func TestPipelineResults(t *testing.T) {
	const tasks = `
    tasks:
    - name: a
      taskSpec:
        results: [{name: s}, {name: arr, type: array}, {name: obj, properties: {k: {}}}]` + stepX + `
    - name: b
      when: [{input: "1", operator: in, values: ["2"]}]
      taskSpec:
        results: [{name: s}]` + stepX + `
    finally:
    - name: f
      taskSpec:
        results: [{name: s}]` + stepX + `
`
	aResults := script{
		"pr-a/step-s": {taskResults: map[string]string{"s": "S", "arr": `["1","2"]`, "obj": `{"k":"v"}`}},
		"pr-f/step-s": {taskResults: map[string]string{"s": "F"}},
	}
	runPipelineCases(t, []pipelineCase{{
		name: "results of every kind; one from a skipped task is left out",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    results:
    - {name: str, value: "$(tasks.a.results.s)-x"}
    - {name: whole, type: array, value: "$(tasks.a.results.arr[*])"}
    - {name: elem, value: "$(tasks.a.results.arr[1])"}
    - {name: key, value: "$(tasks.a.results.obj.k)"}
    - {name: obj, type: object, value: "$(tasks.a.results.obj[*])"}
    - {name: skipped, value: "$(tasks.b.results.s)"}
    - {name: fin, value: "$(finally.f.results.s)"}` + tasks,
		script: aResults,
		want: prSummary{
			Status: "True", Reason: "Completed", Message: "Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 1",
			Skipped:  []v1.SkippedTask{{Name: "b", Reason: "When Expressions evaluated to false", WhenExpressions: v1.WhenExpressions{{Input: "1", Operator: "in", Values: []string{"2"}}}}},
			Children: []string{"pr-a", "pr-f"},
			Results: []v1.PipelineRunResult{
				{Name: "str", Value: v1.NewString("S-x")},
				{Name: "whole", Value: v1.NewArray("1", "2")},
				{Name: "elem", Value: v1.NewString("2")},
				{Name: "key", Value: v1.NewString("v")},
				{Name: "obj", Value: v1.NewObject(map[string]string{"k": "v"})},
				{Name: "fin", Value: v1.NewString("F")},
			},
		},
	}, {
		name: "a result missing from a task that succeeded fails the run",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    results:
    - {name: str, value: "$(tasks.a.results.s)"}
    - {name: missing, value: "$(tasks.a.results.arr[5])"}` + tasks,
		script: aResults,
		want: prSummary{
			Status: "False", Reason: "CouldntGetPipelineResult",
			Message:  "Failed to get PipelineResult from TaskRun Results for PipelineRun pr: invalid pipelineresults [missing], the referred results don't exist",
			Skipped:  []v1.SkippedTask{{Name: "b", Reason: "When Expressions evaluated to false", WhenExpressions: v1.WhenExpressions{{Input: "1", Operator: "in", Values: []string{"2"}}}}},
			Children: []string{"pr-a", "pr-f"},
			Results:  []v1.PipelineRunResult{{Name: "str", Value: v1.NewString("S")}},
		},
	}, {
		name: "a failed run still publishes the results it has",
		doc: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    results:
    - {name: fin, value: "$(finally.f.results.s)"}
    - {name: failed, value: "$(tasks.a.results.s)"}` + tasks,
		script: script{"pr-a/step-s": {exit: 1, taskResults: map[string]string{"s": "S"}}, "pr-f/step-s": {taskResults: map[string]string{"s": "F"}}},
		want: prSummary{
			Status: "False", Reason: "Failed", Message: "Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 1",
			Skipped:  []v1.SkippedTask{{Name: "b", Reason: "PipelineRun was stopping", WhenExpressions: v1.WhenExpressions{{Input: "1", Operator: "in", Values: []string{"2"}}}}},
			Children: []string{"pr-a", "pr-f"},
			Results:  []v1.PipelineRunResult{{Name: "fin", Value: v1.NewString("F")}},
		},
	}, {
		name: "an index out of range in a consumer fails the run",
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
      params: [{name: p, value: "$(tasks.a.results.arr[0])"}]
      taskSpec:
        params: [{name: p}]` + stepX + `
`,
		script: script{"pr-a/step-s": {taskResults: map[string]string{"arr": `[]`}}},
		want: prSummary{
			Status: "False", Reason: "PipelineValidationFailed",
			Message:  "PipelineRun /pr can't be Run; couldn't resolve all references: array Result Index 0 for Task a Result arr is out of bound of size 0",
			Children: []string{"pr-a"},
		},
	}})
}
