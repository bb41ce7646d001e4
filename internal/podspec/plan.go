package podspec

import (
	"fmt"
	"maps"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/colo-ci/colo/internal/dag"
	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// plan is a run worked out before it starts: every TaskRun it may create,
// with what each one's containers need that cannot change at run time.
type plan struct {
	kind, name, namespace string
	// bindings are the run's workspace bindings, by name.
	bindings []v1.WorkspaceBinding
	slots    []*slot
	// timeout bounds the whole run (0: none).
	timeout time.Duration
	// refs are the Tasks, Pipelines and StepActions the run uses.
	tasks, pipelines, stepActions map[string]bool

	errs field.ErrorList
}

// slot is one TaskRun the run may create: one task's TaskRun, or one
// matrix combination's. It gets its own containers and its own volume.
type slot struct {
	taskRun      string
	pipelineTask string // "" for a standalone TaskRun
	// key names the pipeline task among every pipeline the run runs: its
	// name after those of the pipeline tasks that run the pipelines it is
	// in ("build", or "deploy/build" in pipelines in pipelines).
	key     string
	finally bool
	// index is the matrix combination's (-1: no matrix).
	index int
	// ancestors are the keys of the pipeline tasks it runs after
	// (transitively).
	ancestors map[string]bool

	// path is where the task is in the run, for errors; specPath is where
	// its Task spec is.
	path, specPath *field.Path

	// attempt is the engine's first attempt of the TaskRun: its spec with
	// everything known before the run substituted, its workspaces and
	// sidecars.
	attempt engine.StartAttempt
	// steps are the spec's steps merged with its stepTemplate.
	steps []v1.Step
	// sources maps a task workspace to the run's workspace it is bound to.
	sources map[string]string

	serviceAccount string
	saPath         *field.Path
	podTemplate    *v1.PodTemplate
	ptPath         *field.Path
	stepSpecs      []v1.TaskRunStepSpec
	sidecarSpecs   []v1.TaskRunSidecarSpec
	computeRes     *corev1.ResourceRequirements
}

// planPipelineRun works out the TaskRuns of pr.
func planPipelineRun(pr *v1.PipelineRun, set *load.Set, opts engine.Options) *plan {
	pr = pr.DeepCopy()
	if opts.DefaultTimeout <= 0 {
		opts.DefaultTimeout = v1.DefaultTimeout
	}
	if pr.Spec.Timeouts == nil {
		pr.Spec.Timeouts = &v1.TimeoutFields{}
	}
	if pr.Spec.Timeouts.Pipeline == nil {
		pr.Spec.Timeouts.Pipeline = &metav1.Duration{Duration: opts.DefaultTimeout}
	}
	pr.SetDefaults()
	p := &plan{
		kind: v1.KindPipelineRun, name: pr.Name, namespace: pr.Namespace,
		bindings: pr.Spec.Workspaces,
		timeout:  pr.Spec.Timeouts.Pipeline.Duration,
		tasks:    map[string]bool{}, pipelines: map[string]bool{}, stepActions: map[string]bool{},
	}
	var spec *v1.PipelineSpec
	var specPath *field.Path
	pipelineName := pr.Name
	switch {
	case pr.Spec.PipelineRef != nil:
		pl, ok := set.Pipeline(pr.Spec.PipelineRef.Name)
		if !ok {
			p.errs = append(p.errs, field.NotFound(field.NewPath("spec", "pipelineRef", "name"), pr.Spec.PipelineRef.Name))
			return p
		}
		pl = pl.DeepCopy()
		pl.SetDefaults()
		spec = &pl.Spec
		pipelineName = pl.Name
		p.pipelines[pl.Name] = true
		specPath = field.NewPath("spec", "pipelineRef").Key(pl.Name).Child("spec")
	default:
		spec = pr.Spec.PipelineSpec.DeepCopy()
		for _, b := range pr.Spec.Workspaces {
			if !declaresPipelineWorkspace(spec, b.Name) {
				spec.Workspaces = append(spec.Workspaces, v1.PipelineWorkspaceDeclaration{Name: b.Name})
			}
		}
		specPath = field.NewPath("spec", "pipelineSpec")
	}
	spec.SetDefaults()
	var uid string
	if pr.UID != "" {
		uid = string(pr.UID)
	}
	specs := map[string]int{}
	for i, s := range pr.Spec.TaskRunSpecs {
		specs[s.PipelineTaskName] = i
	}
	p.planPipeline(set, opts, pr, pipelineScope{
		runName: pr.Name, uid: uid, pipelineName: pipelineName,
		spec: spec, specPath: specPath,
		params: pr.Spec.Params, bindings: pr.Spec.Workspaces,
		taskRunSpecs: specs, outer: map[string]bool{},
	})
	return p
}

// pipelineScope is one pipeline of a run as its tasks see it: the
// PipelineRun's own, or one that a pipeline task runs (pipelines in
// pipelines), which the engine runs as a child PipelineRun.
type pipelineScope struct {
	runName, uid, pipelineName string
	spec                       *v1.PipelineSpec
	specPath                   *field.Path
	// params and bindings are what the run, or the pipeline task, gives.
	params   v1.Params
	bindings []v1.WorkspaceBinding
	// taskRunSpecs are the PipelineRun's, by pipeline task (only for its
	// own pipeline).
	taskRunSpecs map[string]int
	// prefix is put before the names of this pipeline's tasks to make the
	// slots' keys ("" for the PipelineRun's own); outer are the keys of
	// the tasks every task of this pipeline runs after.
	prefix  string
	outer   map[string]bool
	finally bool
	depth   int
}

// planPipeline adds the slots of the tasks of one pipeline, and of the
// pipelines its tasks run.
func (p *plan) planPipeline(set *load.Set, opts engine.Options, pr *v1.PipelineRun, sc pipelineScope) {
	spec, specPath := sc.spec, sc.specPath
	// Values known before anything runs, as the engine applies them.
	params, err := engine.PipelineParamValues(sc.runName, pr.Namespace, sc.pipelineName, spec.Params, sc.params)
	if err != nil {
		path := field.NewPath("spec", "params")
		if sc.depth > 0 {
			path = specPath.Child("params")
		}
		p.errs = append(p.errs, field.Invalid(path, "", err.Error()))
		return
	}
	ctx := subst.NewValues()
	ctx.Strings["context.pipelineRun.name"] = sc.runName
	ctx.Strings["context.pipelineRun.namespace"] = pr.Namespace
	if sc.uid != "" {
		ctx.Strings["context.pipelineRun.uid"] = sc.uid
	}
	ctx.Strings["context.pipeline.name"] = sc.pipelineName
	bound := subst.NewValues()
	for _, w := range spec.Workspaces {
		bound.Strings["workspaces."+w.Name+".bound"] = "false"
	}
	bindings := map[string]v1.WorkspaceBinding{}
	for _, b := range sc.bindings {
		bound.Strings["workspaces."+b.Name+".bound"] = "true"
		bindings[b.Name] = b
	}

	graph, err := dag.Build(spec.Tasks)
	if err != nil {
		p.errs = append(p.errs, field.Invalid(specPath.Child("tasks"), "", err.Error()))
		return
	}
	// Slots are keyed by their pipeline task's name, after the names of
	// the pipeline tasks that run the pipelines it is in.
	key := func(name string) string { return sc.prefix + name }
	ancestors := func(name string) map[string]bool {
		out := maps.Clone(sc.outer)
		var walk func(string)
		walk = func(n string) {
			for _, a := range graph.Parents(n) {
				if !out[key(a)] {
					out[key(a)] = true
					walk(a)
				}
			}
		}
		walk(name)
		return out
	}
	all := maps.Clone(sc.outer)
	for _, t := range spec.Tasks {
		all[key(t.Name)] = true
	}

	groups := []struct {
		tasks   []v1.PipelineTask
		finally bool
		path    *field.Path
	}{{spec.Tasks, false, specPath.Child("tasks")}, {spec.Finally, true, specPath.Child("finally")}}
	for _, g := range groups {
		for i := range g.tasks {
			ptPath := g.path.Index(i)
			pt := g.tasks[i].DeepCopy()
			params.ApplyPipelineTask(pt)
			ctx.ApplyPipelineTask(pt)
			bound.ApplyPipelineTask(pt)

			var anc map[string]bool
			if g.finally {
				anc = all
			} else {
				anc = ancestors(pt.Name)
			}
			if pt.PipelineRef != nil || pt.PipelineSpec != nil {
				p.planChild(set, opts, pr, sc, pt, ptPath, anc, bindings, g.finally || sc.finally)
				continue
			}
			retries := subst.NewValues()
			retries.Strings["context.pipelineTask.retries"] = strconv.Itoa(pt.Retries)
			ts := pt.TaskSpec
			pt.TaskSpec = nil
			retries.ApplyPipelineTask(pt)
			pt.TaskSpec = ts

			sa, saPath := pr.Spec.TaskRunTemplate.ServiceAccountName, field.NewPath("spec", "taskRunTemplate", "serviceAccountName")
			tmpl, tmplPath := pr.Spec.TaskRunTemplate.PodTemplate, field.NewPath("spec", "taskRunTemplate", "podTemplate")
			var trs v1.PipelineTaskRunSpec
			if j, ok := sc.taskRunSpecs[pt.Name]; ok {
				trs = pr.Spec.TaskRunSpecs[j]
				if trs.ServiceAccountName != "" {
					sa, saPath = trs.ServiceAccountName, field.NewPath("spec", "taskRunSpecs").Index(j).Child("serviceAccountName")
				}
				if trs.PodTemplate != nil {
					tmpl, tmplPath = engine.MergePodTemplate(tmpl, trs.PodTemplate), field.NewPath("spec", "taskRunSpecs").Index(j).Child("podTemplate")
				}
			}
			p.planPipelineTask(set, opts, pt, ptPath, g.finally || sc.finally, key(pt.Name), anc, bindings, sc.runName, pr, slotSettings{
				serviceAccount: sa, saPath: saPath, podTemplate: tmpl, ptPath: tmplPath,
				stepSpecs: trs.StepSpecs, sidecarSpecs: trs.SidecarSpecs, computeRes: trs.ComputeResources,
			})
		}
	}
}

// planChild adds the slots of the pipeline that pipeline task pt runs, as
// the engine starts it: a child PipelineRun named after the run and the
// task, given the task's params, its workspaces bound to the run's.
func (p *plan) planChild(set *load.Set, opts engine.Options, pr *v1.PipelineRun, parent pipelineScope, pt *v1.PipelineTask, ptPath *field.Path, anc map[string]bool, bindings map[string]v1.WorkspaceBinding, finally bool) {
	if parent.depth+1 > engine.MaxPipelineDepth {
		p.errs = append(p.errs, field.Forbidden(ptPath, fmt.Sprintf("pipelines nest deeper than %d", engine.MaxPipelineDepth)))
		return
	}
	if pt.Matrix != nil {
		p.errs = append(p.errs, field.Forbidden(ptPath.Child("matrix"), "a pipeline task that runs a pipeline cannot fan out"))
		return
	}
	name := engine.ChildPipelineRunName(parent.runName, pt.Name)
	var childBindings []v1.WorkspaceBinding
	for _, b := range pt.Workspaces {
		src := b.Workspace
		if src == "" {
			src = b.Name
		}
		prb, ok := bindings[src]
		if !ok {
			continue
		}
		nb := *copyJSON(&prb)
		nb.Name = b.Name
		if b.SubPath != "" {
			if nb.SubPath != "" {
				nb.SubPath = path.Join(nb.SubPath, b.SubPath)
			} else {
				nb.SubPath = b.SubPath
			}
		}
		childBindings = append(childBindings, nb)
	}
	var spec *v1.PipelineSpec
	var specPath *field.Path
	pipelineName := name
	if pt.PipelineRef != nil {
		pl, ok := set.Pipeline(pt.PipelineRef.Name)
		if !ok {
			p.errs = append(p.errs, field.NotFound(ptPath.Child("pipelineRef", "name"), pt.PipelineRef.Name))
			return
		}
		pl = pl.DeepCopy()
		pl.SetDefaults()
		spec, pipelineName = &pl.Spec, pl.Name
		p.pipelines[pl.Name] = true
		specPath = ptPath.Child("pipelineRef").Key(pl.Name).Child("spec")
	} else {
		spec = pt.PipelineSpec.DeepCopy()
		for _, b := range childBindings {
			if !declaresPipelineWorkspace(spec, b.Name) {
				spec.Workspaces = append(spec.Workspaces, v1.PipelineWorkspaceDeclaration{Name: b.Name})
			}
		}
		specPath = ptPath.Child("pipelineSpec")
	}
	spec.SetDefaults()
	p.planPipeline(set, opts, pr, pipelineScope{
		runName: name, pipelineName: pipelineName,
		spec: spec, specPath: specPath,
		params: pt.Params, bindings: childBindings,
		prefix: parent.prefix + pt.Name + "/", outer: anc,
		finally: finally, depth: parent.depth + 1,
	})
}

// slotSettings are a task's run settings from the PipelineRun.
type slotSettings struct {
	serviceAccount string
	saPath         *field.Path
	podTemplate    *v1.PodTemplate
	ptPath         *field.Path
	stepSpecs      []v1.TaskRunStepSpec
	sidecarSpecs   []v1.TaskRunSidecarSpec
	computeRes     *corev1.ResourceRequirements
}

// planPipelineTask adds the slots of one pipeline task, whose
// pipeline-scope values are applied.
func (p *plan) planPipelineTask(set *load.Set, opts engine.Options, pt *v1.PipelineTask, ptPath *field.Path, finally bool, key string, anc map[string]bool, bindings map[string]v1.WorkspaceBinding, runName string, pr *v1.PipelineRun, st slotSettings) {
	var spec *v1.TaskSpec
	var specPath *field.Path
	switch {
	case pt.TaskRef != nil:
		t, ok := set.Task(pt.TaskRef.Name)
		if !ok {
			p.errs = append(p.errs, field.NotFound(ptPath.Child("taskRef", "name"), pt.TaskRef.Name))
			return
		}
		t = t.DeepCopy()
		t.SetDefaults()
		spec = &t.Spec
		p.tasks[t.Name] = true
		specPath = ptPath.Child("taskRef").Key(t.Name).Child("spec")
	case pt.TaskSpec != nil:
		spec = pt.TaskSpec.TaskSpec.DeepCopy()
		spec.SetDefaults()
		specPath = ptPath.Child("taskSpec")
	default:
		return
	}
	p.noteStepActions(spec)

	// Matrix combinations must be known now: each gets containers.
	var combos []v1.Params
	n := -1
	if m := pt.Matrix; m != nil {
		if errs := staticMatrix(m, ptPath.Child("matrix")); len(errs) > 0 {
			p.errs = append(p.errs, errs...)
			return
		}
		combos = engine.MatrixCombinations(m)
		n = len(combos)
	}
	names := engine.TaskRunNames(runName, pt.Name, n)

	// Workspaces: the task's bindings to the run's, subPaths joined; an
	// embedded spec also gets the pipeline workspaces it uses.
	wsBindings := append([]v1.WorkspacePipelineTaskBinding{}, pt.Workspaces...)
	if pt.TaskSpec != nil {
		for _, name := range usedWorkspaces(spec) {
			found := false
			for _, b := range wsBindings {
				if b.Name == name {
					found = true
				}
			}
			if _, ok := bindings[name]; ok && !found {
				wsBindings = append(wsBindings, v1.WorkspacePipelineTaskBinding{Name: name})
			}
		}
	}
	var trBindings []v1.WorkspaceBinding
	sources := map[string]string{}
	for _, b := range wsBindings {
		src := b.Workspace
		if src == "" {
			src = b.Name
		}
		prb, ok := bindings[src]
		if !ok {
			continue
		}
		nb := *copyJSON(&prb)
		nb.Name = b.Name
		if b.SubPath != "" {
			if nb.SubPath != "" {
				nb.SubPath = path.Join(nb.SubPath, b.SubPath)
			} else {
				nb.SubPath = b.SubPath
			}
		}
		trBindings = append(trBindings, nb)
		sources[b.Name] = src
	}

	for i, name := range names {
		params := append(v1.Params{}, pt.Params...)
		index := -1
		if combos != nil {
			params = append(params, combos[i]...)
			index = i
		}
		tr := &v1.TaskRun{
			TypeMeta:   metav1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.KindTaskRun},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: pr.Namespace},
			Spec: v1.TaskRunSpec{
				Params:       placeholders(params, spec),
				Workspaces:   trBindings,
				StepSpecs:    st.stepSpecs,
				SidecarSpecs: st.sidecarSpecs,
			},
		}
		if pt.TaskRef != nil {
			tr.Spec.TaskRef = &v1.TaskRef{Name: pt.TaskRef.Name}
		} else {
			tr.Spec.TaskSpec = pt.TaskSpec.TaskSpec.DeepCopy()
		}
		s := &slot{
			taskRun: name, pipelineTask: pt.Name, key: key, finally: finally, ancestors: anc, index: -1,
			path: ptPath, specPath: specPath, sources: sources,
			serviceAccount: st.serviceAccount, saPath: st.saPath,
			podTemplate: st.podTemplate, ptPath: st.ptPath,
			stepSpecs: st.stepSpecs, sidecarSpecs: st.sidecarSpecs, computeRes: st.computeRes,
		}
		s.index = index
		if err := s.firstAttempt(tr, set, opts); err != nil {
			p.errs = append(p.errs, field.Invalid(ptPath, pt.Name, err.Error()))
			return
		}
		p.slots = append(p.slots, s)
	}
}

