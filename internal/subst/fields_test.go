package subst

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// fieldValues is a scope where $(params.p) is "P", $(params.arr) is
// [a1 a2] and object $(params.o) has key k = "K".
func fieldValues() *Values {
	v := NewValues()
	v.Strings["params.p"] = "P"
	v.Strings["workspaces.src.path"] = "/ws/src"
	v.Arrays["params.arr"] = []string{"a1", "a2"}
	v.Objects["params.o"] = map[string]string{"k": "K"}
	return v
}

func TestApplyStep(t *testing.T) {
	in := v1.Step{
		Name:            "build-$(params.p)",
		DisplayName:     "Build $(params.p)",
		Image:           "img:$(params.o.k)",
		ImagePullPolicy: "$(params.p)",
		Command:         []string{"run", "$(params.arr[*])"},
		Args:            []string{"--x=$(params.arr[1])", "$(params['arr'][*])", "--all=$(params.arr[*])"},
		WorkingDir:      "$(workspaces.src.path)/sub",
		Env: []corev1.EnvVar{
			{Name: "N_$(params.p)", Value: "$(params.p) $(unknown)"},
			{Name: "S", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "sec-$(params.p)"}, Key: "key-$(params.p)"}}},
			{Name: "C", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "cm-$(params.p)"}, Key: "key-$(params.p)"}}},
			{Name: "F", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.$(params.p)"}}},
		},
		EnvFrom: []corev1.EnvFromSource{
			{Prefix: "$(params.p)_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm-$(params.p)"}}},
			{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec-$(params.p)"}}},
		},
		VolumeMounts: []corev1.VolumeMount{{Name: "v-$(params.p)", MountPath: "/m/$(params.p)", SubPath: "s/$(params.p)"}},
		Script:       "#!/bin/sh\necho $(params.p) $(params.arr[0]) $(params.arr[*]) $(date)\n",
		OnError:      "$(params.p)",
		StdoutConfig: &v1.StepOutputConfig{Path: "/out/$(params.p)"},
		StderrConfig: &v1.StepOutputConfig{Path: "/err/$(params.p)"},
		When: v1.WhenExpressions{
			{Input: "$(params.p)", Operator: v1.WhenIn, Values: []string{"$(params.arr[*])", "x$(params.p)"}},
			{CEL: "'$(params.p)' == 'P'"},
		},
		Params:          v1.Params{{Name: "a", Value: v1.NewString("$(params.arr[*])")}, {Name: "s", Value: v1.NewString("$(params.p)")}},
		Ref:             &v1.Ref{Name: "action-$(params.p)"},
		Workspaces:      []v1.WorkspaceUsage{{Name: "src", MountPath: "/w/$(params.p)"}},
		SecurityContext: &corev1.SecurityContext{RunAsUser: nil},
	}
	want := v1.Step{
		Name:            "build-P",
		DisplayName:     "Build P",
		Image:           "img:K",
		ImagePullPolicy: "P",
		Command:         []string{"run", "a1", "a2"},
		Args:            []string{"--x=a2", "a1", "a2", "--all=$(params.arr[*])"},
		WorkingDir:      "/ws/src/sub",
		Env: []corev1.EnvVar{
			{Name: "N_P", Value: "P $(unknown)"},
			{Name: "S", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "sec-P"}, Key: "key-P"}}},
			{Name: "C", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "cm-P"}, Key: "key-P"}}},
			{Name: "F", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.$(params.p)"}}},
		},
		EnvFrom: []corev1.EnvFromSource{
			{Prefix: "P_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm-P"}}},
			{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec-P"}}},
		},
		VolumeMounts: []corev1.VolumeMount{{Name: "v-P", MountPath: "/m/P", SubPath: "s/P"}},
		Script:       "#!/bin/sh\necho P a1 $(params.arr[*]) $(date)\n",
		OnError:      "P",
		StdoutConfig: &v1.StepOutputConfig{Path: "/out/P"},
		StderrConfig: &v1.StepOutputConfig{Path: "/err/P"},
		When: v1.WhenExpressions{
			{Input: "P", Operator: v1.WhenIn, Values: []string{"a1", "a2", "xP"}},
			{CEL: "'P' == 'P'"},
		},
		Params:          v1.Params{{Name: "a", Value: v1.NewArray("a1", "a2")}, {Name: "s", Value: v1.NewString("P")}},
		Ref:             &v1.Ref{Name: "action-P"},
		Workspaces:      []v1.WorkspaceUsage{{Name: "src", MountPath: "/w/P"}},
		SecurityContext: &corev1.SecurityContext{RunAsUser: nil},
	}
	got := in
	fieldValues().ApplyStep(&got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ApplyStep mismatch (-want +got):\n%s", diff)
	}
}

