package subst

import (
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// ApplyTask substitutes, in place, every field upstream substitutes at task
// scope: each step and sidecar (name, image, command, args, workingDir,
// env and envFrom names and refs, volumeMounts, script, onError,
// stdoutConfig/stderrConfig paths, when), the stepTemplate, volume source
// names, workspace mountPaths and step params.
//
// Fields it does not know (descriptions, params' defaults, results,
// resources, security contexts, probes) are left alone. It may be called
// again with the values of an inner scope: what the first call left as
// written, the second can fill in.
func (v *Values) ApplyTask(ts *v1.TaskSpec) {
	if ts == nil {
		return
	}
	for i := range ts.Steps {
		v.ApplyStep(&ts.Steps[i])
	}
	if t := ts.StepTemplate; t != nil {
		t.Image = v.Apply(t.Image)
		t.ImagePullPolicy = corev1.PullPolicy(v.Apply(string(t.ImagePullPolicy)))
		t.Command = v.ApplyArgs(t.Command)
		t.Args = v.ApplyArgs(t.Args)
		t.WorkingDir = v.Apply(t.WorkingDir)
		v.applyEnv(t.Env)
		v.applyEnvFrom(t.EnvFrom)
		v.applyVolumeMounts(t.VolumeMounts)
	}
	for i := range ts.Sidecars {
		v.applySidecar(&ts.Sidecars[i])
	}
	for i := range ts.Volumes {
		v.applyVolume(&ts.Volumes[i])
	}
	for i := range ts.Workspaces {
		ts.Workspaces[i].MountPath = v.Apply(ts.Workspaces[i].MountPath)
	}
}

// ApplyStep substitutes one step's fields in place (the same fields TaskSpec
// substitutes in each step): name, displayName, image, imagePullPolicy,
// command and args (an isolated $(key[*]) expands), workingDir, env,
// envFrom, volumeMounts, script, onError, stdoutConfig and stderrConfig
// paths, when, params, ref (name and resolver params) and workspace
// mountPaths.
func (v *Values) ApplyStep(s *v1.Step) {
	if s == nil {
		return
	}
	s.Name = v.Apply(s.Name)
	s.DisplayName = v.Apply(s.DisplayName)
	s.Image = v.Apply(s.Image)
	s.ImagePullPolicy = corev1.PullPolicy(v.Apply(string(s.ImagePullPolicy)))
	s.Command = v.ApplyArgs(s.Command)
	s.Args = v.ApplyArgs(s.Args)
	s.WorkingDir = v.Apply(s.WorkingDir)
	v.applyEnv(s.Env)
	v.applyEnvFrom(s.EnvFrom)
	v.applyVolumeMounts(s.VolumeMounts)
	s.Script = v.Apply(s.Script)
	s.OnError = v1.OnErrorType(v.Apply(string(s.OnError)))
	if s.StdoutConfig != nil {
		s.StdoutConfig.Path = v.Apply(s.StdoutConfig.Path)
	}
	if s.StderrConfig != nil {
		s.StderrConfig.Path = v.Apply(s.StderrConfig.Path)
	}
	v.applyWhen(s.When)
	v.applyParams(s.Params)
	if s.Ref != nil {
		s.Ref.Name = v.Apply(s.Ref.Name)
		v.applyParams(s.Ref.Params)
	}
	v.applyWorkspaceUsages(s.Workspaces)
}

// applySidecar substitutes a sidecar's container fields, script and
// workspace mountPaths.
func (v *Values) applySidecar(s *v1.Sidecar) {
	s.Name = v.Apply(s.Name)
	s.Image = v.Apply(s.Image)
	s.ImagePullPolicy = corev1.PullPolicy(v.Apply(string(s.ImagePullPolicy)))
	s.Command = v.ApplyArgs(s.Command)
	s.Args = v.ApplyArgs(s.Args)
	s.WorkingDir = v.Apply(s.WorkingDir)
	v.applyEnv(s.Env)
	v.applyEnvFrom(s.EnvFrom)
	v.applyVolumeMounts(s.VolumeMounts)
	s.Script = v.Apply(s.Script)
	v.applyWorkspaceUsages(s.Workspaces)
}

// ApplyPipelineTask substitutes, in place, what upstream substitutes at pipeline
// scope: params, matrix params and include (names and params), when (input,
// values, cel), displayName, workspace subPaths, taskRef name and params,
// pipelineRef name and params, onError, and the embedded taskSpec (its
// fields as ApplyTask does).
//
// A when input that is exactly one $(key[*]) of an array becomes the
// array's JSON text; a when value that is exactly one expands in place.
//
// In the embedded taskSpec the inner scope wins: a pipeline value named
// params.<p> is replaced by the PipelineTask's own param <p> (for objects,
// key by key, so keys only the pipeline's object has still resolve), and
// references to matrix and include params stay as written for task scope.
func (v *Values) ApplyPipelineTask(pt *v1.PipelineTask) {
	if pt == nil {
		return
	}
	v.applyParams(pt.Params)
	if m := pt.Matrix; m != nil {
		v.applyParams(m.Params)
		for i := range m.Include {
			m.Include[i].Name = v.Apply(m.Include[i].Name)
			v.applyParams(m.Include[i].Params)
		}
	}
	v.applyWhen(pt.When)
	pt.DisplayName = v.Apply(pt.DisplayName)
	for i := range pt.Workspaces {
		pt.Workspaces[i].SubPath = v.Apply(pt.Workspaces[i].SubPath)
	}
	if r := pt.TaskRef; r != nil {
		r.Name = v.Apply(r.Name)
		v.applyParams(r.Params)
	}
	if r := pt.PipelineRef; r != nil {
		r.Name = v.Apply(r.Name)
		v.applyParams(r.Params)
	}
	pt.OnError = v1.PipelineTaskOnErrorType(v.Apply(string(pt.OnError)))
	if pt.TaskSpec != nil {
		v.shadow(pt).ApplyTask(&pt.TaskSpec.TaskSpec)
	}
}

// shadow returns the values an embedded taskSpec sees at pipeline scope:
// the inner scope wins, so a PipelineTask param named like a pipeline param
// (call ApplyPipelineTask's params substitution first) replaces it. For an
// object, the PipelineTask's object is the whole value and its keys win,
// while keys only the pipeline's object has still resolve through
// $(params.o.k). Matrix and include params are left for task scope
// (their value differs per run), so references to them stay as written.
func (v *Values) shadow(pt *v1.PipelineTask) *Values {
	if v == nil {
		return nil
	}
	has := func(key string) bool {
		_, s := v.Strings[key]
		_, a := v.Arrays[key]
		_, o := v.Objects[key]
		return s || a || o
	}
	var inner v1.Params
	for _, p := range pt.Params {
		if has("params." + p.Name) {
			inner = append(inner, p)
		}
	}
	var deferred []string
	if m := pt.Matrix; m != nil {
		for _, p := range m.Params {
			deferred = append(deferred, p.Name)
		}
		for _, inc := range m.Include {
			for _, p := range inc.Params {
				deferred = append(deferred, p.Name)
			}
		}
	}
	changed := false
	for _, name := range deferred {
		changed = changed || has("params."+name)
	}
	if len(inner) == 0 && !changed {
		return v
	}
	out := &Values{
		Strings: make(map[string]string, len(v.Strings)),
		Arrays:  make(map[string][]string, len(v.Arrays)),
		Objects: make(map[string]map[string]string, len(v.Objects)),
	}
	for k, x := range v.Strings {
		out.Strings[k] = x
	}
	for k, x := range v.Arrays {
		out.Arrays[k] = x
	}
	for k, x := range v.Objects {
		out.Objects[k] = x
	}
	drop := func(key string) {
		delete(out.Strings, key)
		delete(out.Arrays, key)
		delete(out.Objects, key)
	}
	for _, p := range inner {
		key := "params." + p.Name
		outer := v.Objects[key]
		drop(key)
		switch p.Value.Type {
		case v1.ParamTypeArray:
			out.Arrays[key] = p.Value.ArrayVal
		case v1.ParamTypeObject:
			out.Objects[key] = p.Value.ObjectVal
			for k, x := range outer {
				if _, ok := p.Value.ObjectVal[k]; !ok {
					out.Strings[key+"."+k] = x
				}
			}
		default:
			out.Strings[key] = p.Value.StringVal
		}
	}
	for _, name := range deferred {
		drop("params." + name)
	}
	return out
}

// applyParams substitutes each param's value in place.
func (v *Values) applyParams(ps v1.Params) {
	for i := range ps {
		ps[i].Value = v.ApplyParam(ps[i].Value)
	}
}

// applyWhen substitutes each expression's input, values (an isolated
// $(key[*]) expands) and CEL text in place.
func (v *Values) applyWhen(ws v1.WhenExpressions) {
	for i := range ws {
		ws[i].Input = v.applyWhenInput(ws[i].Input)
		ws[i].Values = v.ApplyArgs(ws[i].Values)
		ws[i].CEL = v.Apply(ws[i].CEL)
	}
}

func (v *Values) applyWorkspaceUsages(ws []v1.WorkspaceUsage) {
	for i := range ws {
		ws[i].MountPath = v.Apply(ws[i].MountPath)
	}
}

// applyEnv substitutes env names, values and the names and keys of
// secretKeyRef and configMapKeyRef sources.
func (v *Values) applyEnv(env []corev1.EnvVar) {
	for i := range env {
		e := &env[i]
		e.Name = v.Apply(e.Name)
		e.Value = v.Apply(e.Value)
		if e.ValueFrom == nil {
			continue
		}
		if r := e.ValueFrom.SecretKeyRef; r != nil {
			r.Name = v.Apply(r.Name)
			r.Key = v.Apply(r.Key)
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
			r.Name = v.Apply(r.Name)
			r.Key = v.Apply(r.Key)
		}
	}
}

// applyEnvFrom substitutes prefixes and configMap and secret names.
func (v *Values) applyEnvFrom(envFrom []corev1.EnvFromSource) {
	for i := range envFrom {
		e := &envFrom[i]
		e.Prefix = v.Apply(e.Prefix)
		if e.ConfigMapRef != nil {
			e.ConfigMapRef.Name = v.Apply(e.ConfigMapRef.Name)
		}
		if e.SecretRef != nil {
			e.SecretRef.Name = v.Apply(e.SecretRef.Name)
		}
	}
}

// applyVolumeMounts substitutes names, mountPaths and subPaths.
func (v *Values) applyVolumeMounts(ms []corev1.VolumeMount) {
	for i := range ms {
		ms[i].Name = v.Apply(ms[i].Name)
		ms[i].MountPath = v.Apply(ms[i].MountPath)
		ms[i].SubPath = v.Apply(ms[i].SubPath)
	}
}

// applyVolume substitutes a volume's name and its source's names: a
// configMap's name and items, a secret's secretName and items, a PVC's
// claimName, a projected volume's configMap and secret names and items and
// service account token audience, a CSI volume's node publish secret name
// and attribute values.
func (v *Values) applyVolume(vol *corev1.Volume) {
	vol.Name = v.Apply(vol.Name)
	src := &vol.VolumeSource
	if c := src.ConfigMap; c != nil {
		c.Name = v.Apply(c.Name)
		v.applyKeyToPaths(c.Items)
	}
	if s := src.Secret; s != nil {
		s.SecretName = v.Apply(s.SecretName)
		v.applyKeyToPaths(s.Items)
	}
	if c := src.PersistentVolumeClaim; c != nil {
		c.ClaimName = v.Apply(c.ClaimName)
	}
	if p := src.Projected; p != nil {
		for i := range p.Sources {
			s := &p.Sources[i]
			if s.ConfigMap != nil {
				s.ConfigMap.Name = v.Apply(s.ConfigMap.Name)
				v.applyKeyToPaths(s.ConfigMap.Items)
			}
			if s.Secret != nil {
				s.Secret.Name = v.Apply(s.Secret.Name)
				v.applyKeyToPaths(s.Secret.Items)
			}
			if s.ServiceAccountToken != nil {
				s.ServiceAccountToken.Audience = v.Apply(s.ServiceAccountToken.Audience)
			}
		}
	}
	if c := src.CSI; c != nil {
		if c.NodePublishSecretRef != nil {
			c.NodePublishSecretRef.Name = v.Apply(c.NodePublishSecretRef.Name)
		}
		for k, val := range c.VolumeAttributes {
			c.VolumeAttributes[k] = v.Apply(val)
		}
	}
}

func (v *Values) applyKeyToPaths(items []corev1.KeyToPath) {
	for i := range items {
		items[i].Key = v.Apply(items[i].Key)
		items[i].Path = v.Apply(items[i].Path)
	}
}
