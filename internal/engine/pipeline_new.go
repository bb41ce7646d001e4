package engine

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/dag"
	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// NewPipelineRun returns an engine for a PipelineRun. It copies and
// defaults pr, resolves its pipelineRef and every taskRef (and StepAction)
// through refs, and checks what upstream checks before it creates the first
// TaskRun; a problem is an *InvalidRunError whose Reason is the condition
// reason upstream would report.
func NewPipelineRun(pr *v1.PipelineRun, refs Refs, opts Options) (*Engine, error) {
	if pr == nil {
		return nil, invalid(ReasonPipelineValidationFailed, "no PipelineRun")
	}
	opts = opts.withDefaults()
	pr = pr.DeepCopy()
	if pr.Spec.Timeouts == nil {
		pr.Spec.Timeouts = &v1.TimeoutFields{}
	}
	if pr.Spec.Timeouts.Pipeline == nil {
		pr.Spec.Timeouts.Pipeline = &metav1.Duration{Duration: opts.DefaultTimeout}
	}
	pr.SetDefaults()

	var spec *v1.PipelineSpec
	pipelineName := pr.Name
	switch {
	case pr.Spec.PipelineRef != nil && pr.Spec.PipelineSpec != nil:
		return nil, invalid(ReasonPipelineValidationFailed, "expected exactly one, got both: spec.pipelineRef, spec.pipelineSpec")
	case pr.Spec.PipelineRef != nil:
		p, err := lookupPipeline(refs, pr.Spec.PipelineRef)
		if err != nil {
			return nil, invalid(ReasonCouldntGetPipeline, "Error retrieving pipeline for pipelinerun %s/%s: %v", pr.Namespace, pr.Name, err)
		}
		spec = p.Spec.DeepCopy()
		pipelineName = p.Name
	case pr.Spec.PipelineSpec != nil:
		spec = pr.Spec.PipelineSpec.DeepCopy()
		// An inline spec sees the run's undeclared workspaces.
		for _, b := range pr.Spec.Workspaces {
			if !declaresPipelineWorkspace(spec, b.Name) {
				spec.Workspaces = append(spec.Workspaces, v1.PipelineWorkspaceDeclaration{Name: b.Name})
			}
		}
	default:
		return nil, invalid(ReasonPipelineValidationFailed, "expected exactly one, got neither: spec.pipelineRef, spec.pipelineSpec")
	}
	spec.SetDefaults()

	e := &Engine{opts: opts}
	cfg := pipelineConfig{
		name:         pr.Name,
		namespace:    pr.Namespace,
		uid:          string(pr.UID),
		pipelineName: pipelineName,
		spec:         spec,
		params:       pr.Spec.Params,
		bindings:     pr.Spec.Workspaces,
		timeouts:     pr.Spec.Timeouts,
		template:     pr.Spec.TaskRunTemplate,
		taskRunSpecs: pr.Spec.TaskRunSpecs,
		labels:       copyMap(pr.Labels),
		annotations:  copyMap(pr.Annotations),
	}
	pl, err := newPipelineRun(e, refs, cfg, 0)
	if err != nil {
		return nil, err
	}
	e.pl = pl
	switch pr.Spec.Status {
	case v1.PipelineRunSpecStatusCancelled, v1.PipelineRunSpecStatusCancelledRunFinally, v1.PipelineRunSpecStatusStoppedRunFinally:
		pl.requestCancel(pr.Spec.Status)
	}
	return e, nil
}

// pipelineConfig is what a pipeline run needs to start: the top
// PipelineRun's spec, or a PipelineTask that runs a pipeline.
type pipelineConfig struct {
	name, namespace, uid string
	pipelineName         string
	spec                 *v1.PipelineSpec
	params               v1.Params
	bindings             []v1.WorkspaceBinding
	timeouts             *v1.TimeoutFields
	template             v1.PipelineTaskRunTemplate
	taskRunSpecs         []v1.PipelineTaskRunSpec
	labels, annotations  map[string]string
}

// maxPipelineDepth bounds pipelines in pipelines.
const maxPipelineDepth = 10

