package load_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/colo-ci/colo/internal/load"
)

// seqNamer names generated objects <prefix>0, <prefix>1, ...
func seqNamer() load.Namer {
	n := 0
	return func(prefix string) string {
		s := fmt.Sprintf("%s%d", prefix, n)
		n++
		return s
	}
}

// summary lists what a set holds, one "Kind namespace/name" per object,
// runs in read order after the sorted named objects.
func summary(s *load.Set) []string {
	var named []string
	add := func(kind string, names []string, nss []string) {
		for i, n := range names {
			named = append(named, kind+" "+nss[i]+"/"+n)
		}
	}
	for n, o := range s.Tasks {
		add("Task", []string{n}, []string{o.Namespace})
	}
	for n, o := range s.Pipelines {
		add("Pipeline", []string{n}, []string{o.Namespace})
	}
	for n, o := range s.StepActions {
		add("StepAction", []string{n}, []string{o.Namespace})
	}
	for n, o := range s.Secrets {
		add("Secret", []string{n}, []string{o.Namespace})
	}
	for n, o := range s.ConfigMaps {
		add("ConfigMap", []string{n}, []string{o.Namespace})
	}
	for n, o := range s.PVCs {
		add("PersistentVolumeClaim", []string{n}, []string{o.Namespace})
	}
	for n, o := range s.ServiceAccounts {
		add("ServiceAccount", []string{n}, []string{o.Namespace})
	}
	sort.Strings(named)
	for _, o := range s.PipelineRuns {
		named = append(named, "PipelineRun "+o.Namespace+"/"+o.Name)
	}
	for _, o := range s.TaskRuns {
		named = append(named, "TaskRun "+o.Namespace+"/"+o.Name)
	}
	for _, o := range s.Other {
		named = append(named, "other "+o.GetKind()+" "+o.GetName())
	}
	return named
}

func errLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

func TestBytes(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		want         []string
		wantErr      []string
		wantWarnings []string
	}{
		{
			name: "every kind, empty and comment-only documents skipped",
			in: `
# a comment-only part
---
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: t}
spec:
  steps: [{image: alpine}]
---
---
apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: p, namespace: ci}
spec:
  tasks: [{name: a, taskRef: {name: t}}]
---
apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata: {name: sa1}
spec: {image: alpine}
---
apiVersion: tekton.dev/v1alpha1
kind: StepAction
metadata: {name: sa2}
spec: {image: alpine}
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr2}
spec: {pipelineRef: {name: p}}
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec: {taskRef: {name: t}}
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr1}
spec: {pipelineRef: {name: p}}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
stringData: {a: b}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {a: b}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: pvc}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: crb}
unknownField: kept as written
---
apiVersion: v1
kind: LimitRange
metadata: {name: lr}
`,
			want: []string{
				"ConfigMap default/cm",
				"PersistentVolumeClaim default/pvc",
				"Pipeline ci/p",
				"Secret default/s",
				"ServiceAccount default/sa",
				"StepAction default/sa1",
				"StepAction default/sa2",
				"Task default/t",
				"PipelineRun default/pr2",
				"PipelineRun default/pr1",
				"TaskRun default/tr",
				"other ClusterRoleBinding crb",
				"other LimitRange lr",
			},
		},
		{
			name: "unknown field named with its full path",
			in: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: demo
spec:
  pipelineSpec:
    tasks:
    - name: a
      taskSpec:
        steps: [{image: alpine}]
    - name: b
      taskSpec:
        stepz: []
`,
			wantErr: []string{`pipelinerun.yaml: PipelineRun "demo": unknown field "spec.pipelineSpec.tasks[1].taskSpec.stepz"`},
		},
		{
			name: "a key that differs only in case is read as the field, with a warning",
			in: `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    workspaces: [{name: w}]
    steps:
    - image: alpine
      workspaces: [{name: w, mountpath: /creds}]
      WorkingDir: /src
`,
			want: []string{"TaskRun default/tr"},
			wantWarnings: []string{
				`pipelinerun.yaml: TaskRun "tr": field "spec.taskSpec.steps[0].WorkingDir" read as "workingDir"`,
				`pipelinerun.yaml: TaskRun "tr": field "spec.taskSpec.steps[0].workspaces[0].mountpath" read as "mountPath"`,
			},
		},
		{
			name: "a key given in both cases is a duplicate",
			in: `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps:
    - image: alpine
      Image: busybox
`,
			wantErr: []string{`pipelinerun.yaml: TaskRun "tr": unknown field "spec.taskSpec.steps[0].Image"`},
		},
		{
			name: "every problem of every document is reported",
			in: `
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: t}
spec:
  params: [{name: p, typo: x}]
  steps: [{image: alpine, retries: 1, timeout: soon}]
---
apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: p}
spec:
  tasks:
  - name: a
    retries: "2"
    runAfter: b
    params: [{name: x, value: [[nested]]}]
