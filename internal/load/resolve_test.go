package load_test

import (
	"errors"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/load"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// The Set answers the engine's reference lookups.
var _ engine.Refs = (*load.Set)(nil)

const refObjects = `
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: build}
spec: {steps: [{image: alpine}]}
---
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: elsewhere, namespace: other}
spec: {steps: [{image: alpine}]}
---
apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: ci}
spec: {tasks: [{name: a, taskRef: {name: build}}]}
---
apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata: {name: act}
spec: {image: alpine}
`

func TestResolveTask(t *testing.T) {
	s, err := load.Bytes("refs.yaml", []byte(refObjects))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		ref      string
		wantTask string
		wantErr  string
	}{
		{name: "by name", ref: `{name: build}`, wantTask: "build"},
		{name: "missing by name", ref: `{name: nope}`, wantErr: `Task "nope" not found`},
		{name: "neither name nor resolver", ref: `{}`, wantErr: "the reference has neither a name nor a resolver"},
		{
			name:     "cluster resolver",
			ref:      `{resolver: cluster, params: [{name: kind, value: task}, {name: name, value: build}, {name: namespace, value: default}]}`,
			wantTask: "build",
		},
		{
			name:     "cluster resolver without kind means a task",
			ref:      `{resolver: cluster, params: [{name: name, value: elsewhere}]}`,
			wantTask: "elsewhere",
		},
		{
			name:    "cluster resolver in another namespace",
			ref:     `{resolver: cluster, params: [{name: name, value: build}, {name: namespace, value: prod}]}`,
			wantErr: `Task "build" in namespace "prod" not found`,
		},
		{
			name:    "cluster resolver asked for another kind",
			ref:     `{resolver: cluster, params: [{name: kind, value: pipeline}, {name: name, value: ci}]}`,
			wantErr: `cluster resolver kind "pipeline": want "task" here`,
		},
		{
			name:    "cluster resolver without a name",
			ref:     `{resolver: cluster, params: [{name: kind, value: task}]}`,
			wantErr: `cluster resolver needs a "name" param`,
		},
		{
			name:    "remote resolver",
			ref:     `{resolver: http, params: [{name: url, value: "https://example.com/t.yaml"}]}`,
			wantErr: `resolver "http" needs network access, which colo run does not use`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ref v1.TaskRef
			if err := yaml.UnmarshalStrict([]byte(tc.ref), &ref); err != nil {
				t.Fatal(err)
			}
			task, err := s.ResolveTask(&ref)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tc.wantErr {
				t.Errorf("error = %q, want %q", gotErr, tc.wantErr)
			}
			gotTask := ""
			if task != nil {
				gotTask = task.Name
			}
			if gotTask != tc.wantTask {
				t.Errorf("task = %q, want %q", gotTask, tc.wantTask)
			}
		})
	}
}

func TestResolvePipelineAndStepAction(t *testing.T) {
	s, err := load.Bytes("refs.yaml", []byte(refObjects))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.ResolvePipeline(&v1.PipelineRef{Name: "ci"}); err != nil || p.Name != "ci" {
		t.Errorf("ResolvePipeline(ci) = %v, %v", p, err)
	}
	cluster := v1.ResolverRef{Resolver: "cluster", Params: v1.Params{
		{Name: "kind", Value: v1.NewString("pipeline")}, {Name: "name", Value: v1.NewString("ci")},
	}}
	if p, err := s.ResolvePipeline(&v1.PipelineRef{ResolverRef: cluster}); err != nil || p.Name != "ci" {
		t.Errorf("ResolvePipeline(cluster ci) = %v, %v", p, err)
	}
	_, err = s.ResolvePipeline(&v1.PipelineRef{ResolverRef: v1.ResolverRef{Resolver: "git"}})
	var re *load.ResolverError
	if !errors.As(err, &re) || re.Resolver != "git" {
		t.Errorf("ResolvePipeline(git) error = %v, want a ResolverError for git", err)
	}
	if a, err := s.ResolveStepAction(&v1.Ref{Name: "act"}); err != nil || a.Name != "act" {
		t.Errorf("ResolveStepAction(act) = %v, %v", a, err)
	}
	_, err = s.ResolveStepAction(&v1.Ref{Name: "nope"})
	var nf *load.NotFoundError
	if !errors.As(err, &nf) || nf.Kind != "StepAction" || nf.Name != "nope" {
		t.Errorf("ResolveStepAction(nope) error = %v, want NotFoundError", err)
	}
	if _, ok := s.Task("build"); !ok {
		t.Errorf("Task(build) not found")
	}
	if _, ok := s.Pipeline("nope"); ok {
		t.Errorf("Pipeline(nope) found")
	}
}