func newPipelineRun(e *Engine, refs Refs, cfg pipelineConfig, depth int) (*pipelineRun, error) {
	if depth > maxPipelineDepth {
		return nil, invalid(ReasonPipelineValidationFailed, "pipelines are nested deeper than %d levels", maxPipelineDepth)
	}
	spec := cfg.spec
	if len(spec.Tasks) == 0 && len(spec.Finally) > 0 {
		return nil, invalid(ReasonPipelineValidationFailed, "invalid value: spec.tasks is empty but spec.finally has tasks")
	}
	p := &pipelineRun{
		e:            e,
		refs:         refs,
		name:         cfg.name,
		namespace:    cfg.namespace,
		uid:          cfg.uid,
		pipelineName: cfg.pipelineName,
		spec:         spec,
		template:     cfg.template,
		labels:       cfg.labels,
		annotations:  cfg.annotations,
		bindings:     map[string]v1.WorkspaceBinding{},
		byName:       map[string]*pipelineTask{},
		taskRunSpecs: map[string]v1.PipelineTaskRunSpec{},
		depth:        depth,
	}
	p.setTimeouts(cfg.timeouts, e.opts.DefaultTimeout)

	// Workspaces: every required one is bound.
	for _, b := range cfg.bindings {
		p.bindings[b.Name] = b
	}
	for _, w := range spec.Workspaces {
		if _, ok := p.bindings[w.Name]; !ok && !w.Optional {
			return nil, invalid(ReasonInvalidWorkspaceBindings, "pipeline requires workspace with name %q be provided by pipelinerun", w.Name)
		}
	}
	// taskRunSpecs name existing tasks.
	for _, s := range cfg.taskRunSpecs {
		if !hasPipelineTask(spec, s.PipelineTaskName) {
			return nil, invalid(ReasonInvalidTaskRunSpecs, "pipelineRun's taskrunSpecs defined wrong taskName: %q, does not exist in Pipeline", s.PipelineTaskName)
		}
		p.taskRunSpecs[s.PipelineTaskName] = s
	}

	vals, _, err := pipelineParams(cfg.name, cfg.namespace, cfg.pipelineName, spec.Params, cfg.params)
	if err != nil {
		return nil, err
	}
	p.paramVals = vals

	// The graph of DAG tasks, and checks on finally tasks.
	g, err := dag.Build(spec.Tasks)
	if err != nil {
		return nil, &InvalidRunError{Reason: ReasonPipelineInvalidGraph, Errs: []error{fmt.Errorf("PipelineRun %s/%s's Pipeline DAG is invalid: %w", cfg.namespace, cfg.name, err)}}
	}
	p.graph = g
	if err := checkFinally(spec); err != nil {
		return nil, err
	}

	for i := range spec.Tasks {
		t, err := p.newPipelineTask(&spec.Tasks[i], false, depth)
		if err != nil {
			return nil, err
		}
		p.tasks = append(p.tasks, t)
		p.byName[t.pt.Name] = t
	}
	for i := range spec.Finally {
		t, err := p.newPipelineTask(&spec.Finally[i], true, depth)
		if err != nil {
			return nil, err
		}
		p.finally = append(p.finally, t)
		p.byName[t.pt.Name] = t
	}
	if err := p.checkResultRefs(); err != nil {
		return nil, err
	}
	if err := p.checkStaticWhen(); err != nil {
		return nil, err
	}
	return p, nil
}

// lookupPipeline resolves a pipelineRef.
func lookupPipeline(refs Refs, ref *v1.PipelineRef) (*v1.Pipeline, error) {
	if ref.Resolver != "" {
		return nil, fmt.Errorf("pipeline reference through resolver %q is not supported: resolve it before running", ref.Resolver)
	}
	if refs == nil {
		return nil, fmt.Errorf("pipelines.tekton.dev %q not found", ref.Name)
	}
	pl, ok := refs.Pipeline(ref.Name)
	if !ok || pl == nil {
		return nil, fmt.Errorf("pipelines.tekton.dev %q not found", ref.Name)
	}
	pl = pl.DeepCopy()
	pl.SetDefaults()
	return pl, nil
}

func declaresPipelineWorkspace(spec *v1.PipelineSpec, name string) bool {
	for _, w := range spec.Workspaces {
		if w.Name == name {
			return true
		}
	}
	return false
}

func hasPipelineTask(spec *v1.PipelineSpec, name string) bool {
	for _, t := range spec.Tasks {
		if t.Name == name {
			return true
		}
	}
	for _, t := range spec.Finally {
		if t.Name == name {
			return true
		}
	}
	return false
}

