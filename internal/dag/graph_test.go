package dag

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// parseTasks reads the tasks of an inline pipeline spec.
func parseTasks(t *testing.T, spec string) []v1.PipelineTask {
	t.Helper()
	var ps v1.PipelineSpec
	if err := yaml.Unmarshal([]byte(spec), &ps); err != nil {
		t.Fatalf("parse pipeline spec: %v", err)
	}
	return ps.Tasks
}

func TestBuild(t *testing.T) {
	type graphView struct {
		Order   []string
		Roots   []string
		Parents map[string][]string
	}
	tests := []struct {
		name string
		spec string
		want graphView
	}{
		{
			name: "independent tasks keep declaration order",
			spec: `
tasks:
- {name: b, taskRef: {name: t}}
- {name: a, taskRef: {name: t}}
`,
			want: graphView{Order: []string{"b", "a"}, Roots: []string{"b", "a"}, Parents: map[string][]string{}},
		},
		{
			name: "runAfter chain declared backwards",
			spec: `
tasks:
- {name: c, runAfter: [b], taskRef: {name: t}}
- {name: b, runAfter: [a], taskRef: {name: t}}
- {name: a, taskRef: {name: t}}
`,
			want: graphView{
				Order:   []string{"a", "b", "c"},
				Roots:   []string{"a"},
				Parents: map[string][]string{"b": {"a"}, "c": {"b"}},
			},
		},
		{
			name: "diamond with ties broken by declaration order",
			spec: `
tasks:
- {name: fetch, taskRef: {name: t}}
- {name: lint, runAfter: [fetch], taskRef: {name: t}}
- {name: unit, runAfter: [fetch], taskRef: {name: t}}
- {name: other, taskRef: {name: t}}
- {name: publish, runAfter: [unit, lint], taskRef: {name: t}}
`,
			want: graphView{
				Order:   []string{"fetch", "lint", "unit", "other", "publish"},
				Roots:   []string{"fetch", "other"},
				Parents: map[string][]string{"lint": {"fetch"}, "unit": {"fetch"}, "publish": {"lint", "unit"}},
			},
		},
		{
			name: "result in a param creates an edge",
			spec: `
tasks:
- name: deploy
  taskRef: {name: t}
  params:
  - {name: image, value: "registry/app@$(tasks.build.results.digest)"}
- {name: build, taskRef: {name: t}}
`,
			want: graphView{
				Order:   []string{"build", "deploy"},
				Roots:   []string{"build"},
				Parents: map[string][]string{"deploy": {"build"}},
			},
		},
		{
			name: "results in bracket form, arrays, objects and when",
			spec: `
tasks:
- {name: a, taskRef: {name: t}}
- {name: b, taskRef: {name: t}}
- {name: c, taskRef: {name: t}}
- {name: d, taskRef: {name: t}}
- name: use
  taskRef: {name: t}
  params:
  - {name: list, value: ["$(tasks.a.results['list'][*])"]}
  - {name: obj, value: "$(tasks.b.results.obj.key)"}
  when:
  - {input: "$(tasks.c.results.flag)", operator: in, values: ["yes"]}
  - {input: "x", operator: in, values: ["$(tasks.d.results[\"arr\"][*])"]}
`,
			want: graphView{
				Order:   []string{"a", "b", "c", "d", "use"},
				Roots:   []string{"a", "b", "c", "d"},
				Parents: map[string][]string{"use": {"a", "b", "c", "d"}},
			},
		},
		{
			name: "matrix params and include create edges",
			spec: `
tasks:
- {name: gen, taskRef: {name: t}}
- {name: extra, taskRef: {name: t}}
- name: fan
  taskRef: {name: t}
  matrix:
    params:
    - {name: platform, value: "$(tasks.gen.results.platforms[*])"}
    include:
    - name: one
      params:
      - {name: flag, value: "$(tasks.extra.results.flag)"}
`,
			want: graphView{
				Order:   []string{"gen", "extra", "fan"},
				Roots:   []string{"gen", "extra"},
				Parents: map[string][]string{"fan": {"gen", "extra"}},
			},
		},
		{
			name: "embedded taskSpec fields create edges",
			spec: `
tasks:
- {name: a, taskRef: {name: t}}
- {name: b, taskRef: {name: t}}
- {name: c, taskRef: {name: t}}
- name: use
  taskSpec:
    steps:
    - image: alpine
      script: echo $(tasks.a.results.out)
      env:
      - {name: X, value: "$(tasks.b.results.out)"}
    sidecars:
    - name: side
      image: alpine
      args: ["$(tasks.c.results.out)"]
`,
			want: graphView{
				Order:   []string{"a", "b", "c", "use"},
				Roots:   []string{"a", "b", "c"},
				Parents: map[string][]string{"use": {"a", "b", "c"}},
			},
		},
		{
			name: "displayName, taskRef params and workspace subPath create edges",
			spec: `
tasks:
- {name: a, taskRef: {name: t}}
- {name: b, taskRef: {name: t}}
- {name: c, taskRef: {name: t}}
- name: use
  displayName: "deploy $(tasks.a.results.version)"
  taskRef:
    resolver: git
    params:
    - {name: revision, value: "$(tasks.b.results.sha)"}
  workspaces:
  - {name: src, workspace: ws, subPath: "$(tasks.c.results.dir)"}
`,
			want: graphView{
				Order:   []string{"a", "b", "c", "use"},
				Roots:   []string{"a", "b", "c"},
				Parents: map[string][]string{"use": {"a", "b", "c"}},
			},
		},
		{
			name: "matrix length, status, descriptions and params create no edge",
			spec: `
tasks:
- {name: a, taskRef: {name: t}}
- name: b
  description: "uses $(tasks.a.results.out) in prose"
  taskRef: {name: t}
  params:
  - {name: n, value: "$(tasks.a.matrix.length) $(tasks.a.matrix.out.length) $(tasks.a.status) $(params.x)"}
  taskSpec:
    description: "$(tasks.a.results.out)"
    steps:
    - {image: alpine, script: "echo $(context.pipelineRun.name)"}
`,
			want: graphView{Order: []string{"a", "b"}, Roots: []string{"a", "b"}, Parents: map[string][]string{}},
		},
		{
			name: "object param key named description is searched",
			spec: `
tasks:
- {name: a, taskRef: {name: t}}
- name: b
  taskRef: {name: t}
  params:
  - name: o
    value: {description: "$(tasks.a.results.text)"}
`,
			want: graphView{Order: []string{"a", "b"}, Roots: []string{"a"}, Parents: map[string][]string{"b": {"a"}}},
		},
		{
			name: "runAfter and result to the same task is one edge",
			spec: `
tasks:
- {name: a, taskRef: {name: t}}
- name: b
  runAfter: [a, a]
  taskRef: {name: t}
  params:
  - {name: p, value: "$(tasks.a.results.x)"}
`,
			want: graphView{Order: []string{"a", "b"}, Roots: []string{"a"}, Parents: map[string][]string{"b": {"a"}}},
		},
		{
			name: "no tasks",
			spec: `tasks: []`,
			want: graphView{Parents: map[string][]string{}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Build(parseTasks(t, tc.spec))
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			got := graphView{Order: g.Order(), Roots: g.Roots(), Parents: map[string][]string{}}
			for _, name := range g.Tasks() {
				if p := g.Parents(name); p != nil {
					got.Parents[name] = p
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("graph mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want string
	}{
		{
			name: "unknown task in runAfter",
			spec: `
tasks:
- {name: a, runAfter: [missing], taskRef: {name: t}}
`,
			want: `task "a" depends on "missing" (runAfter[0]) but "missing" wasn't present in Pipeline`,
		},
		{
			name: "every unknown task is reported",
			spec: `
tasks:
- {name: a, runAfter: [x], taskRef: {name: t}}
- name: b
  taskRef: {name: t}
  params:
  - {name: p, value: "$(tasks.y.results.r)"}
  when:
  - {input: "$(tasks.z.results.r)", operator: in, values: ["1"]}
`,
			want: `task "a" depends on "x" (runAfter[0]) but "x" wasn't present in Pipeline
task "b" depends on "y" (params[0].value) but "y" wasn't present in Pipeline
task "b" depends on "z" (when[0].input) but "z" wasn't present in Pipeline`,
		},
		{
			name: "self dependency through runAfter",
			spec: `
tasks:
- {name: a, runAfter: [a], taskRef: {name: t}}
`,
			want: `cycle detected; task "a" depends on itself (runAfter[0])`,
		},
		{
			name: "self dependency through a result",
			spec: `
tasks:
- name: a
  taskSpec:
    steps:
    - {image: alpine, script: "echo $(tasks.a.results.r)"}
`,
			want: `cycle detected; task "a" depends on itself (taskSpec.steps[0].script)`,
		},
		{
			name: "two-task cycle",
			spec: `
tasks:
- {name: a, runAfter: [b], taskRef: {name: t}}
- {name: b, runAfter: [a], taskRef: {name: t}}
`,
			want: `cycle detected: a -> b -> a`,
		},
		{
			name: "three-task cycle in run order",
			spec: `
tasks:
- {name: a, runAfter: [c], taskRef: {name: t}}
- {name: b, runAfter: [a], taskRef: {name: t}}
- {name: c, runAfter: [b], taskRef: {name: t}}
`,
			want: `cycle detected: a -> b -> c -> a`,
		},
		{
			name: "cycle found from the first declared task on it",
			spec: `
tasks:
- {name: after, runAfter: [w], taskRef: {name: t}}
- {name: root, taskRef: {name: t}}
- {name: x, runAfter: [root, z], taskRef: {name: t}}
- name: w
  taskRef: {name: t}
  params:
  - {name: p, value: "$(tasks.x.results.r)"}
- {name: z, runAfter: [w], taskRef: {name: t}}
`,
			want: `cycle detected: x -> w -> z -> x`,
		},
		{
			name: "shortest cycle through the first task is reported",
			spec: `
tasks:
- {name: a, runAfter: [c, b], taskRef: {name: t}}
- {name: b, runAfter: [a], taskRef: {name: t}}
- {name: c, runAfter: [b], taskRef: {name: t}}
`,
			want: `cycle detected: a -> b -> a`,
		},
		{
			name: "duplicate and empty names",
			spec: `
tasks:
- {name: a, taskRef: {name: t}}
- {name: a, taskRef: {name: t}}
- {taskRef: {name: t}}
`,
			want: "duplicate pipeline task name \"a\"\npipeline task has no name",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Build(parseTasks(t, tc.spec))
			if err == nil {
				t.Fatalf("Build succeeded with order %v, want error %q", g.Order(), tc.want)
			}
			if g != nil {
				t.Errorf("Build returned a graph along with error %v", err)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildErrorTypes(t *testing.T) {
	_, err := Build(parseTasks(t, `
tasks:
- name: a
  taskRef: {name: t}
  params:
  - {name: p, value: "$(tasks.gone.results.out[0])"}
- {name: b, runAfter: [b], taskRef: {name: t}}
`))
	var unknown *UnknownTaskError
	if !errors.As(err, &unknown) {
		t.Fatalf("error %v holds no *UnknownTaskError", err)
	}
	wantUnknown := &UnknownTaskError{Index: 0, Task: "a", Dep: Dep{
		Task: "gone", Kind: Result, Field: "params[0].value",
		Ref: "$(tasks.gone.results.out[0])", Result: "out",
	}}
	if diff := cmp.Diff(wantUnknown, unknown); diff != "" {
		t.Errorf("UnknownTaskError mismatch (-want +got):\n%s", diff)
	}
	var self *SelfDependencyError
	if !errors.As(err, &self) {
		t.Fatalf("error %v holds no *SelfDependencyError", err)
	}
	wantSelf := &SelfDependencyError{Index: 1, Task: "b", Dep: Dep{Task: "b", Kind: RunAfter, Field: "runAfter[0]"}}
	if diff := cmp.Diff(wantSelf, self); diff != "" {
		t.Errorf("SelfDependencyError mismatch (-want +got):\n%s", diff)
	}

	_, err = Build(parseTasks(t, `
tasks:
- {name: a, runAfter: [b], taskRef: {name: t}}
- {name: b, runAfter: [a], taskRef: {name: t}}
`))
	var cycle *CycleError
	if !errors.As(err, &cycle) {
		t.Fatalf("error %v is no *CycleError", err)
	}
	if diff := cmp.Diff([]string{"a", "b", "a"}, cycle.Cycle); diff != "" {
		t.Errorf("cycle mismatch (-want +got):\n%s", diff)
	}
}

func TestGraphQueries(t *testing.T) {
	g, err := Build(parseTasks(t, `
tasks:
- {name: fetch, taskRef: {name: t}}
- name: build
  runAfter: [fetch]
  taskRef: {name: t}
  params:
  - {name: src, value: "$(tasks.fetch.results.dir)"}
- {name: test, runAfter: [fetch], taskRef: {name: t}}
`))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	type view struct {
		Tasks          []string
		HasBuild       bool
		HasMissing     bool
		FetchChildren  []string
		BuildDeps      []Dep
		MissingParents []string
		MissingDeps    []Dep
	}
	got := view{
		Tasks:          g.Tasks(),
		HasBuild:       g.Has("build"),
		HasMissing:     g.Has("missing"),
		FetchChildren:  g.Children("fetch"),
		BuildDeps:      g.Deps("build"),
		MissingParents: g.Parents("missing"),
		MissingDeps:    g.Deps("missing"),
	}
	want := view{
		Tasks:         []string{"fetch", "build", "test"},
		HasBuild:      true,
		FetchChildren: []string{"build", "test"},
		BuildDeps: []Dep{
			{Task: "fetch", Kind: RunAfter, Field: "runAfter[0]"},
			{Task: "fetch", Kind: Result, Field: "params[0].value", Ref: "$(tasks.fetch.results.dir)", Result: "dir"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("queries mismatch (-want +got):\n%s", diff)
	}
}
