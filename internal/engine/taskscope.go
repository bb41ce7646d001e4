package engine

import (
	"fmt"
	"path"
	"strconv"
	"time"

	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Paths upstream gives a task's files.
const (
	resultsDir     = "/tekton/results"
	stepsDir       = "/tekton/steps"
	credsDir       = "/tekton/creds"
	workspaceRoot  = "/workspace"
	artifactsFile  = "provenance.json"
	volumeNameStem = "ws-"
)

// newAttempt prepares attempt retry of the TaskRun: it resolves StepActions
// and applies every task-scope value, in upstream's order: params, context,
// result paths, artifact paths, exit-code paths, workspaces, credentials.
func (r *taskRun) newAttempt(retry int, now time.Time) (*attempt, *InvalidRunError) {
	spec := r.spec.DeepCopy()
	params, err := taskParamValues(spec.Params, r.params)
	if err != nil {
		return nil, invalidWrap(ReasonTaskRunValidationFailed, err)
	}

	// Step params are filled in from the task's params first, then the
	// StepActions they run are inlined.
	if err := inlineStepActions(spec, r.stepActions, params); err != nil {
		return nil, err
	}

	params.ApplyTask(spec)

	ctx := subst.NewValues()
	ctx.Strings["context.taskRun.name"] = r.name
	ctx.Strings["context.taskRun.namespace"] = r.namespace
	ctx.Strings["context.taskRun.uid"] = r.uid
	ctx.Strings["context.task.name"] = r.taskName
	ctx.Strings["context.task.retry-count"] = strconv.Itoa(retry)
	ctx.ApplyTask(spec)

	res := subst.NewValues()
	for _, tr := range spec.Results {
		res.Strings["results."+tr.Name+".path"] = path.Join(resultsDir, tr.Name)
	}
	res.ApplyTask(spec)
	for i := range spec.Steps {
		sv := subst.NewValues()
		container := "step-" + stepName(spec.Steps[i].Name, i)
		for _, sr := range spec.Steps[i].Results {
			sv.Strings["step.results."+sr.Name+".path"] = path.Join(stepsDir, container, "results", sr.Name)
		}
		art := path.Join(stepsDir, container, "artifacts", artifactsFile)
		sv.Strings["step.artifacts.path"] = art
		sv.Strings["artifacts.path"] = art
		sv.ApplyStep(&spec.Steps[i])
	}

	exit := subst.NewValues()
	for i, s := range spec.Steps {
		container := "step-" + stepName(s.Name, i)
		exit.Strings["steps."+container+".exitCode.path"] = path.Join(stepsDir, container, "exitCode")
	}
	exit.ApplyTask(spec)

	ws, wsVals, err := r.workspaces(spec)
	if err != nil {
		return nil, invalidWrap(ReasonTaskRunValidationFailed, err)
	}
	// A step or sidecar that mounts a workspace at its own path sees that
	// path.
	for i := range spec.Steps {
		if len(spec.Steps[i].Workspaces) == 0 {
			continue
		}
		own := subst.NewValues()
		for _, u := range spec.Steps[i].Workspaces {
			if u.MountPath != "" {
				own.Strings["workspaces."+u.Name+".path"] = u.MountPath
			}
		}
		own.ApplyStep(&spec.Steps[i])
	}
	wsVals.ApplyTask(spec)

	creds := subst.NewValues()
	creds.Strings["credentials.path"] = credsDir
	creds.ApplyTask(spec)

	a := &attempt{
		id:            AttemptID{TaskRun: r.name, Retry: retry},
		spec:          spec,
		workspaces:    ws,
		startedAt:     now,
		running:       -1,
		failedStep:    -1,
		taskResults:   map[string]string{},
		stepResults:   map[string]map[string]string{},
		stepArtifacts: map[string][]stepArtifact{},
	}
	for i, s := range spec.Steps {
		merged := mergeStepTemplate(spec.StepTemplate, s)
		name := stepName(s.Name, i)
		a.steps = append(a.steps, &stepRun{index: i, name: name, container: "step-" + name, step: merged})
	}
	for _, sc := range spec.Sidecars {
		a.sidecars = append(a.sidecars, r.sidecarProcess(sc))
	}
	a.waitSidecars = len(a.sidecars) > 0
	return a, nil
}

// taskParamValues returns the task-scope param values: declared defaults,
// overridden by the run's values, object keys merged, and every run param
// (declared or not).
func taskParamValues(specs v1.ParamSpecs, given v1.Params) (*subst.Values, error) {
	vals := map[string]v1.ParamValue{}
	var order []string
	for _, ps := range specs {
		if ps.Default != nil {
			vals[ps.Name] = ps.Default.DeepCopy()
			order = append(order, ps.Name)
		}
	}
	for _, p := range given {
		v := p.Value.DeepCopy()
		if old, ok := vals[p.Name]; ok && old.Type == v1.ParamTypeObject && v.Type == v1.ParamTypeObject {
			merged := map[string]string{}
			for k, x := range old.ObjectVal {
				merged[k] = x
			}
			for k, x := range v.ObjectVal {
				merged[k] = x
			}
			v.ObjectVal = merged
		}
		if _, ok := vals[p.Name]; !ok {
			order = append(order, p.Name)
		}
		vals[p.Name] = v
	}
	// A task-level default may use other params, one level deep.
	first := subst.NewValues()
	for _, n := range order {
		putParam(first, "params."+n, vals[n])
	}
	out := subst.NewValues()
	for _, n := range order {
		v := vals[n]
		if _, given := given.Lookup(n); !given {
			v = first.ApplyParam(v)
		}
		putParam(out, "params."+n, v)
		// Tasks written for v1alpha1 say $(inputs.params.x); upstream
		// still substitutes that spelling in tasks.
		putParam(out, "inputs.params."+n, v)
		for k, x := range v.ObjectVal {
			out.Strings["inputs.params."+n+"."+k] = x
		}
	}
	return out, nil
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

// workspaces returns the attempt's workspaces and the values of their
// variables.
func (r *taskRun) workspaces(spec *v1.TaskSpec) ([]Workspace, *subst.Values, error) {
	vals := subst.NewValues()
	var out []Workspace
	for _, d := range spec.Workspaces {
		mount := d.MountPath
		if mount == "" {
			mount = path.Join(workspaceRoot, d.Name)
		}
		var binding *v1.WorkspaceBinding
		for i := range r.bindings {
			if r.bindings[i].Name == d.Name {
				b := copyBinding(r.bindings[i])
				binding = &b
				break
			}
		}
		if binding == nil && !d.Optional {
			return nil, nil, fmt.Errorf("workspace %q is required but not bound", d.Name)
		}
		source := d.Name
		if s, ok := r.sources[d.Name]; ok {
			source = s
		}
		w := Workspace{Name: d.Name, MountPath: mount, ReadOnly: d.ReadOnly, Binding: binding, Source: source}
		if binding == nil {
			w.Source = ""
		}
		out = append(out, w)
		key := "workspaces." + d.Name
		if binding == nil {
			vals.Strings[key+".path"] = ""
			vals.Strings[key+".bound"] = "false"
			vals.Strings[key+".claim"] = ""
			vals.Strings[key+".volume"] = ""
			continue
		}
		vals.Strings[key+".path"] = mount
		vals.Strings[key+".bound"] = "true"
		claim := ""
		if binding.PersistentVolumeClaim != nil {
			claim = binding.PersistentVolumeClaim.ClaimName
		}
		vals.Strings[key+".claim"] = claim
		vals.Strings[key+".volume"] = WorkspaceVolume(d.Name)
	}
	return out, vals, nil
}

// WorkspaceVolume is the volume name $(workspaces.<w>.volume) gives a
// task's workspace w, for a step or sidecar to mount by name.
func WorkspaceVolume(workspace string) string { return volumeNameStem + workspace }

// sidecarProcess builds the Process of a substituted sidecar.
func (r *taskRun) sidecarProcess(sc v1.Sidecar) Process {
	p := Process{
		Name:            "sidecar-" + sc.Name,
		Image:           sc.Image,
		Command:         sc.Command,
		Args:            sc.Args,
		Script:          sc.Script,
		WorkingDir:      sc.WorkingDir,
		Env:             sc.Env,
		EnvFrom:         sc.EnvFrom,
		VolumeMounts:    sc.VolumeMounts,
		Workspaces:      sc.Workspaces,
		SecurityContext: sc.SecurityContext,
		Resources:       sc.ComputeResources,
		ReadinessProbe:  sc.ReadinessProbe,
	}
	for _, ss := range r.sidecarSpecs {
		if ss.Name == sc.Name {
			p.Resources = *ss.ComputeResources.DeepCopy()
		}
	}
	return p
}

// stepTimeValues returns the values of $(steps.<s>.results.<r>) from the
// steps that finished before s.
func (a *attempt) stepTimeValues(s *stepRun) *subst.Values {
	vals := subst.NewValues()
	for _, prev := range a.steps[:s.index] {
		for _, art := range a.stepArtifacts[prev.name] {
			vals.Strings["steps."+prev.name+"."+art.kind+"."+art.name] = art.values
		}
		res := a.stepResults[prev.name]
		for _, decl := range prev.step.Results {
			raw, ok := res[decl.Name]
			if !ok {
				continue
			}
			putParam(vals, "steps."+prev.name+".results."+decl.Name, parseResult(decl.Type, raw))
		}
		for name, raw := range res {
			if _, ok := vals.Strings["steps."+prev.name+".results."+name]; ok {
				continue
			}
			if declaredStepResult(prev.step.Results, name) {
				continue
			}
			vals.Strings["steps."+prev.name+".results."+name] = raw
		}
	}
	return vals
}

func declaredStepResult(rs []v1.StepResult, name string) bool {
	for _, r := range rs {
		if r.Name == name {
			return true
		}
	}
	return false
}

// artifactValues returns the values of $(steps.<s>.inputs|outputs.<name>)
// from the steps before s; a step's script sees them too.
func (a *attempt) artifactValues(s *stepRun) *subst.Values {
	vals := subst.NewValues()
	for _, prev := range a.steps[:s.index] {
		for _, art := range a.stepArtifacts[prev.name] {
			vals.Strings["steps."+prev.name+"."+art.kind+"."+art.name] = art.values
		}
	}
	return vals
}
