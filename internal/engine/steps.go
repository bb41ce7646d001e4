package engine

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

// mergeStepTemplate merges a stepTemplate into a step the way upstream's
// strategic merge does: the step's fields win; env merges by name and
// volumeMounts by mountPath (the step's entry replaces the template's);
// resource lists merge per resource.
func mergeStepTemplate(t *v1.StepTemplate, s v1.Step) v1.Step {
	out := *s.DeepCopy()
	if t == nil {
		return out
	}
	t = copyStepTemplate(t)
	if out.Image == "" {
		out.Image = t.Image
	}
	if out.Command == nil {
		out.Command = t.Command
	}
	if out.Args == nil {
		out.Args = t.Args
	}
	if out.WorkingDir == "" {
		out.WorkingDir = t.WorkingDir
	}
	if out.EnvFrom == nil {
		out.EnvFrom = t.EnvFrom
	}
	if out.ImagePullPolicy == "" {
		out.ImagePullPolicy = t.ImagePullPolicy
	}
	out.Env = mergeByKey(t.Env, out.Env, func(e corev1.EnvVar) string { return e.Name })
	out.VolumeMounts = mergeByKey(t.VolumeMounts, out.VolumeMounts, func(m corev1.VolumeMount) string { return m.MountPath })
	out.VolumeDevices = mergeByKey(t.VolumeDevices, out.VolumeDevices, func(d corev1.VolumeDevice) string { return d.DevicePath })
	out.ComputeResources.Limits = mergeResources(t.ComputeResources.Limits, out.ComputeResources.Limits)
	out.ComputeResources.Requests = mergeResources(t.ComputeResources.Requests, out.ComputeResources.Requests)
	out.SecurityContext = mergeSecurityContext(t.SecurityContext, out.SecurityContext)
	return out
}

// mergeByKey merges two keyed lists: base entries in order, each replaced
// by the override's entry of the same key, then the override's new entries.
func mergeByKey[T any](base, over []T, key func(T) string) []T {
	if len(base) == 0 {
		return over
	}
	idx := map[string]int{}
	for i, o := range over {
		idx[key(o)] = i
	}
	used := map[int]bool{}
	out := make([]T, 0, len(base)+len(over))
	for _, b := range base {
		if i, ok := idx[key(b)]; ok {
			out = append(out, over[i])
			used[i] = true
			continue
		}
		out = append(out, b)
	}
	for i, o := range over {
		if !used[i] {
			out = append(out, o)
		}
	}
	return out
}

func mergeResources(base, over corev1.ResourceList) corev1.ResourceList {
	if len(base) == 0 {
		return over
	}
	out := corev1.ResourceList{}
	for k, v := range base {
		out[k] = v.DeepCopy()
	}
	for k, v := range over {
		out[k] = v.DeepCopy()
	}
	return out
}

// mergeSecurityContext overlays the step's set fields on the template's.
func mergeSecurityContext(base, over *corev1.SecurityContext) *corev1.SecurityContext {
	if base == nil {
		return over
	}
	if over == nil {
		return base.DeepCopy()
	}
	out := base.DeepCopy()
	o := over.DeepCopy()
	if o.Capabilities != nil {
		out.Capabilities = o.Capabilities
	}
	if o.Privileged != nil {
		out.Privileged = o.Privileged
	}
	if o.SELinuxOptions != nil {
		out.SELinuxOptions = o.SELinuxOptions
	}
	if o.WindowsOptions != nil {
		out.WindowsOptions = o.WindowsOptions
	}
	if o.RunAsUser != nil {
		out.RunAsUser = o.RunAsUser
	}
	if o.RunAsGroup != nil {
		out.RunAsGroup = o.RunAsGroup
	}
	if o.RunAsNonRoot != nil {
		out.RunAsNonRoot = o.RunAsNonRoot
	}
	if o.ReadOnlyRootFilesystem != nil {
		out.ReadOnlyRootFilesystem = o.ReadOnlyRootFilesystem
	}
	if o.AllowPrivilegeEscalation != nil {
		out.AllowPrivilegeEscalation = o.AllowPrivilegeEscalation
	}
	if o.ProcMount != nil {
		out.ProcMount = o.ProcMount
	}
	if o.SeccompProfile != nil {
		out.SeccompProfile = o.SeccompProfile
	}
	if o.AppArmorProfile != nil {
		out.AppArmorProfile = o.AppArmorProfile
	}
	return out
}