func TestApplyTask(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	in := v1.TaskSpec{
		Description: "uses $(params.p)",
		Params:      v1.ParamSpecs{{Name: "p", Default: &v1.ParamValue{Type: v1.ParamTypeString, StringVal: "$(params.p)"}}},
		Steps: []v1.Step{
			{Name: "one", Image: "$(params.p)", Args: []string{"$(params.arr[*])"}},
			{Name: "two", Script: "echo $(params.o.k)"},
		},
		StepTemplate: &v1.StepTemplate{
			Image:           "tmpl:$(params.p)",
			ImagePullPolicy: "$(params.p)",
			Command:         []string{"$(params.arr[*])"},
			Args:            []string{"-$(params.p)"},
			WorkingDir:      "/$(params.p)",
			Env:             []corev1.EnvVar{{Name: "E", Value: "$(params.p)"}},
			EnvFrom:         []corev1.EnvFromSource{{Prefix: "$(params.p)"}},
			VolumeMounts:    []corev1.VolumeMount{{Name: "m", MountPath: "/$(params.p)"}},
		},
		Sidecars: []v1.Sidecar{{
			Name:            "side-$(params.p)",
			Image:           "$(params.p)",
			ImagePullPolicy: "$(params.p)",
			Command:         []string{"$(params.arr[*])"},
			Args:            []string{"$(params.p)"},
			WorkingDir:      "/$(params.p)",
			Env:             []corev1.EnvVar{{Name: "E", Value: "$(params.p)"}},
			EnvFrom:         []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "$(params.p)"}}}},
			VolumeMounts:    []corev1.VolumeMount{{Name: "m", MountPath: "/$(params.p)"}},
			Script:          "echo $(params.p)",
			Workspaces:      []v1.WorkspaceUsage{{Name: "w", MountPath: "/$(params.p)"}},
			ReadinessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"$(params.p)"}}}},
			RestartPolicy:   &always,
		}},
		Volumes: []corev1.Volume{
			{Name: "cm-$(params.p)", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "$(params.p)"},
				Items:                []corev1.KeyToPath{{Key: "$(params.p)", Path: "p/$(params.p)"}}}}},
			{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: "$(params.p)", Items: []corev1.KeyToPath{{Key: "$(params.p)", Path: "$(params.p)"}}}}},
			{Name: "pvc", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "$(params.p)"}}},
			{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "$(params.p)"}}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "$(params.p)"}, Items: []corev1.KeyToPath{{Key: "$(params.p)"}}}},
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Audience: "$(params.p)", Path: "$(params.p)"}},
			}}}},
			{Name: "csi", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{
				Driver:               "$(params.p)",
				NodePublishSecretRef: &corev1.LocalObjectReference{Name: "$(params.p)"},
				VolumeAttributes:     map[string]string{"a": "$(params.p)"}}}},
			{Name: "empty", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		},
		Workspaces: []v1.WorkspaceDeclaration{{Name: "w", MountPath: "/ws/$(params.p)", Description: "$(params.p)"}},
		Results:    []v1.TaskResult{{Name: "r", Description: "$(params.p)"}},
	}
	want := v1.TaskSpec{
		Description: "uses $(params.p)",
		Params:      v1.ParamSpecs{{Name: "p", Default: &v1.ParamValue{Type: v1.ParamTypeString, StringVal: "$(params.p)"}}},
		Steps: []v1.Step{
			{Name: "one", Image: "P", Args: []string{"a1", "a2"}},
			{Name: "two", Script: "echo K"},
		},
		StepTemplate: &v1.StepTemplate{
			Image:           "tmpl:P",
			ImagePullPolicy: "P",
			Command:         []string{"a1", "a2"},
			Args:            []string{"-P"},
			WorkingDir:      "/P",
			Env:             []corev1.EnvVar{{Name: "E", Value: "P"}},
			EnvFrom:         []corev1.EnvFromSource{{Prefix: "P"}},
			VolumeMounts:    []corev1.VolumeMount{{Name: "m", MountPath: "/P"}},
		},
		Sidecars: []v1.Sidecar{{
			Name:            "side-P",
			Image:           "P",
			ImagePullPolicy: "P",
			Command:         []string{"a1", "a2"},
			Args:            []string{"P"},
			WorkingDir:      "/P",
			Env:             []corev1.EnvVar{{Name: "E", Value: "P"}},
			EnvFrom:         []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "P"}}}},
			VolumeMounts:    []corev1.VolumeMount{{Name: "m", MountPath: "/P"}},
			Script:          "echo P",
			Workspaces:      []v1.WorkspaceUsage{{Name: "w", MountPath: "/P"}},
			ReadinessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"$(params.p)"}}}},
			RestartPolicy:   &always,
		}},
		Volumes: []corev1.Volume{
			{Name: "cm-P", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "P"},
				Items:                []corev1.KeyToPath{{Key: "P", Path: "p/P"}}}}},
			{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: "P", Items: []corev1.KeyToPath{{Key: "P", Path: "P"}}}}},
			{Name: "pvc", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "P"}}},
			{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "P"}}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "P"}, Items: []corev1.KeyToPath{{Key: "P"}}}},
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Audience: "P", Path: "$(params.p)"}},
			}}}},
			{Name: "csi", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{
				Driver:               "$(params.p)",
				NodePublishSecretRef: &corev1.LocalObjectReference{Name: "P"},
				VolumeAttributes:     map[string]string{"a": "P"}}}},
			{Name: "empty", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		},
		Workspaces: []v1.WorkspaceDeclaration{{Name: "w", MountPath: "/ws/P", Description: "$(params.p)"}},
		Results:    []v1.TaskResult{{Name: "r", Description: "$(params.p)"}},
	}
	got := in
	fieldValues().ApplyTask(&got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ApplyTask mismatch (-want +got):\n%s", diff)
	}
}