// planTaskRun works out the one TaskRun of a standalone run.
func planTaskRun(tr *v1.TaskRun, set *load.Set, opts engine.Options) *plan {
	tr = tr.DeepCopy()
	if opts.DefaultTimeout <= 0 {
		opts.DefaultTimeout = v1.DefaultTimeout
	}
	if tr.Spec.Timeout == nil {
		tr.Spec.Timeout = &metav1.Duration{Duration: opts.DefaultTimeout}
	}
	tr.SetDefaults()
	p := &plan{
		kind: v1.KindTaskRun, name: tr.Name, namespace: tr.Namespace,
		bindings: tr.Spec.Workspaces,
		tasks:    map[string]bool{}, pipelines: map[string]bool{}, stepActions: map[string]bool{},
	}
	if d := tr.Spec.Timeout.Duration; d > 0 {
		p.timeout = d * time.Duration(tr.Spec.Retries+1)
	}
	specPath := field.NewPath("spec", "taskSpec")
	var spec *v1.TaskSpec
	if tr.Spec.TaskRef != nil {
		t, ok := set.Task(tr.Spec.TaskRef.Name)
		if !ok {
			p.errs = append(p.errs, field.NotFound(field.NewPath("spec", "taskRef", "name"), tr.Spec.TaskRef.Name))
			return p
		}
		p.tasks[t.Name] = true
		spec = &t.Spec
		specPath = field.NewPath("spec", "taskRef").Key(t.Name).Child("spec")
	} else {
		spec = tr.Spec.TaskSpec
	}
	p.noteStepActions(spec)
	sources := map[string]string{}
	for _, b := range tr.Spec.Workspaces {
		sources[b.Name] = b.Name
	}
	s := &slot{
		taskRun: tr.Name, index: -1, path: field.NewPath("spec"), specPath: specPath, sources: sources,
		serviceAccount: tr.Spec.ServiceAccountName, saPath: field.NewPath("spec", "serviceAccountName"),
		podTemplate: tr.Spec.PodTemplate, ptPath: field.NewPath("spec", "podTemplate"),
		stepSpecs: tr.Spec.StepSpecs, sidecarSpecs: tr.Spec.SidecarSpecs, computeRes: tr.Spec.ComputeResources,
		ancestors: map[string]bool{},
	}
	sim := tr.DeepCopy()
	sim.Spec.Status = ""
	sim.Spec.Retries = 0
	if err := s.firstAttempt(sim, set, opts); err != nil {
		p.errs = append(p.errs, field.Invalid(field.NewPath("spec"), tr.Name, err.Error()))
		return p
	}
	p.slots = append(p.slots, s)
	return p
}