// inlineStepActions replaces every step that names a StepAction with the
// StepAction's content, its params resolved per upstream's order: the
// task's params applied to the step's params, then the step's values over
// the StepAction's defaults (defaults may use other params), object keys
// merged.
func inlineStepActions(spec *v1.TaskSpec, lookup func(string) (*v1beta1.StepAction, bool), taskParams *subst.Values) *InvalidRunError {
	for i := range spec.Steps {
		s := &spec.Steps[i]
		if s.Ref == nil {
			continue
		}
		name := s.Ref.Name
		var sa *v1beta1.StepAction
		ok := false
		if lookup != nil {
			sa, ok = lookup(name)
		}
		if !ok || sa == nil {
			return invalid(ReasonTaskRunResolutionFailed, "step %q: StepAction %q not found", stepName(s.Name, i), name)
		}
		sa = sa.DeepCopy()
		sa.Spec.Params.SetDefaults()
		for j := range sa.Spec.Results {
			sa.Spec.Results[j].SetDefaults()
		}
		vals, err := stepActionParams(sa, s.Params, taskParams)
		if err != nil {
			return invalid(ReasonTaskRunValidationFailed, "step %q: StepAction %q: %v", stepName(s.Name, i), name, err)
		}
		applyStepAction(s, &sa.Spec, vals)
	}
	return nil
}