func TestApplyNilTargets(t *testing.T) {
	v := fieldValues()
	// None of these may panic.
	v.ApplyTask(nil)
	v.ApplyStep(nil)
	v.ApplyPipelineTask(nil)
	var nv *Values
	st := v1.Step{Image: "$(params.p)", Args: []string{"$(params.arr[*])"}}
	nv.ApplyStep(&st)
	if diff := cmp.Diff(v1.Step{Image: "$(params.p)", Args: []string{"$(params.arr[*])"}}, st); diff != "" {
		t.Errorf("ApplyStep with nil Values changed the step (-want +got):\n%s", diff)
	}
}

func TestApplyPipelineTask(t *testing.T) {
	in := v1.PipelineTask{
		Name:        "t-$(params.p)",
		DisplayName: "Task $(params.p) on $(params.o.k)",
		Description: "$(params.p)",
		TaskRef: &v1.TaskRef{Name: "task-$(params.p)", ResolverRef: v1.ResolverRef{
			Resolver: "git", Params: v1.Params{{Name: "url", Value: v1.NewString("$(params.p)")}}}},
		Params: v1.Params{
			{Name: "s", Value: v1.NewString("$(params.p)")},
			{Name: "a", Value: v1.NewString("$(params.arr[*])")},
			{Name: "o", Value: v1.NewString("$(params.o[*])")},
			{Name: "list", Value: v1.NewArray("$(params.p)", "$(params.arr[*])")},
		},
		Matrix: &v1.Matrix{
			Params:  v1.Params{{Name: "m", Value: v1.NewString("$(params.arr[*])")}},
			Include: []v1.IncludeParams{{Name: "inc-$(params.p)", Params: v1.Params{{Name: "i", Value: v1.NewString("$(params.p)")}}}},
		},
		When: v1.WhenExpressions{
			{Input: "$(params.p)", Operator: v1.WhenIn, Values: []string{"$(params.arr[*])"}},
			{Input: "$(params.arr[*])", Operator: v1.WhenIn, Values: []string{`["a1","a2"]`}},
			{CEL: "'$(params.p)' != ''"},
		},
		OnError:    "$(params.p)",
		RunAfter:   []string{"$(params.p)"},
		Workspaces: []v1.WorkspacePipelineTaskBinding{{Name: "w", Workspace: "$(params.p)", SubPath: "dir/$(params.p)"}},
	}
	want := v1.PipelineTask{
		Name:        "t-$(params.p)",
		DisplayName: "Task P on K",
		Description: "$(params.p)",
		TaskRef: &v1.TaskRef{Name: "task-P", ResolverRef: v1.ResolverRef{
			Resolver: "git", Params: v1.Params{{Name: "url", Value: v1.NewString("P")}}}},
		Params: v1.Params{
			{Name: "s", Value: v1.NewString("P")},
			{Name: "a", Value: v1.NewArray("a1", "a2")},
			{Name: "o", Value: v1.NewObject(map[string]string{"k": "K"})},
			{Name: "list", Value: v1.NewArray("P", "a1", "a2")},
		},
		Matrix: &v1.Matrix{
			Params:  v1.Params{{Name: "m", Value: v1.NewArray("a1", "a2")}},
			Include: []v1.IncludeParams{{Name: "inc-P", Params: v1.Params{{Name: "i", Value: v1.NewString("P")}}}},
		},
		When: v1.WhenExpressions{
			{Input: "P", Operator: v1.WhenIn, Values: []string{"a1", "a2"}},
			{Input: `["a1","a2"]`, Operator: v1.WhenIn, Values: []string{`["a1","a2"]`}},
			{CEL: "'P' != ''"},
		},
		OnError:    "P",
		RunAfter:   []string{"$(params.p)"},
		Workspaces: []v1.WorkspacePipelineTaskBinding{{Name: "w", Workspace: "$(params.p)", SubPath: "dir/P"}},
	}
	got := in
	fieldValues().ApplyPipelineTask(&got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ApplyPipelineTask mismatch (-want +got):\n%s", diff)
	}
}

