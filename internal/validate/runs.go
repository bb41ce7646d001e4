package validate

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// pipelineRun validates a PipelineRun and, once each, what it refers to.
func (v *validator) pipelineRun(pr *v1.PipelineRun) {
	if !v.first(v1.KindPipelineRun, pr.Name) {
		return
	}
	pr = pr.DeepCopy()
	pr.SetDefaults()
	s := v.sink(v1.KindPipelineRun, pr.Name)
	sp := field.NewPath("spec")
	spec := &pr.Spec

	switch {
	case spec.PipelineRef != nil && spec.PipelineSpec != nil:
		s.add(field.Forbidden(sp.Child("pipelineSpec"), "pipelineRef and pipelineSpec cannot both be set"), "")
	case spec.PipelineRef == nil && spec.PipelineSpec == nil:
		s.add(field.Required(sp.Child("pipelineRef"), "a PipelineRun needs pipelineRef or pipelineSpec"), "")
	}
	s.runParams(spec.Params, sp.Child("params"))
	for i, param := range spec.Params {
		walkParamValue(param.Value, sp.Child("params").Index(i).Child("value"), ctxPlain, func(p *field.Path, str string, _ strCtx) {
			for _, r := range subst.Refs(str) {
				if r.Root == "tasks" || r.Root == "finally" {
					s.add(field.Invalid(p, r.Raw, "PipelineRun params cannot use task results"), "")
				}
			}
		})
	}
	switch spec.Status {
	case "", v1.PipelineRunSpecStatusCancelled, v1.PipelineRunSpecStatusCancelledRunFinally,
		v1.PipelineRunSpecStatusStoppedRunFinally, v1.PipelineRunSpecStatusPending:
	default:
		s.add(field.NotSupported(sp.Child("status"), spec.Status, []string{
			string(v1.PipelineRunSpecStatusCancelled), string(v1.PipelineRunSpecStatusCancelledRunFinally),
			string(v1.PipelineRunSpecStatusStoppedRunFinally), string(v1.PipelineRunSpecStatusPending),
		}), "")
	}
	s.timeouts(spec.Timeouts, sp.Child("timeouts"))
	s.bindings(spec.Workspaces, sp.Child("workspaces"))
	for i, trs := range spec.TaskRunSpecs {
		if trs.Timeout != nil && trs.Timeout.Duration < 0 {
			s.add(field.Invalid(sp.Child("taskRunSpecs").Index(i).Child("timeout"), trs.Timeout.Duration.String(), "must not be negative"), "")
		}
	}

	var ps *v1.PipelineSpec
	var whose string
	switch {
	case spec.PipelineSpec != nil:
		bound := map[string]bool{}
		for _, b := range spec.Workspaces {
			bound[b.Name] = true
		}
		ps, whose = spec.PipelineSpec, "pipeline"
		s.pipelineSpec(ps, sp.Child("pipelineSpec"), false, bound)
	case spec.PipelineRef != nil:
		ref := spec.PipelineRef
		rp := sp.Child("pipelineRef")
		s.ref(ref.Name, ref.ResolverRef, rp)
		if v.res == nil || (ref.Name == "" && ref.Resolver == "") {
			return
		}
		p, err := v.res.ResolvePipeline(ref)
		if err != nil {
			s.resolveErr(rp, err, ReasonCouldntGetPipeline)
			return
		}
		v.pipeline(p)
		p = p.DeepCopy()
		p.SetDefaults()
		ps, whose = &p.Spec, fmt.Sprintf("Pipeline %q", p.Name)
	default:
		return
	}

	given := map[string]givenValue{}
	for i, param := range spec.Params {
		given[param.Name] = givenValue{path: sp.Child("params").Index(i).Child("value"), value: param.Value, typ: param.Value.Type}
	}
	s.paramValues(ps.Params, given, nil, sp.Child("params"), whose, valueReasons{
		missing:  ReasonParameterMissing,
		mismatch: ReasonParameterTypeMismatch,
		keys:     ReasonObjectParameterMissKeys,
		enum:     ReasonInvalidParamValue,
	})

	bound := map[string]bool{}
	for _, b := range spec.Workspaces {
		bound[b.Name] = true
	}
	for _, w := range ps.Workspaces {
		if !w.Optional && !bound[w.Name] {
			s.add(field.Required(sp.Child("workspaces"), fmt.Sprintf("%s workspace %q is not bound", whose, w.Name)), ReasonInvalidWorkspaceBindings)
		}
	}

	tasks := map[string]bool{}
	for _, pt := range ps.Tasks {
		tasks[pt.Name] = true
	}
	for _, pt := range ps.Finally {
		tasks[pt.Name] = true
	}
	for i, trs := range spec.TaskRunSpecs {
		if !tasks[trs.PipelineTaskName] {
			s.add(field.Invalid(sp.Child("taskRunSpecs").Index(i).Child("pipelineTaskName"), trs.PipelineTaskName,
				fmt.Sprintf("%s has no task of that name", whose)), ReasonInvalidTaskRunSpecs)
		}
	}
}