// checkFinally checks what upstream rejects in finally tasks: runAfter,
// and results of other finally tasks; names unique across the pipeline.
func checkFinally(spec *v1.PipelineSpec) error {
	names := map[string]bool{}
	for _, t := range spec.Tasks {
		names[t.Name] = true
	}
	finals := map[string]bool{}
	for _, t := range spec.Finally {
		if names[t.Name] || finals[t.Name] {
			return invalid(ReasonPipelineValidationFailed, "invalid value: duplicate pipeline task name %q", t.Name)
		}
		finals[t.Name] = true
	}
	for i := range spec.Finally {
		t := &spec.Finally[i]
		if len(t.RunAfter) > 0 {
			return invalid(ReasonPipelineInvalidGraph, "invalid value: finally task %q: runAfter is not allowed in finally tasks", t.Name)
		}
		deps, err := dag.Deps(t)
		if err != nil {
			return invalidWrap(ReasonPipelineValidationFailed, err)
		}
		for _, d := range deps {
			if finals[d.Task] {
				return invalid(ReasonInvalidTaskResultReference, "invalid value: finally task %q refers to the result of finally task %q", t.Name, d.Task)
			}
			if !names[d.Task] {
				return invalid(ReasonInvalidTaskResultReference, "invalid value: finally task %q refers to the result of unknown task %q", t.Name, d.Task)
			}
		}
	}
	return nil
}