func TestApplyPipelineRef(t *testing.T) {
	got := v1.PipelineTask{PipelineRef: &v1.PipelineRef{Name: "p-$(params.p)", ResolverRef: v1.ResolverRef{
		Params: v1.Params{{Name: "x", Value: v1.NewString("$(params.p)")}}}}}
	want := v1.PipelineTask{PipelineRef: &v1.PipelineRef{Name: "p-P", ResolverRef: v1.ResolverRef{
		Params: v1.Params{{Name: "x", Value: v1.NewString("P")}}}}}
	fieldValues().ApplyPipelineTask(&got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ApplyPipelineTask mismatch (-want +got):\n%s", diff)
	}
}

// TestApplyPipelineThenTaskScope follows an embedded taskSpec through both
// scopes: pipeline values first, then the TaskRun's own, as the engine
// applies them.
func TestApplyPipelineThenTaskScope(t *testing.T) {
	pipeline := NewValues()
	pipeline.Strings["params.repo"] = "https://example.com/r.git"
	pipeline.Strings["tasks.fetch.results.commit"] = "abc123"
	pipeline.Arrays["params.flags"] = []string{"-v", "-x"}
	pipeline.Objects["params.git"] = map[string]string{"url": "outer-url", "commit": "outer-commit"}

	task := NewValues()
	task.Strings["params.msg"] = "hello"
	task.Strings["context.taskRun.name"] = "pr-build"
	task.Strings["results.out.path"] = "/tekton/results/out"
	task.Strings["workspaces.src.path"] = "/workspace/src"
	task.Strings["params.msg"] = "built abc123"
	task.Objects["params.git"] = map[string]string{"url": "inner-url", "branch": "dev"}

	pt := v1.PipelineTask{
		Name: "build",
		Params: v1.Params{
			{Name: "msg", Value: v1.NewString("built $(tasks.fetch.results.commit)")},
			{Name: "git", Value: v1.NewObject(map[string]string{"url": "inner-url", "branch": "dev"})},
		},
		TaskSpec: &v1.EmbeddedTask{TaskSpec: v1.TaskSpec{
			Steps: []v1.Step{{
				Name:       "s",
				Image:      "alpine",
				WorkingDir: "$(workspaces.src.path)",
				Args:       []string{"$(params.flags[*])", "$(params.repo)", "$(params.msg)", "$(steps.prev.results.r)"},
				Script:     "echo $(params.git.commit) $(params.git.url) > $(results.out.path)\necho $(context.taskRun.name) $(echo $(params.msg))",
			}},
		}},
	}
	pipeline.ApplyPipelineTask(&pt)
	if diff := cmp.Diff(v1.NewString("built abc123"), pt.Params[0].Value); diff != "" {
		t.Errorf("pipeline-scope param mismatch (-want +got):\n%s", diff)
	}
	task.ApplyTask(&pt.TaskSpec.TaskSpec)

	want := v1.Step{
		Name:       "s",
		Image:      "alpine",
		WorkingDir: "/workspace/src",
		Args:       []string{"-v", "-x", "https://example.com/r.git", "built abc123", "$(steps.prev.results.r)"},
		Script:     "echo outer-commit inner-url > /tekton/results/out\necho pr-build $(echo built abc123)",
	}
	if diff := cmp.Diff(want, pt.TaskSpec.Steps[0]); diff != "" {
		t.Errorf("step after both scopes mismatch (-want +got):\n%s", diff)
	}
}