---
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: good}
spec:
  steps: [{image: alpine}]
`,
			want: []string{"Task default/good"},
			wantErr: []string{
				`pipelinerun.yaml: Task "t": field "spec.steps[0].timeout": "soon" is not a duration: time: invalid duration "soon"`,
				`pipelinerun.yaml: Task "t": unknown field "spec.params[0].typo"`,
				`pipelinerun.yaml: Task "t": unknown field "spec.steps[0].retries"`,
				`pipelinerun.yaml: Pipeline "p": field "spec.tasks[0].params[0].value[0]" must be a string, not a list`,
				`pipelinerun.yaml: Pipeline "p": field "spec.tasks[0].retries" must be an integer, not the string "2"`,
				`pipelinerun.yaml: Pipeline "p": field "spec.tasks[0].runAfter" must be a list, not the string "b"`,
			},
		},
		{
			name: "YAML booleans where strings belong are named",
			in: `
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: t}
spec:
  steps: [{image: alpine, args: [x, y]}]
`,
			wantErr: []string{`pipelinerun.yaml: Task "t": field "spec.steps[0].args[1]" must be a string, not the boolean true (YAML reads unquoted y, n, yes, no, on, off, true and false as booleans)`},
		},
		{
			name: "param values may be YAML scalars of any kind",
			in: `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  params: [{name: a, value: 1}, {name: b, value: [true, 2]}, {name: c, value: {k: on}}]
  taskRef: {name: t}
`,
			want: []string{"TaskRun default/tr"},
		},
		{
			name: "duplicate key is reported with its line in the file",
			in: `apiVersion: v1
kind: ConfigMap
metadata: {name: first}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data:
  a: x
  a: y
`,
			want:    []string{"ConfigMap default/first"},
			wantErr: []string{`pipelinerun.yaml: document 2: line 10: key "a" already set in map`},
		},
		{
			name: "YAML syntax error names the file line",
			in: `apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
---
a: b
b: : c
`,
			want:    []string{"ConfigMap default/cm"},
			wantErr: []string{`pipelinerun.yaml: document 2: line 6: mapping values are not allowed in this context`},
		},
		{
			name: "tekton.dev versions and kinds colo does not read",
			in: `
apiVersion: tekton.dev/v1beta1
kind: Task
metadata: {name: old}
spec: {steps: [{image: alpine}]}
---
apiVersion: tekton.dev/v1
kind: StepAction
metadata: {name: sa}
spec: {image: alpine}
---
apiVersion: tekton.dev/v1beta1
kind: CustomRun
metadata: {name: cr}
---
apiVersion: tekton.dev/v1
kind: Taks
metadata: {name: typo}
`,
			wantErr: []string{
				`pipelinerun.yaml: Task "old": tekton.dev/v1beta1 Task is not supported: colo reads tekton.dev/v1 (convert it to apiVersion tekton.dev/v1)`,
				`pipelinerun.yaml: StepAction "sa": there is no tekton.dev/v1 StepAction: write apiVersion tekton.dev/v1beta1 (or v1alpha1)`,
				`pipelinerun.yaml: CustomRun "cr": tekton.dev/v1beta1 CustomRun is not supported: colo reads tekton.dev/v1 Task, TaskRun, Pipeline and PipelineRun, and StepAction (tekton.dev/v1beta1 or v1alpha1)`,
				`pipelinerun.yaml: Taks "typo": tekton.dev/v1 Taks is not supported: colo reads tekton.dev/v1 Task, TaskRun, Pipeline and PipelineRun, and StepAction (tekton.dev/v1beta1 or v1alpha1)`,
			},
		},
		{
			name: "missing apiVersion, kind and name",
			in: `