// firstAttempt asks the engine for the first attempt of tr, a TaskRun as
// the run would create it, and keeps what it says.
func (s *slot) firstAttempt(tr *v1.TaskRun, set *load.Set, opts engine.Options) error {
	eng, err := engine.NewTaskRun(tr, set, opts)
	if err != nil {
		return err
	}
	plan := eng.Next(time.Unix(0, 0))
	for _, a := range plan.Actions {
		if sa, ok := a.(engine.StartAttempt); ok {
			s.attempt = sa
			for _, st := range sa.Spec.Steps {
				s.steps = append(s.steps, engine.MergeStepTemplate(sa.Spec.StepTemplate, st))
			}
			return nil
		}
	}
	st := eng.Status()
	if st.TaskRun != nil {
		if c := st.TaskRun.GetCondition(); c != nil {
			return fmt.Errorf("%s: %s", c.Reason, c.Message)
		}
	}
	return fmt.Errorf("the engine started no attempt of TaskRun %q", tr.Name)
}

// noteStepActions records the StepActions a spec's steps use.
func (p *plan) noteStepActions(spec *v1.TaskSpec) {
	for _, st := range spec.Steps {
		if st.Ref != nil && st.Ref.Name != "" {
			p.stepActions[st.Ref.Name] = true
		}
	}
}