func TestApplyPipelineTaskInnerScopeWins(t *testing.T) {
	pipelineValues := func() *Values {
		v := NewValues()
		v.Strings["params.repo"] = "outer-repo"
		v.Strings["params.platform"] = "outer-platform"
		v.Arrays["params.flags"] = []string{"-outer"}
		v.Objects["params.git"] = map[string]string{"url": "outer-url", "commit": "outer-commit"}
		return v
	}
	tests := []struct {
		name   string
		params v1.Params
		matrix *v1.Matrix
		args   []string
		want   []string
	}{
		{
			name: "no PipelineTask params",
			args: []string{"$(params.repo)", "$(params.flags[*])", "$(params.git.url)"},
			want: []string{"outer-repo", "-outer", "outer-url"},
		},
		{
			name:   "string param shadows",
			params: v1.Params{{Name: "repo", Value: v1.NewString("inner-$(params.repo)")}},
			args:   []string{"$(params.repo)"},
			want:   []string{"inner-outer-repo"},
		},
		{
			name:   "array param shadows a string",
			params: v1.Params{{Name: "repo", Value: v1.NewArray("r1", "r2")}},
			args:   []string{"$(params.repo[*])", "$(params.repo)"},
			want:   []string{"r1", "r2", "r1", "r2"},
		},
		{
			name:   "object keys merge, inner wins",
			params: v1.Params{{Name: "git", Value: v1.NewObject(map[string]string{"url": "xyz", "branch": "b"})}},
			args:   []string{"$(params.git.url)", "$(params.git.commit)", "$(params.git.branch)"},
			want:   []string{"xyz", "outer-commit", "b"},
		},
		{
			name:   "param unknown to the pipeline is left for task scope",
			params: v1.Params{{Name: "msg", Value: v1.NewString("hi")}},
			args:   []string{"$(params.msg)", "$(params.repo)"},
			want:   []string{"$(params.msg)", "outer-repo"},
		},
		{
			name: "matrix and include params are left for task scope",
			matrix: &v1.Matrix{
				Params:  v1.Params{{Name: "platform", Value: v1.NewArray("linux", "mac")}},
				Include: []v1.IncludeParams{{Params: v1.Params{{Name: "repo", Value: v1.NewString("r")}}}},
			},
			args: []string{"$(params.platform)", "$(params.repo)", "$(params.git.url)"},
			want: []string{"$(params.platform)", "$(params.repo)", "outer-url"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := pipelineValues()
			pt := v1.PipelineTask{
				Name:     "t",
				Params:   tc.params,
				Matrix:   tc.matrix,
				TaskSpec: &v1.EmbeddedTask{TaskSpec: v1.TaskSpec{Steps: []v1.Step{{Image: "alpine", Args: tc.args}}}},
			}
			v.ApplyPipelineTask(&pt)
			if diff := cmp.Diff(tc.want, pt.TaskSpec.Steps[0].Args); diff != "" {
				t.Errorf("embedded step args mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(pipelineValues(), v); diff != "" {
				t.Errorf("ApplyPipelineTask changed its Values (-want +got):\n%s", diff)
			}
		})
	}
}