kind: Task
metadata: {name: t}
---
apiVersion: tekton.dev/v1
metadata: {name: t}
---
apiVersion: tekton.dev/v1
kind: Task
spec: {steps: [{image: alpine}]}
---
- a list
`,
			wantErr: []string{
				`pipelinerun.yaml: Task "t": apiVersion is missing`,
				`pipelinerun.yaml: document 2: kind is missing`,
				`pipelinerun.yaml: document 3 (Task): metadata.name is missing (and there is no metadata.generateName)`,
				`pipelinerun.yaml: document 4: document is not an object`,
			},
		},
		{
			name: "generateName gets a suffix; explicit names are never taken",
			in: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {generateName: run-}
spec: {pipelineRef: {name: p}}
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: run-0}
spec: {pipelineRef: {name: p}}
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {generateName: run-}
spec: {taskRef: {name: t}}
`,
			want: []string{"PipelineRun default/run-1", "PipelineRun default/run-0", "TaskRun default/run-2"},
		},
		{
			name: "decode errors of a generateName object name its prefix",
			in: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {generateName: run-}
spec: {pipelineRef: {nam: p}}
`,
			wantErr: []string{`pipelinerun.yaml: PipelineRun with generateName "run-": unknown field "spec.pipelineRef.nam"`},
		},
		{
			name: "duplicate names of one kind",
			in: `
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: t}
spec: {steps: [{image: alpine}]}
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: t}
spec: {taskRef: {name: t}}
---
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: t}
spec: {steps: [{image: busybox}]}
`,
			want:    []string{"Task default/t", "TaskRun default/t"},
			wantErr: []string{`pipelinerun.yaml: Task "t": the name is already used by the Task in pipelinerun.yaml (document 1)`},
		},
		{
			name: "v1 List items are read",
			in: `
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: a}
- apiVersion: v1
  kind: Secret
  metadata: {name: b}
`,
			want: []string{"ConfigMap default/a", "Secret default/b"},
		},
		{
			name: "JSON documents",
			in:   `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}}`,
			want: []string{"ConfigMap default/j"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &load.Loader{Namer: seqNamer()}
			s, err := l.Bytes("pipelinerun.yaml", []byte(tc.in))
			if diff := cmp.Diff(tc.wantErr, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, summary(s)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWarnings, s.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCaseFoldedFieldKeepsValue(t *testing.T) {
	s, err := load.Bytes("tr.yaml", []byte(`
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps:
    - image: alpine
      workspaces: [{name: w, mountpath: /creds}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.TaskRuns[0].Spec.TaskSpec.Steps[0].Workspaces[0].MountPath; got != "/creds" {
		t.Errorf("mountPath = %q, want /creds", got)
	}
}

func TestErrorsCarryWhere(t *testing.T) {
	_, err := load.Bytes("x.yaml", []byte("apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: t}\nspec: {stepz: []}\n"))
	var errs load.Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("err = %v, want one load.Error", err)
	}
	got := *errs[0]
	got.Err = nil
	want := load.Error{File: "x.yaml", Doc: 1, Kind: "Task", Name: "t"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}

