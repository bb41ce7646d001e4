package validate_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/validate"
)

const apiObjects = `
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: build}
spec:
  params: [{name: image}]
  steps: [{image: alpine}]
---
apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: ci}
spec:
  params: [{name: image}]
  tasks:
  - name: build
    taskRef: {name: build}
    params: [{name: image, value: $(params.image)}]
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: missing-param}
spec:
  pipelineRef: {name: ci}
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: remote}
spec:
  pipelineRef: {resolver: git}
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: ok}
spec:
  taskRef: {name: build}
  params: [{name: image, value: x}]
`

func TestPerObjectValidators(t *testing.T) {
	set, err := load.Bytes("objects.yaml", []byte(apiObjects))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		got         validate.List
		want        []string
		wantReasons []string
	}{
		{
			name:        "PipelineRun missing a param",
			got:         validate.PipelineRun(set.PipelineRuns[0], set),
			want:        []string{`PipelineRun "missing-param": spec.params: Required value: Pipeline "ci" param "image" has no default and no value is given [ParameterMissing]`},
			wantReasons: []string{"ParameterMissing"},
		},
		{
			name:        "PipelineRun through a remote resolver",
			got:         validate.PipelineRun(set.PipelineRuns[1], set),
			want:        []string{`PipelineRun "remote": spec.pipelineRef: Forbidden: resolver "git" needs network access, which colo run does not use [CouldntGetPipeline]`},
			wantReasons: []string{"CouldntGetPipeline"},
		},
		{
			name: "valid TaskRun",
			got:  validate.TaskRun(set.TaskRuns[0], set),
		},
		{
			name: "Pipeline without a resolver does not follow references",
			got:  validate.Pipeline(set.Pipelines["ci"], nil),
		},
		{
			name:        "Task alone",
			got:         validate.Task(set.Tasks["build"], nil),
			want:        nil,
			wantReasons: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got, reasons []string
			for _, e := range tc.got {
				got = append(got, e.Error())
				reasons = append(reasons, e.UpstreamReason())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantReasons, reasons); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunReportsFilesAndCauses(t *testing.T) {
	set, err := load.Bytes("objects.yaml", []byte(apiObjects))
	if err != nil {
		t.Fatal(err)
	}
	l := validate.Run(set)
	want := []string{
		`objects.yaml: PipelineRun "missing-param": spec.params: Required value: Pipeline "ci" param "image" has no default and no value is given [ParameterMissing]`,
		`objects.yaml: PipelineRun "remote": spec.pipelineRef: Forbidden: resolver "git" needs network access, which colo run does not use [CouldntGetPipeline]`,
	}
	if diff := cmp.Diff(want, lines(l)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	var re *load.ResolverError
	if !errors.As(l[1], &re) || re.Resolver != "git" {
		t.Errorf("second problem does not wrap the resolver error: %#v", l[1].Cause)
	}
	if got := l.FieldErrors()[0].Field; got != "spec.params" {
		t.Errorf("field path = %q, want spec.params", got)
	}
}

func TestReason(t *testing.T) {
	set, err := load.Bytes("objects.yaml", []byte(apiObjects))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "list: first problem's reason", err: validate.Run(set).Err(), want: "ParameterMissing"},
		{name: "wrapped", err: errorsJoin(validate.Run(set)[1]), want: "CouldntGetPipeline"},
		{
			name: "generic reason for a pipeline problem",
			err:  &validate.Error{Kind: "Pipeline", Name: "p"},
			want: "PipelineValidationFailed",
		},
		{
			name: "generic reason for a task problem",
			err:  &validate.Error{Kind: "Task", Name: "t"},
			want: "TaskRunValidationFailed",
		},
		{name: "not a validation error", err: errors.New("boom"), want: ""},
		{name: "empty list is no error", err: validate.List(nil).Err(), want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := validate.Reason(tc.err); got != tc.want {
				t.Errorf("Reason = %q, want %q", got, tc.want)
			}
		})
	}
}

func errorsJoin(e error) error { return errors.Join(errors.New("context"), e) }
