package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// startedAttempts returns the StartAttempt of each TaskRun's first attempt.
func startedAttempts(x *sim) map[string]StartAttempt {
	out := map[string]StartAttempt{}
	for _, a := range x.started {
		if s, ok := a.(StartAttempt); ok {
			if _, seen := out[s.ID.TaskRun]; !seen {
				out[s.ID.TaskRun] = s
			}
		}
	}
	return out
}

func TestPipelineWorkspaces(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: uses-src}
spec:
  workspaces: [{name: src, readOnly: true}, {name: cache, optional: true, mountPath: /cache}]
  steps: [{name: s, image: x, args: ["$(workspaces.src.path)", "$(workspaces.cache.bound)"]}]
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: dir, value: sub}]
  workspaces:
  - {name: shared, subPath: base, emptyDir: {}}
  - {name: other, configMap: {name: cm}}
  pipelineSpec:
    params: [{name: dir}]
    workspaces: [{name: shared}, {name: other}, {name: unbound, optional: true}]
    tasks:
    - name: ref
      taskRef: {name: uses-src}
      workspaces: [{name: src, workspace: shared, subPath: $(params.dir)}]
    - name: inline
      taskSpec:
        steps: [{name: s, image: x, args: ["$(workspaces.other.path)", "$(workspaces.unbound.bound)"]}]
`, Options{})
	x := run(t, e, script{})
	atts := startedAttempts(x)
	want := []Workspace{
		{Name: "src", MountPath: "/workspace/src", ReadOnly: true, Source: "shared",
			Binding: &v1.WorkspaceBinding{Name: "src", SubPath: "base/sub", EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "cache", MountPath: "/cache"},
	}
	if diff := cmp.Diff(want, atts["pr-ref"].Workspaces); diff != "" {
		t.Errorf("workspaces of pr-ref (-want +got):\n%s", diff)
	}
	wantInline := []Workspace{
		{Name: "other", MountPath: "/workspace/other", Source: "other",
			Binding: &v1.WorkspaceBinding{Name: "other", ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}},
	}
	if diff := cmp.Diff(wantInline, atts["pr-inline"].Workspaces); diff != "" {
		t.Errorf("workspaces of pr-inline (-want +got):\n%s", diff)
	}
	steps := startedSteps(x)
	if diff := cmp.Diff([]string{"/workspace/src", "false"}, steps["pr-ref/step-s"].Args); diff != "" {
		t.Errorf("pr-ref args (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/workspace/other", "false"}, steps["pr-inline/step-s"].Args); diff != "" {
		t.Errorf("pr-inline args (-want +got):\n%s", diff)
	}
}