func TestNewNamerDeterministic(t *testing.T) {
	a := load.NewNamer(rand.NewPCG(1, 2))
	b := load.NewNamer(rand.NewPCG(1, 2))
	first, second := a("run-"), a("run-")
	if first == second {
		t.Errorf("two names in a row are both %q", first)
	}
	if got := b("run-"); got != first {
		t.Errorf("same seed gave %q then %q", first, got)
	}
	if !strings.HasPrefix(first, "run-") || len(first) != len("run-")+5 {
		t.Errorf("name %q: want run- and five characters", first)
	}
	for _, c := range strings.TrimPrefix(first, "run-") {
		if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyz0123456789", c) {
			t.Errorf("name %q has %q, want lowercase letters and digits", first, c)
		}
	}
}

func TestRandomNamer(t *testing.T) {
	n := load.RandomNamer()
	seen := map[string]bool{}
	for range 20 {
		seen[n("x-")] = true
	}
	if len(seen) < 19 {
		t.Errorf("20 random names gave only %d distinct ones", len(seen))
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func cm(name string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\n"
}

func tr(name string) string {
	return "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: " + name + "}\nspec: {taskRef: {name: t}}\n"
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b.yaml"), tr("b"))
	writeFile(t, filepath.Join(dir, "a.yml"), tr("a"))
	writeFile(t, filepath.Join(dir, "sub", "c.json"), `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}`)
	writeFile(t, filepath.Join(dir, "sub", "deeper", "d.YAML"), tr("d"))
	writeFile(t, filepath.Join(dir, "notes.txt"), "not: read")
	writeFile(t, filepath.Join(dir, ".hidden", "h.yaml"), cm("hidden"))
	single := filepath.Join(t.TempDir(), "run.tekton")
	writeFile(t, single, tr("single")+"---\n"+cm("z"))

	s, err := load.Files(single, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ConfigMap default/c",
		"ConfigMap default/z",
		"TaskRun default/single",
		"TaskRun default/a",
		"TaskRun default/b",
		"TaskRun default/d",
	}
	if diff := cmp.Diff(want, summary(s)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	o, ok := s.Origin("ConfigMap", "z")
	if want := (load.Origin{File: single, Doc: 2}); !ok || o != want {
		t.Errorf("Origin(ConfigMap z) = %v, %t; want %v", o, ok, want)
	}
}

func TestFilesCollectsProblemsAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "one.yaml"), tr("x"))
	writeFile(t, filepath.Join(dir, "two.yaml"), tr("x")+"---\n"+cm("ok"))
	writeFile(t, filepath.Join(dir, "bad.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: [x]\n")
	missing := filepath.Join(dir, "missing.yaml")

	s, err := load.Files(missing, dir)
	want := []string{
		missing + ": stat " + missing + ": no such file or directory",
		filepath.Join(dir, "bad.yaml") + `: ConfigMap "bad": field "data" must be an object, not a list`,
		filepath.Join(dir, "two.yaml") + `: TaskRun "x": the name is already used by the TaskRun in ` + filepath.Join(dir, "one.yaml") + " (document 1)",
	}
	if diff := cmp.Diff(want, errLines(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ConfigMap default/ok", "TaskRun default/x"}, summary(s)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}

func TestMerge(t *testing.T) {
	a, err := load.Bytes("a.yaml", []byte(tr("one")+"---\n"+cm("shared")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := load.Bytes("b.yaml", []byte(tr("two")+"---\n"+cm("shared")+"---\n"+cm("other")))
	if err != nil {
		t.Fatal(err)
	}
	err = a.Merge(b)
	wantErr := []string{`b.yaml: ConfigMap "shared": the name is already used by the ConfigMap in a.yaml (document 2)`}
	if diff := cmp.Diff(wantErr, errLines(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	want := []string{"ConfigMap default/other", "ConfigMap default/shared", "TaskRun default/one", "TaskRun default/two"}
	if diff := cmp.Diff(want, summary(a)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if o, _ := a.Origin("ConfigMap", "other"); o != (load.Origin{File: "b.yaml", Doc: 3}) {
		t.Errorf("Origin(ConfigMap other) = %v, want b.yaml document 3", o)
	}
	if a.ConfigMaps["shared"].Namespace != "default" {
		t.Errorf("namespace = %q", a.ConfigMaps["shared"].Namespace)
	}
}
