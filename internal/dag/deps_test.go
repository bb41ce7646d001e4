package dag

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

func TestDeps(t *testing.T) {
	tests := []struct {
		name string
		task string
		want []Dep
	}{
		{
			name: "no dependencies",
			task: `{name: a, taskRef: {name: t}, params: [{name: p, value: "$(params.x)"}]}`,
			want: nil,
		},
		{
			name: "runAfter then results in field order",
			task: `
name: use
runAfter: [first, second]
taskRef: {name: t}
when:
- {input: "$(tasks.w.results.flag)", operator: in, values: ["a", "$(tasks.v.results.list[*])"]}
- {cel: "'$(tasks.c.results.flag)' == 'yes'"}
params:
- {name: arr, value: ["x", "$(tasks.p.results.arr[1])"]}
- {name: obj, value: {k: "$(tasks.o.results.obj.key)"}}
onError: "$(tasks.e.results.mode)"
`,
			want: []Dep{
				{Task: "first", Kind: RunAfter, Field: "runAfter[0]"},
				{Task: "second", Kind: RunAfter, Field: "runAfter[1]"},
				{Task: "e", Kind: Result, Field: "onError", Ref: "$(tasks.e.results.mode)", Result: "mode"},
				{Task: "p", Kind: Result, Field: "params[0].value[1]", Ref: "$(tasks.p.results.arr[1])", Result: "arr"},
				{Task: "o", Kind: Result, Field: "params[1].value.k", Ref: "$(tasks.o.results.obj.key)", Result: "obj"},
				{Task: "w", Kind: Result, Field: "when[0].input", Ref: "$(tasks.w.results.flag)", Result: "flag"},
				{Task: "v", Kind: Result, Field: "when[0].values[1]", Ref: "$(tasks.v.results.list[*])", Result: "list"},
				{Task: "c", Kind: Result, Field: "when[1].cel", Ref: "$(tasks.c.results.flag)", Result: "flag"},
			},
		},
		{
			name: "several references in one script",
			task: `
name: use
taskSpec:
  steps:
  - image: alpine
    script: |
      echo "$(echo $(tasks.a.results['out']))"
      echo $(tasks.b.results.obj.key) $(tasks.a.matrix.length)
`,
			want: []Dep{
				{Task: "a", Kind: Result, Field: "taskSpec.steps[0].script", Ref: "$(tasks.a.results['out'])", Result: "out"},
				{Task: "b", Kind: Result, Field: "taskSpec.steps[0].script", Ref: "$(tasks.b.results.obj.key)", Result: "obj"},
			},
		},
		{
			name: "nested pipeline is its own scope",
			task: `
name: inner
pipelineSpec:
  tasks:
  - name: x
    taskRef: {name: t}
    params: [{name: p, value: "$(tasks.y.results.r)"}]
`,
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var pt v1.PipelineTask
			if err := yaml.Unmarshal([]byte(tc.task), &pt); err != nil {
				t.Fatalf("parse task: %v", err)
			}
			got, err := Deps(&pt)
			if err != nil {
				t.Fatalf("Deps: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Deps mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
