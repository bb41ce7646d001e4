package v1_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

func TestParamSpecSetDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want v1.ParamType
		// wantProps are the property types after defaulting, if any.
		wantProps map[string]v1.PropertySpec
	}{
		{name: "no default is a string", in: `name: p`, want: v1.ParamTypeString},
		{name: "string default", in: "name: p\ndefault: x", want: v1.ParamTypeString},
		{name: "number default is a string", in: "name: p\ndefault: 1", want: v1.ParamTypeString},
		{name: "array default", in: "name: p\ndefault: [a]", want: v1.ParamTypeArray},
		{name: "empty array default", in: "name: p\ndefault: []", want: v1.ParamTypeArray},
		{name: "object default", in: "name: p\ndefault: {k: v}", want: v1.ParamTypeObject},
		{
			name:      "properties make an object and default to string",
			in:        "name: p\nproperties: {a: {}, b: {type: string}}",
			want:      v1.ParamTypeObject,
			wantProps: map[string]v1.PropertySpec{"a": {Type: v1.ParamTypeString}, "b": {Type: v1.ParamTypeString}},
		},
		{
			name: "explicit type wins over default shape",
			in:   "name: p\ntype: string\ndefault: [a]",
			want: v1.ParamTypeString,
		},
		{
			name:      "explicit object type still defaults properties",
			in:        "name: p\ntype: object\nproperties: {a: {}}",
			want:      v1.ParamTypeObject,
			wantProps: map[string]v1.PropertySpec{"a": {Type: v1.ParamTypeString}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s v1.ParamSpec
			if err := yaml.Unmarshal([]byte(tc.in), &s); err != nil {
				t.Fatal(err)
			}
			s.SetDefaults()
			if s.Type != tc.want {
				t.Errorf("type = %q, want %q", s.Type, tc.want)
			}
			if diff := cmp.Diff(tc.wantProps, s.Properties); diff != "" {
				t.Errorf("properties (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParamSpecSetDefaultsProgrammatic(t *testing.T) {
	// A default built in Go without a Type still gives its shape.
	s := v1.ParamSpec{Name: "p", Default: &v1.ParamValue{ArrayVal: []string{"a"}}}
	s.SetDefaults()
	if s.Type != v1.ParamTypeArray {
		t.Errorf("type = %q, want array", s.Type)
	}
}

const pipelineRunYAML = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: pr
spec:
  workspaces:
  - name: ws
    emptyDir: {}
  pipelineSpec:
    params:
    - name: list
      default: [a, b]
    results:
    - name: out
      value: $(tasks.a.results.r)
    tasks:
    - name: a
      taskSpec:
        params:
        - name: o
          properties: {k: {}}
        results:
        - name: r
        - name: obj
          properties: {x: {}}
        steps:
        - name: s
          image: alpine
          results:
          - name: sr
          script: echo
    - name: nested
      pipelineSpec:
        params:
        - name: inner
        tasks:
        - name: leaf
          taskSpec:
            params:
            - name: deep
              default: {a: b}
            steps:
            - image: alpine
    finally:
    - name: f
      taskSpec:
        params:
        - name: fp
        steps:
        - image: alpine
`

func TestPipelineRunSetDefaults(t *testing.T) {
	var pr v1.PipelineRun
	if err := yaml.Unmarshal([]byte(pipelineRunYAML), &pr); err != nil {
		t.Fatal(err)
	}
	pr.SetDefaults()

	type got struct {
		Timeouts       *v1.TimeoutFields
		ServiceAccount string
		PipelineParam  v1.ParamType
		PipelineResult v1.ParamType
		TaskParam      v1.ParamType
		TaskParamProp  v1.ParamType
		TaskResult     v1.ParamType
		ObjectResult   v1.ParamType
		ObjectProp     v1.ParamType
		StepResult     v1.ParamType
		NestedParam    v1.ParamType
		LeafParam      v1.ParamType
		FinallyParam   v1.ParamType
		WorkingDir     string
		Workspaces     []v1.WorkspaceBinding
	}
	ps := pr.Spec.PipelineSpec
	a := ps.Tasks[0].TaskSpec
	nested := ps.Tasks[1].PipelineSpec
	g := got{
		Timeouts:       pr.Spec.Timeouts,
		ServiceAccount: pr.Spec.TaskRunTemplate.ServiceAccountName,
		PipelineParam:  ps.Params[0].Type,
		PipelineResult: ps.Results[0].Type,
		TaskParam:      a.Params[0].Type,
		TaskParamProp:  a.Params[0].Properties["k"].Type,
		TaskResult:     a.Results[0].Type,
		ObjectResult:   a.Results[1].Type,
		ObjectProp:     a.Results[1].Properties["x"].Type,
		StepResult:     a.Steps[0].Results[0].Type,
		NestedParam:    nested.Params[0].Type,
		LeafParam:      nested.Tasks[0].TaskSpec.Params[0].Type,
		FinallyParam:   ps.Finally[0].TaskSpec.Params[0].Type,
		WorkingDir:     a.Steps[0].WorkingDir,
		Workspaces:     pr.Spec.Workspaces,
	}
	want := got{
		Timeouts:       &v1.TimeoutFields{Pipeline: duration(time.Hour)},
		ServiceAccount: "default",
		PipelineParam:  v1.ParamTypeArray,
		PipelineResult: v1.ParamTypeString,
		TaskParam:      v1.ParamTypeObject,
		TaskParamProp:  v1.ParamTypeString,
		TaskResult:     v1.ParamTypeString,
		ObjectResult:   v1.ParamTypeObject,
		ObjectProp:     v1.ParamTypeString,
		StepResult:     v1.ParamTypeString,
		NestedParam:    v1.ParamTypeString,
		LeafParam:      v1.ParamTypeObject,
		FinallyParam:   v1.ParamTypeString,
		WorkingDir:     "",
		Workspaces:     []v1.WorkspaceBinding{{Name: "ws", EmptyDir: pr.Spec.Workspaces[0].EmptyDir}},
	}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("defaulted PipelineRun (-want +got):\n%s", diff)
	}
}

func TestPipelineRunSetDefaultsTimeouts(t *testing.T) {
	tests := []struct {
		name string
		in   *v1.TimeoutFields
		want *v1.TimeoutFields
	}{
		{name: "unset", in: nil, want: &v1.TimeoutFields{Pipeline: duration(time.Hour)}},
		{
			name: "tasks only keeps tasks and does not set finally",
			in:   &v1.TimeoutFields{Tasks: duration(time.Minute)},
			want: &v1.TimeoutFields{Pipeline: duration(time.Hour), Tasks: duration(time.Minute)},
		},
		{
			name: "explicit zero pipeline stays zero",
			in:   &v1.TimeoutFields{Pipeline: duration(0)},
			want: &v1.TimeoutFields{Pipeline: duration(0)},
		},
		{
			name: "explicit pipeline kept",
			in:   &v1.TimeoutFields{Pipeline: duration(2 * time.Hour), Finally: duration(time.Minute)},
			want: &v1.TimeoutFields{Pipeline: duration(2 * time.Hour), Finally: duration(time.Minute)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pr := &v1.PipelineRun{Spec: v1.PipelineRunSpec{Timeouts: tc.in, TaskRunTemplate: v1.PipelineTaskRunTemplate{ServiceAccountName: "builder"}}}
			pr.SetDefaults()
			if diff := cmp.Diff(tc.want, pr.Spec.Timeouts); diff != "" {
				t.Errorf("timeouts (-want +got):\n%s", diff)
			}
			if got := pr.Spec.TaskRunTemplate.ServiceAccountName; got != "builder" {
				t.Errorf("serviceAccountName = %q, want builder kept", got)
			}
		})
	}
}

func TestTaskRunSetDefaults(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		wantTimeout *time.Duration
		wantSA      string
		wantParam   v1.ParamType
	}{
		{
			name: "unset",
			in: `
spec:
  taskSpec:
    params: [{name: p, default: [x]}]
    steps: [{image: alpine}]`,
			wantTimeout: ptr(time.Hour),
			wantSA:      "default",
			wantParam:   v1.ParamTypeArray,
		},
		{
			name: "set values kept",
			in: `
spec:
  timeout: 0s
  serviceAccountName: robot
  taskSpec:
    params: [{name: p, type: string}]
    steps: [{image: alpine}]`,
			wantTimeout: ptr(time.Duration(0)),
			wantSA:      "robot",
			wantParam:   v1.ParamTypeString,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tr v1.TaskRun
			if err := yaml.Unmarshal([]byte(tc.in), &tr); err != nil {
				t.Fatal(err)
			}
			tr.SetDefaults()
			if tr.Spec.Timeout == nil || tr.Spec.Timeout.Duration != *tc.wantTimeout {
				t.Errorf("timeout = %v, want %v", tr.Spec.Timeout, *tc.wantTimeout)
			}
			if tr.Spec.ServiceAccountName != tc.wantSA {
				t.Errorf("serviceAccountName = %q, want %q", tr.Spec.ServiceAccountName, tc.wantSA)
			}
			if got := tr.Spec.TaskSpec.Params[0].Type; got != tc.wantParam {
				t.Errorf("param type = %q, want %q", got, tc.wantParam)
			}
			if tr.Spec.TaskSpec.Steps[0].WorkingDir != "" {
				t.Errorf("workingDir = %q, want none", tr.Spec.TaskSpec.Steps[0].WorkingDir)
			}
		})
	}
}

func TestTaskSetDefaultsKeepsStepTemplateApart(t *testing.T) {
	var task v1.Task
	in := `
spec:
  stepTemplate:
    image: alpine
    env: [{name: A, value: "1"}]
  steps:
  - name: s
    script: echo`
	if err := yaml.Unmarshal([]byte(in), &task); err != nil {
		t.Fatal(err)
	}
	want := task.DeepCopy()
	task.SetDefaults()
	if diff := cmp.Diff(want, &task); diff != "" {
		t.Errorf("SetDefaults changed a task with nothing to default (-want +got):\n%s", diff)
	}
}

func TestSetDefaultsIdempotent(t *testing.T) {
	var pr v1.PipelineRun
	if err := yaml.Unmarshal([]byte(pipelineRunYAML), &pr); err != nil {
		t.Fatal(err)
	}
	pr.SetDefaults()
	once := pr.DeepCopy()
	pr.SetDefaults()
	if diff := cmp.Diff(once, &pr); diff != "" {
		t.Errorf("second SetDefaults changed the run (-once +twice):\n%s", diff)
	}

	p := &v1.Pipeline{Spec: *once.Spec.PipelineSpec}
	p.SetDefaults()
	if diff := cmp.Diff(once.Spec.PipelineSpec, &p.Spec); diff != "" {
		t.Errorf("Pipeline.SetDefaults changed a defaulted spec (-want +got):\n%s", diff)
	}
}

func duration(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func ptr[T any](v T) *T { return &v }
