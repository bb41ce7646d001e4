package podspec

import (
	"encoding/json"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// The rules in this file are the engine's, applied before the run starts:
// pipeline param values, matrix fan-out, stepTemplate merging and pod
// template overlays. The engine keeps them unexported; the compiler needs
// the same answers to name and build containers, and the orchestrator
// checks at run time that every step it starts has the image its container
// was compiled with.

// pipelineParams returns the value of every param of a pipeline: the run's
// value or the declared default (defaults may use other params, resolved
// level by level), object keys merged, plus the run's undeclared params.
func pipelineParams(specs v1.ParamSpecs, given v1.Params) map[string]v1.ParamValue {
	vals := map[string]v1.ParamValue{}
	pending := map[string]bool{}
	for _, ps := range specs {
		p, ok := given.Lookup(ps.Name)
		if !ok {
			if ps.Default != nil {
				vals[ps.Name] = ps.Default.DeepCopy()
				pending[ps.Name] = true
			}
			continue
		}
		v := p.Value.DeepCopy()
		if ps.Type == v1.ParamTypeObject && ps.Default != nil {
			for k, dv := range ps.Default.ObjectVal {
				if _, ok := v.ObjectVal[k]; !ok {
					if v.ObjectVal == nil {
						v.ObjectVal = map[string]string{}
					}
					v.ObjectVal[k] = dv
				}
			}
		}
		vals[ps.Name] = v
	}
	for _, p := range given {
		if _, declared := specs.Lookup(p.Name); !declared {
			vals[p.Name] = p.Value.DeepCopy()
		}
	}
	for depth := 0; len(pending) > 0 && depth <= 10; depth++ {
		progress := false
		for _, name := range sortedKeys(pending) {
			ready := true
			for _, ref := range paramRefsOf(vals[name]) {
				if pending[ref] && ref != name {
					ready = false
				}
			}
			if !ready {
				continue
			}
			sv := subst.NewValues()
			for n, x := range vals {
				if !pending[n] {
					putParam(sv, "params."+n, x)
				}
			}
			vals[name] = sv.ApplyParam(vals[name])
			delete(pending, name)
			progress = true
		}
		if !progress {
			break
		}
	}
	return vals
}

// paramRefsOf returns the names of the params a value refers to.
func paramRefsOf(v v1.ParamValue) []string {
	var out []string
	for _, t := range paramTexts(v) {
		for _, r := range subst.Refs(t) {
			if r.Root == "params" {
				out = append(out, r.Name)
			}
		}
	}
	return out
}

// valuesOf returns params as substitution values.
func valuesOf(vals map[string]v1.ParamValue) *subst.Values {
	sv := subst.NewValues()
	for n, v := range vals {
		putParam(sv, "params."+n, v)
	}
	return sv
}

// putParam stores a value under key in v.
func putParam(v *subst.Values, key string, p v1.ParamValue) {
	switch p.Type {
	case v1.ParamTypeArray:
		v.Arrays[key] = append([]string{}, p.ArrayVal...)
	case v1.ParamTypeObject:
		m := make(map[string]string, len(p.ObjectVal))
		for k, x := range p.ObjectVal {
			m[k] = x
		}
		v.Objects[key] = m
	default:
		v.Strings[key] = p.StringVal
	}
}

// combination is one run of a matrix: param name to value.
type combination map[string]string

// fanOut returns a matrix's combinations: the Cartesian product of its
// params with the first param varying fastest, include entries merged into
// every combination they do not contradict, and appended when none of
// their values occurs.
func fanOut(m *v1.Matrix) []combination {
	var includes []combination
	for _, inc := range m.Include {
		c := combination{}
		for _, p := range inc.Params {
			c[p.Name] = p.Value.StringVal
		}
		includes = append(includes, c)
	}
	if len(m.Params) == 0 {
		return includes
	}
	var cs []combination
	for i, p := range m.Params {
		if i == 0 {
			for _, v := range p.Value.ArrayVal {
				cs = append(cs, combination{p.Name: v})
			}
			continue
		}
		var next []combination
		for _, v := range p.Value.ArrayVal {
			for _, c := range cs {
				n := combination{}
				for k, x := range c {
					n[k] = x
				}
				n[p.Name] = v
				next = append(next, n)
			}
		}
		cs = next
	}
	for _, c := range cs {
		for _, inc := range includes {
			if c.agrees(inc) {
				for k, v := range inc {
					c[k] = v
				}
			}
		}
	}
	for _, inc := range includes {
		if shouldAppend(cs, inc) {
			cs = append(cs, inc)
		}
	}
	return cs
}

func (c combination) agrees(inc combination) bool {
	for k, v := range inc {
		if x, ok := c[k]; ok && x != v {
			return false
		}
	}
	return true
}

func shouldAppend(cs []combination, inc combination) bool {
	if len(inc) == 0 {
		return false
	}
	for _, c := range cs {
		for k, v := range inc {
			if x, ok := c[k]; ok && x == v {
				return false
			}
		}
	}
	return true
}

// params returns the combination as params sorted by name.
func (c combination) params() v1.Params {
	out := make(v1.Params, 0, len(c))
	for _, k := range sortedKeys(c) {
		out = append(out, v1.Param{Name: k, Value: v1.NewString(c[k])})
	}
	return out
}

// mergeStepTemplate merges a stepTemplate into a step: the step's fields
// win; env merges by name and volumeMounts by mountPath; resource lists
// merge per resource; security contexts field by field.
func mergeStepTemplate(t *v1.StepTemplate, s v1.Step) v1.Step {
	out := *s.DeepCopy()
	if t == nil {
		return out
	}
	tc := v1.Step{
		Image: t.Image, Command: t.Command, Args: t.Args, WorkingDir: t.WorkingDir,
		EnvFrom: t.EnvFrom, Env: t.Env, ComputeResources: t.ComputeResources,
		VolumeMounts: t.VolumeMounts, VolumeDevices: t.VolumeDevices,
		ImagePullPolicy: t.ImagePullPolicy, SecurityContext: t.SecurityContext,
	}
	tp := tc.DeepCopy()
	if out.Image == "" {
		out.Image = tp.Image
	}
	if out.Command == nil {
		out.Command = tp.Command
	}
	if out.Args == nil {
		out.Args = tp.Args
	}
	if out.WorkingDir == "" {
		out.WorkingDir = tp.WorkingDir
	}
	if out.EnvFrom == nil {
		out.EnvFrom = tp.EnvFrom
	}
	if out.ImagePullPolicy == "" {
		out.ImagePullPolicy = tp.ImagePullPolicy
	}
	out.Env = mergeByKey(tp.Env, out.Env, func(e corev1.EnvVar) string { return e.Name })
	out.VolumeMounts = mergeByKey(tp.VolumeMounts, out.VolumeMounts, func(m corev1.VolumeMount) string { return m.MountPath })
	out.VolumeDevices = mergeByKey(tp.VolumeDevices, out.VolumeDevices, func(d corev1.VolumeDevice) string { return d.DevicePath })
	out.ComputeResources.Limits = mergeResources(tp.ComputeResources.Limits, out.ComputeResources.Limits)
	out.ComputeResources.Requests = mergeResources(tp.ComputeResources.Requests, out.ComputeResources.Requests)
	out.SecurityContext = mergeSecurityContext(tp.SecurityContext, out.SecurityContext)
	return out
}

// mergeByKey merges two keyed lists: base entries in order, each replaced
// by the override's entry of the same key, then the override's new ones.
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

// mergePodTemplate overlays the fields over sets on base.
func mergePodTemplate(base, over *v1.PodTemplate) *v1.PodTemplate {
	if base == nil {
		return copyJSON(over)
	}
	out := copyJSON(base)
	o := copyJSON(over)
	if o.NodeSelector != nil {
		out.NodeSelector = o.NodeSelector
	}
	if o.Env != nil {
		out.Env = mergeByKey(out.Env, o.Env, func(e corev1.EnvVar) string { return e.Name })
	}
	if o.Tolerations != nil {
		out.Tolerations = o.Tolerations
	}
	if o.Affinity != nil {
		out.Affinity = o.Affinity
	}
	if o.SecurityContext != nil {
		out.SecurityContext = o.SecurityContext
	}
	if o.Volumes != nil {
		out.Volumes = mergeByKey(out.Volumes, o.Volumes, func(v corev1.Volume) string { return v.Name })
	}
	if o.RuntimeClassName != nil {
		out.RuntimeClassName = o.RuntimeClassName
	}
	if o.AutomountServiceAccountToken != nil {
		out.AutomountServiceAccountToken = o.AutomountServiceAccountToken
	}
	if o.DNSPolicy != nil {
		out.DNSPolicy = o.DNSPolicy
	}
	if o.DNSConfig != nil {
		out.DNSConfig = o.DNSConfig
	}
	if o.EnableServiceLinks != nil {
		out.EnableServiceLinks = o.EnableServiceLinks
	}
	if o.PriorityClassName != nil {
		out.PriorityClassName = o.PriorityClassName
	}
	if o.SchedulerName != "" {
		out.SchedulerName = o.SchedulerName
	}
	if o.ImagePullSecrets != nil {
		out.ImagePullSecrets = o.ImagePullSecrets
	}
	if o.HostAliases != nil {
		out.HostAliases = o.HostAliases
	}
	if o.HostNetwork {
		out.HostNetwork = true
	}
	if o.TopologySpreadConstraints != nil {
		out.TopologySpreadConstraints = o.TopologySpreadConstraints
	}
	return out
}

// walkStrings calls f with every string of v's JSON form, map keys in
// order.
func walkStrings(v any, f func(string)) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		return
	}
	var walk func(any)
	walk = func(n any) {
		switch x := n.(type) {
		case string:
			f(x)
		case []any:
			for _, c := range x {
				walk(c)
			}
		case map[string]any:
			for _, k := range sortedKeys(x) {
				walk(x[k])
			}
		}
	}
	walk(tree)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// copyJSON copies a value through JSON (nil stays nil).
func copyJSON[T any](in *T) *T {
	if in == nil {
		return nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		panic(fmt.Sprintf("copy %T: %v", in, err))
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("copy %T: %v", in, err))
	}
	return out
}