// staticMatrix checks that a matrix's fan-out does not depend on task
// results: the number of combinations, which decides the containers, must
// be known before the run starts.
func staticMatrix(m *v1.Matrix, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, mp := range m.Params {
		names[mp.Name] = true
		if r, ok := runtimeRef(paramTexts(mp.Value)...); ok {
			errs = append(errs, field.Invalid(path.Child("params").Index(i).Child("value"), r,
				"the matrix fans out over a task result: in one Pod every combination needs its own containers, so the combinations must be known before the run starts (use literal values or PipelineRun params)"))
			continue
		}
		if mp.Value.Type != v1.ParamTypeArray {
			errs = append(errs, field.Invalid(path.Child("params").Index(i).Child("value"), mp.Value.StringVal, "a matrix param must be an array"))
		}
	}
	for i, inc := range m.Include {
		for j, ip := range inc.Params {
			// Only values of params the matrix also has decide whether an
			// include entry adds a combination.
			if !names[ip.Name] {
				continue
			}
			if r, ok := runtimeRef(ip.Value.StringVal); ok {
				errs = append(errs, field.Invalid(path.Child("include").Index(i).Child("params").Index(j).Child("value"), r,
					"whether this include entry adds a combination depends on a task result: the combinations must be known before the run starts"))
			}
		}
	}
	return errs
}