// newPipelineTask resolves one PipelineTask.
func (p *pipelineRun) newPipelineTask(pt *v1.PipelineTask, finally bool, depth int) (*pipelineTask, error) {
	t := &pipelineTask{pt: pt, finally: finally}
	kinds := 0
	for _, set := range []bool{pt.TaskRef != nil, pt.TaskSpec != nil, pt.PipelineRef != nil, pt.PipelineSpec != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, invalid(ReasonPipelineValidationFailed, "invalid value: pipeline task %q: expected exactly one of taskRef, taskSpec, pipelineRef, pipelineSpec", pt.Name)
	}
	if pt.OnError == v1.PipelineTaskContinue && pt.Retries > 0 {
		return nil, invalid(ReasonPipelineValidationFailed, "invalid value: pipeline task %q: PipelineTask OnError cannot be set to continue when Retries is greater than 0", pt.Name)
	}
	switch {
	case pt.TaskRef != nil:
		if pt.TaskRef.APIVersion != "" && pt.TaskRef.Kind != "" && pt.TaskRef.Kind != v1.KindTask {
			return nil, invalid(ReasonCreateRunFailed, "pipeline task %q refers to a custom task (%s %s), which cannot run here", pt.Name, pt.TaskRef.APIVersion, pt.TaskRef.Kind)
		}
		task, err := lookupTask(p.refs, pt.TaskRef)
		if err != nil {
			return nil, invalid(ReasonCouldntGetTask, "Pipeline %s/%s can't be Run; it contains Tasks that don't exist: Couldn't retrieve Task %q: %v", p.namespace, p.pipelineName, pt.TaskRef.Name, err)
		}
		t.spec = &task.Spec
		t.taskName = task.Name
	case pt.TaskSpec != nil:
		if pt.TaskSpec.APIVersion != "" || pt.TaskSpec.Kind != "" {
			return nil, invalid(ReasonCreateRunFailed, "pipeline task %q embeds a custom task (%s %s), which cannot run here", pt.Name, pt.TaskSpec.APIVersion, pt.TaskSpec.Kind)
		}
		spec := pt.TaskSpec.TaskSpec.DeepCopy()
		spec.SetDefaults()
		t.spec = spec
		t.embedded = true
	default:
		child, err := p.childPipelineSpec(pt)
		if err != nil {
			return nil, err
		}
		t.childSpec = child
		t.childName = child.name
	}
	if t.spec != nil {
		if len(t.spec.Steps) == 0 {
			return nil, invalid(ReasonPipelineValidationFailed, "invalid value: pipeline task %q: its Task has no steps", pt.Name)
		}
		if err := checkStepActions(t.spec, p.refs); err != nil {
			return nil, invalidWrap(ReasonCouldntGetTask, err)
		}
		if !t.embedded {
			if err := checkPipelineTaskParams(pt, t.spec, t.taskName); err != nil {
				return nil, err
			}
		}
		if err := p.checkPipelineTaskParamTypes(pt, t.spec, t.taskName); err != nil {
			return nil, err
		}
		if err := p.checkTaskWorkspaces(t); err != nil {
			return nil, err
		}
	}
	if pt.Matrix != nil {
		if err := p.checkMatrix(t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// childPipelineSpec resolves the pipeline a PipelineTask runs.
type childSpec struct {
	name string
	spec *v1.PipelineSpec
}

func (p *pipelineRun) childPipelineSpec(pt *v1.PipelineTask) (*childSpec, error) {
	if pt.PipelineRef != nil {
		pl, err := lookupPipeline(p.refs, pt.PipelineRef)
		if err != nil {
			return nil, invalid(ReasonCouldntGetPipeline, "pipeline task %q: %v", pt.Name, err)
		}
		return &childSpec{name: pl.Name, spec: &pl.Spec}, nil
	}
	spec := pt.PipelineSpec.DeepCopy()
	spec.SetDefaults()
	return &childSpec{spec: spec}, nil
}

// checkPipelineTaskParams checks that a PipelineTask gives a referenced
// Task every param it needs.
func checkPipelineTaskParams(pt *v1.PipelineTask, spec *v1.TaskSpec, taskName string) error {
	given := map[string]bool{}
	for _, p := range pt.Params {
		given[p.Name] = true
	}
	if pt.Matrix != nil {
		for _, p := range pt.Matrix.Params {
			given[p.Name] = true
		}
		for _, inc := range pt.Matrix.Include {
			for _, p := range inc.Params {
				given[p.Name] = true
			}
		}
	}
	var missing []string
	for _, ps := range spec.Params {
		if ps.Default == nil && !given[ps.Name] {
			missing = append(missing, ps.Name)
		}
	}
	if len(missing) > 0 {
		return invalid(ReasonPipelineValidationFailed, "invalid input params for task %s: missing values for these params which have no default values: %v", taskName, missing)
	}
	return nil
}

// checkPipelineTaskParamTypes checks, for the params whose values are
// known before anything runs, that each has the type its Task declares.
func (p *pipelineRun) checkPipelineTaskParamTypes(pt *v1.PipelineTask, spec *v1.TaskSpec, taskName string) error {
	if taskName == "" {
		taskName = pt.Name
	}
	vals := p.staticValues()
	var mismatch []string
	for _, given := range pt.Params {
		ps, ok := spec.Params.Lookup(given.Name)
		if !ok {
			continue
		}
		v := vals.ApplyParam(given.Value)
		if hasRuntimeRefs(strings.Join(paramTexts(v), " ")) {
			continue
		}
		if v.Type != ps.Type && !(v.Type == "" && ps.Type == v1.ParamTypeString) {
			mismatch = append(mismatch, given.Name)
		}
	}
	if len(mismatch) > 0 {
		return invalid(ReasonPipelineValidationFailed, "invalid input params for task %s: param types don't match the user-specified type: %v", taskName, mismatch)
	}
	return nil
}

// checkTaskWorkspaces checks that a PipelineTask binds the workspaces its
// Task needs to workspaces the pipeline has.
func (p *pipelineRun) checkTaskWorkspaces(t *pipelineTask) error {
	bound := map[string]bool{}
	for _, w := range t.pt.Workspaces {
		src := w.Workspace
		if src == "" {
			src = w.Name
		}
		decl, ok := pipelineWorkspace(p.spec, src)
		if !ok {
			return invalid(ReasonPipelineValidationFailed, "invalid value: pipeline task %q uses workspace %q, which the pipeline does not declare", t.pt.Name, src)
		}
		if decl.Optional {
			for _, d := range t.spec.Workspaces {
				if d.Name == w.Name && !d.Optional {
					return invalid(ReasonRequiredWorkspaceMarkedOptional, "pipeline workspace %q is optional but task %q needs its workspace %q", src, t.pt.Name, w.Name)
				}
			}
		}
		bound[w.Name] = true
	}
	if t.embedded {
		return nil
	}
	for _, d := range t.spec.Workspaces {
		if !d.Optional && !bound[d.Name] {
			return invalid(ReasonPipelineValidationFailed, "invalid value: pipeline task %q does not bind workspace %q its Task needs", t.pt.Name, d.Name)
		}
	}
	return nil
}

func pipelineWorkspace(spec *v1.PipelineSpec, name string) (v1.PipelineWorkspaceDeclaration, bool) {
	for _, w := range spec.Workspaces {
		if w.Name == name {
			return w, true
		}
	}
	return v1.PipelineWorkspaceDeclaration{}, false
}

// checkResultRefs checks that result references name results the tasks
// declare, and that pipeline results use only task results.
func (p *pipelineRun) checkResultRefs() error {
	check := func(t *pipelineTask) error {
		deps, err := dag.Deps(t.pt)
		if err != nil {
			return invalidWrap(ReasonPipelineValidationFailed, err)
		}
		for _, d := range deps {
			if d.Kind != dag.Result {
				continue
			}
			prod, ok := p.byName[d.Task]
			if !ok || prod.finally {
				return invalid(ReasonInvalidTaskResultReference, "invalid task result reference: task %q refers to %s, but %q is not a task of the pipeline", t.pt.Name, d.Ref, d.Task)
			}
			if prod.spec != nil && !declaresResult(prod.spec, resultName(d.Result)) {
				return invalid(ReasonInvalidTaskResultReference, "invalid task result reference: task %q refers to %s, but Task of %q does not declare result %q", t.pt.Name, d.Ref, d.Task, resultName(d.Result))
			}
		}
		return nil
	}
	for _, t := range p.tasks {
		if err := check(t); err != nil {
			return err
		}
	}
	for _, t := range p.finally {
		if err := check(t); err != nil {
			return err
		}
	}
	for _, res := range p.spec.Results {
		for _, s := range paramTexts(res.Value) {
			for _, r := range subst.Refs(s) {
				if r.Root != "tasks" && r.Root != "finally" {
					return invalid(ReasonInvalidPipelineResultReference, "invalid pipeline result %q: %s is not a task result reference", res.Name, r.Raw)
				}
				segs := refSegments(r)
				if len(segs) < 4 || segs[2] != "results" {
					return invalid(ReasonInvalidPipelineResultReference, "invalid pipeline result %q: %s is not a task result reference", res.Name, r.Raw)
				}
				prod, ok := p.byName[segs[1]]
				if !ok || prod.finally != (r.Root == "finally") {
					return invalid(ReasonInvalidPipelineResultReference, "invalid pipeline result %q: %s refers to unknown task %q", res.Name, r.Raw, segs[1])
				}
				if prod.spec != nil && !declaresResult(prod.spec, segs[3]) {
					return invalid(ReasonInvalidPipelineResultReference, "invalid pipeline result %q: %s refers to result %q, which Task of %q does not declare", res.Name, r.Raw, segs[3], segs[1])
				}
			}
		}
	}
	return nil
}

// resultName strips an object key from a referenced result: "r.key" -> "r".
func resultName(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' || s[i] == '[' {
			return s[:i]
		}
	}
	return s
}

func declaresResult(spec *v1.TaskSpec, name string) bool {
	for _, r := range spec.Results {
		if r.Name == name {
			return true
		}
	}
	return false
}

// refSegments splits a reference's path into its segments.
func refSegments(r subst.Ref) []string {
	var out []string
	start := 0
	path := r.Key
	// Key segments are dot-joined; names with dots only appear quoted, in
	// which case the task and result positions still hold.
	for i := 0; i <= len(path); i++ {
		if i == len(path) || path[i] == '.' {
			out = append(out, path[start:i])
			start = i + 1
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

// checkStaticWhen evaluates, before anything runs, the CEL expressions
// that use no task result: upstream fails the run on any that does not
// evaluate to a boolean.
func (p *pipelineRun) checkStaticWhen() error {
	vals := p.staticValues()
	for _, t := range append(append([]*pipelineTask{}, p.tasks...), p.finally...) {
		for _, w := range t.pt.When {
			if w.CEL == "" {
				continue
			}
			expr := vals.Apply(w.CEL)
			if hasRuntimeRefs(expr) {
				continue
			}
			if _, err := evalCEL(expr); err != nil {
				return invalid(ReasonCELEvaluationFailed, "Error evaluating CEL %s for pipelineRun %s: %v", w.CEL, p.name, err)
			}
		}
	}
	return nil
}

// hasRuntimeRefs reports whether s uses task results or statuses.
func hasRuntimeRefs(s string) bool {
	for _, r := range subst.Refs(s) {
		if r.Root == "tasks" || r.Root == "finally" {
			return true
		}
	}
	return false
}