// stepActionParams returns the values of a StepAction's params for one step.
func stepActionParams(sa *v1beta1.StepAction, given v1.Params, taskParams *subst.Values) (*subst.Values, error) {
	provided := map[string]v1.ParamValue{}
	// A param given as an earlier step's whole result is known only when
	// that step has finished: its references are rewritten to the
	// result's and replaced when the step starts.
	results := map[string]string{}
	for _, p := range given {
		if _, ok := sa.Spec.Params.Lookup(p.Name); !ok {
			return nil, fmt.Errorf("param %q is not declared by the StepAction", p.Name)
		}
		v := taskParams.ApplyParam(p.Value)
		if key, ok := wholeStepResult(v); ok {
			results[p.Name] = key
			continue
		}
		provided[p.Name] = v
	}
	vals := map[string]v1.ParamValue{}
	var missing []string
	for _, ps := range sa.Spec.Params {
		if _, ok := results[ps.Name]; ok {
			continue
		}
		v, ok := provided[ps.Name]
		switch {
		case ok && ps.Type == v1.ParamTypeObject:
			merged := map[string]string{}
			if ps.Default != nil {
				for k, x := range ps.Default.ObjectVal {
					merged[k] = x
				}
			}
			if v.Type == v1.ParamTypeObject {
				for k, x := range v.ObjectVal {
					merged[k] = x
				}
			}
			vals[ps.Name] = v1.NewObject(merged)
		case ok:
			vals[ps.Name] = v
		case ps.Default != nil:
			vals[ps.Name] = ps.Default.DeepCopy()
		default:
			missing = append(missing, ps.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing values for these params which have no default values: %v", missing)
	}
	first := subst.NewValues()
	for n, v := range vals {
		putParam(first, "params."+n, v)
	}
	out := subst.NewValues()
	for _, ps := range sa.Spec.Params {
		if key, ok := results[ps.Name]; ok {
			out.Aliases["params."+ps.Name] = key
			continue
		}
		v := vals[ps.Name]
		if _, ok := provided[ps.Name]; !ok {
			v = first.ApplyParam(v)
		}
		putParam(out, "params."+ps.Name, v)
	}
	return out, nil
}

// wholeStepResult returns the key of the step result v is exactly one
// reference to, as $(steps.s.results.r) or $(steps.s.results.r[*]).
func wholeStepResult(v v1.ParamValue) (string, bool) {
	if v.Type != v1.ParamTypeString && v.Type != "" {
		return "", false
	}
	refs := subst.Refs(v.StringVal)
	if len(refs) != 1 || refs[0].Raw != v.StringVal || refs[0].Root != "steps" || !refs[0].Whole() {
		return "", false
	}
	if !strings.HasPrefix(refs[0].Key, "steps."+refs[0].Name+".results.") {
		return "", false
	}
	return refs[0].Key, true
}

// applyStepAction puts a StepAction's content into step s. image,
// securityContext and workingDir always replace the step's; the other
// fields only when the StepAction sets them.
func applyStepAction(s *v1.Step, sa *v1beta1.StepActionSpec, vals *subst.Values) {
	s.Image = vals.Apply(sa.Image)
	s.SecurityContext = sa.SecurityContext
	s.WorkingDir = vals.Apply(sa.WorkingDir)
	if sa.Command != nil {
		s.Command = vals.ApplyArgs(sa.Command)
	}
	if sa.Args != nil {
		s.Args = vals.ApplyArgs(sa.Args)
	}
	if sa.Script != "" {
		s.Script = sa.Script
	}
	if sa.Env != nil {
		s.Env = applyEnv(vals, sa.Env)
	}
	if sa.VolumeMounts != nil {
		var vms []corev1.VolumeMount
		for _, vm := range sa.VolumeMounts {
			vm.Name = vals.Apply(vm.Name)
			vm.MountPath = vals.Apply(vm.MountPath)
			vm.SubPath = vals.Apply(vm.SubPath)
			vms = append(vms, vm)
		}
		s.VolumeMounts = vms
	}
	if sa.Results != nil {
		s.Results = sa.Results
	}
	s.Ref = nil
	s.Params = nil
}

// applyEnv substitutes env values and valueFrom references.
func applyEnv(vals *subst.Values, env []corev1.EnvVar) []corev1.EnvVar {
	if env == nil {
		return nil
	}
	out := make([]corev1.EnvVar, 0, len(env))
	for _, e := range env {
		e = *e.DeepCopy()
		e.Value = vals.Apply(e.Value)
		if vf := e.ValueFrom; vf != nil {
			if vf.SecretKeyRef != nil {
				vf.SecretKeyRef.Name = vals.Apply(vf.SecretKeyRef.Name)
				vf.SecretKeyRef.Key = vals.Apply(vf.SecretKeyRef.Key)
			}
			if vf.ConfigMapKeyRef != nil {
				vf.ConfigMapKeyRef.Name = vals.Apply(vf.ConfigMapKeyRef.Name)
				vf.ConfigMapKeyRef.Key = vals.Apply(vf.ConfigMapKeyRef.Key)
			}
		}
		out = append(out, e)
	}
	return out
}

func copyStepTemplate(t *v1.StepTemplate) *v1.StepTemplate {
	s := v1.Step{
		Image: t.Image, Command: t.Command, Args: t.Args, WorkingDir: t.WorkingDir,
		EnvFrom: t.EnvFrom, Env: t.Env, ComputeResources: t.ComputeResources,
		VolumeMounts: t.VolumeMounts, VolumeDevices: t.VolumeDevices,
		ImagePullPolicy: t.ImagePullPolicy, SecurityContext: t.SecurityContext,
	}
	c := s.DeepCopy()
	return &v1.StepTemplate{
		Image: c.Image, Command: c.Command, Args: c.Args, WorkingDir: c.WorkingDir,
		EnvFrom: c.EnvFrom, Env: c.Env, ComputeResources: c.ComputeResources,
		VolumeMounts: c.VolumeMounts, VolumeDevices: c.VolumeDevices,
		ImagePullPolicy: c.ImagePullPolicy, SecurityContext: c.SecurityContext,
	}
}