// taskRun validates a TaskRun and, once, the Task it refers to.
func (v *validator) taskRun(tr *v1.TaskRun) {
	if !v.first(v1.KindTaskRun, tr.Name) {
		return
	}
	tr = tr.DeepCopy()
	tr.SetDefaults()
	s := v.sink(v1.KindTaskRun, tr.Name)
	sp := field.NewPath("spec")
	spec := &tr.Spec

	switch {
	case spec.TaskRef != nil && spec.TaskSpec != nil:
		s.add(field.Forbidden(sp.Child("taskSpec"), "taskRef and taskSpec cannot both be set"), "")
	case spec.TaskRef == nil && spec.TaskSpec == nil:
		s.add(field.Required(sp.Child("taskRef"), "a TaskRun needs taskRef or taskSpec"), "")
	}
	s.runParams(spec.Params, sp.Child("params"))
	switch spec.Status {
	case "", v1.TaskRunSpecStatusCancelled, v1.TaskRunSpecStatusPending:
	default:
		s.add(field.NotSupported(sp.Child("status"), spec.Status, []string{string(v1.TaskRunSpecStatusCancelled), string(v1.TaskRunSpecStatusPending)}), "")
	}
	if spec.StatusMessage != "" && spec.Status == "" {
		s.add(field.Forbidden(sp.Child("statusMessage"), "statusMessage needs status"), "")
	}
	if spec.Retries < 0 {
		s.add(field.Invalid(sp.Child("retries"), spec.Retries, "must not be negative"), "")
	}
	if spec.Timeout != nil && spec.Timeout.Duration < 0 {
		s.add(field.Invalid(sp.Child("timeout"), spec.Timeout.Duration.String(), "must not be negative"), "")
	}
	s.bindings(spec.Workspaces, sp.Child("workspaces"))

	var ts *v1.TaskSpec
	var whose string
	switch {
	case spec.TaskSpec != nil:
		ts, whose = spec.TaskSpec, "task"
		s.taskSpec(ts, sp.Child("taskSpec"), declaredScope(ts, false))
	case spec.TaskRef != nil:
		ref := spec.TaskRef
		rp := sp.Child("taskRef")
		if ref.APIVersion != "" || (ref.Kind != "" && !strings.EqualFold(string(ref.Kind), v1.KindTask)) {
			s.add(field.Forbidden(rp, "only Tasks can be run; custom tasks and ClusterTasks are not supported"), "")
			return
		}
		s.ref(ref.Name, ref.ResolverRef, rp)
		if v.res == nil || (ref.Name == "" && ref.Resolver == "") {
			return
		}
		t, err := v.res.ResolveTask(ref)
		if err != nil {
			s.resolveErr(rp, err, ReasonTaskRunResolutionFailed)
			return
		}
		v.task(t)
		t = t.DeepCopy()
		t.SetDefaults()
		ts, whose = &t.Spec, fmt.Sprintf("Task %q", t.Name)
	default:
		return
	}

	given := map[string]givenValue{}
	for i, param := range spec.Params {
		given[param.Name] = givenValue{path: sp.Child("params").Index(i).Child("value"), value: param.Value, typ: param.Value.Type}
	}
	s.paramValues(ts.Params, given, nil, sp.Child("params"), whose, valueReasons{
		missing:  ReasonTaskRunValidationFailed,
		mismatch: ReasonTaskRunValidationFailed,
		keys:     ReasonTaskRunValidationFailed,
		enum:     ReasonInvalidParamValue,
	})
	bound := map[string]bool{}
	for _, b := range spec.Workspaces {
		bound[b.Name] = true
	}
	for _, w := range ts.Workspaces {
		if !w.Optional && !bound[w.Name] {
			s.add(field.Required(sp.Child("workspaces"), fmt.Sprintf("%s workspace %q is not bound", whose, w.Name)), ReasonTaskRunValidationFailed)
		}
	}
	steps := map[string]bool{}
	for _, st := range ts.Steps {
		steps[st.Name] = true
	}
	for i, ss := range spec.StepSpecs {
		if !steps[ss.Name] {
			s.add(field.Invalid(sp.Child("stepSpecs").Index(i).Child("name"), ss.Name, fmt.Sprintf("%s has no step of that name", whose)), ReasonTaskRunValidationFailed)
		}
	}
	sidecars := map[string]bool{}
	for _, sc := range ts.Sidecars {
		sidecars[sc.Name] = true
	}
	for i, ss := range spec.SidecarSpecs {
		if !sidecars[ss.Name] {
			s.add(field.Invalid(sp.Child("sidecarSpecs").Index(i).Child("name"), ss.Name, fmt.Sprintf("%s has no sidecar of that name", whose)), ReasonTaskRunValidationFailed)
		}
	}
}