// runtimeRef returns the first reference to a task result or status in
// texts.
func runtimeRef(texts ...string) (string, bool) {
	for _, t := range texts {
		for _, r := range subst.Refs(t) {
			if r.Root == "tasks" || r.Root == "finally" {
				return r.Raw, true
			}
		}
	}
	return "", false
}

// placeholders returns params with every value that still refers to a
// task result replaced by a value of the declared type whose strings are
// that reference: what the run will know only later stays visibly unknown
// (and a step image that uses it is rejected), while the Task still gets
// params of the types it declares.
func placeholders(params v1.Params, spec *v1.TaskSpec) v1.Params {
	out := make(v1.Params, 0, len(params))
	for _, p := range params {
		ref, ok := runtimeRef(paramTexts(p.Value)...)
		if !ok {
			out = append(out, p)
			continue
		}
		t := v1.ParamTypeString
		var props []string
		if ps, ok := spec.Params.Lookup(p.Name); ok {
			t = ps.Type
			for k := range ps.Properties {
				props = append(props, k)
			}
			sort.Strings(props)
		}
		switch t {
		case v1.ParamTypeArray:
			out = append(out, v1.Param{Name: p.Name, Value: v1.NewArray(ref)})
		case v1.ParamTypeObject:
			obj := map[string]string{}
			for _, k := range props {
				obj[k] = ref
			}
			out = append(out, v1.Param{Name: p.Name, Value: v1.NewObject(obj)})
		default:
			out = append(out, v1.Param{Name: p.Name, Value: v1.NewString(ref)})
		}
	}
	return out
}

// paramTexts returns every string of a value.
func paramTexts(v v1.ParamValue) []string {
	switch v.Type {
	case v1.ParamTypeArray:
		return v.ArrayVal
	case v1.ParamTypeObject:
		var out []string
		for _, k := range v.ObjectKeys() {
			out = append(out, v.ObjectVal[k])
		}
		return out
	}
	return []string{v.StringVal}
}

func declaresPipelineWorkspace(spec *v1.PipelineSpec, name string) bool {
	for _, w := range spec.Workspaces {
		if w.Name == name {
			return true
		}
	}
	return false
}

// usedWorkspaces returns the workspaces an embedded spec's fields refer to.
func usedWorkspaces(spec *v1.TaskSpec) []string {
	seen := map[string]bool{}
	var out []string
	walkStrings(spec, func(s string) {
		if !strings.Contains(s, "$(") {
			return
		}
		for _, r := range subst.Refs(s) {
			if r.Root == "workspaces" && r.Name != "" && !seen[r.Name] {
				seen[r.Name] = true
				out = append(out, r.Name)
			}
		}
	})
	return out
}