// timeouts checks a PipelineRun's timeouts: none negative; with a pipeline
// timeout, tasks and finally each within it (and not 0, which means none)
// and together within it.
func (s *sink) timeouts(t *v1.TimeoutFields, p *field.Path) {
	if t == nil {
		return
	}
	nonNeg := func(d *metav1.Duration) bool { return d != nil && d.Duration >= 0 }
	for _, d := range []struct {
		name string
		d    *metav1.Duration
	}{{"pipeline", t.Pipeline}, {"tasks", t.Tasks}, {"finally", t.Finally}} {
		if d.d != nil && d.d.Duration < 0 {
			s.add(field.Invalid(p.Child(d.name), d.d.Duration.String(), "must not be negative"), "")
		}
	}
	if !nonNeg(t.Pipeline) || t.Pipeline.Duration == 0 {
		return
	}
	pl := t.Pipeline.Duration
	within := true
	for _, d := range []struct {
		name string
		d    *metav1.Duration
	}{{"tasks", t.Tasks}, {"finally", t.Finally}} {
		switch {
		case !nonNeg(d.d):
		case d.d.Duration == 0:
			s.add(field.Invalid(p.Child(d.name), d.d.Duration.String(), fmt.Sprintf("0 (no timeout) needs a pipeline timeout of 0, not %s", pl)), "")
			within = false
		case d.d.Duration > pl:
			s.add(field.Invalid(p.Child(d.name), d.d.Duration.String(), fmt.Sprintf("must not exceed the pipeline timeout %s", pl)), "")
			within = false
		}
	}
	if within && nonNeg(t.Tasks) && nonNeg(t.Finally) && t.Tasks.Duration+t.Finally.Duration > pl {
		s.add(field.Invalid(p, field.OmitValueType{}, fmt.Sprintf("tasks %s + finally %s exceed the pipeline timeout %s", t.Tasks.Duration, t.Finally.Duration, pl)), "")
	}
}

// bindings checks a run's workspace bindings: named, unique, one source each.
func (s *sink) bindings(ws []v1.WorkspaceBinding, p *field.Path) {
	seen := map[string]bool{}
	for i, b := range ws {
		bp := p.Index(i)
		switch {
		case b.Name == "":
			s.add(field.Required(bp.Child("name"), ""), "")
		case seen[b.Name]:
			s.add(field.Duplicate(bp.Child("name"), b.Name), "")
		}
		seen[b.Name] = true
		var sources []string
		for _, src := range []struct {
			name string
			set  bool
		}{
			{"emptyDir", b.EmptyDir != nil},
			{"persistentVolumeClaim", b.PersistentVolumeClaim != nil},
			{"volumeClaimTemplate", b.VolumeClaimTemplate != nil},
			{"configMap", b.ConfigMap != nil},
			{"secret", b.Secret != nil},
			{"projected", b.Projected != nil},
			{"csi", b.CSI != nil},
		} {
			if src.set {
				sources = append(sources, src.name)
			}
		}
		const all = "emptyDir, persistentVolumeClaim, volumeClaimTemplate, configMap, secret, projected or csi"
		switch len(sources) {
		case 0:
			s.add(field.Required(bp, "a workspace binding needs one of "+all), "")
		case 1:
		default:
			s.add(field.Forbidden(bp.Child(sources[1]), "a workspace binding takes one of "+all+", not "+strings.Join(sources, " and ")), "")
		}
	}
}
