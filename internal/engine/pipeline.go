package engine

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/dag"
	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Reasons a pipeline task is skipped, as upstream reports them.
const (
	skipWhen             = "When Expressions evaluated to false"
	skipParent           = "Parent Tasks were skipped"
	skipStopping         = "PipelineRun was stopping"
	skipGracefulCancel   = "PipelineRun was gracefully cancelled"
	skipGracefulStop     = "PipelineRun was gracefully stopped"
	skipMissingResults   = "Results were missing"
	skipPipelineTimeout  = "PipelineRun timeout has been reached"
	skipTasksTimeout     = "PipelineRun Tasks timeout has been reached"
	skipFinallyTimeout   = "PipelineRun Finally timeout has been reached"
	skipEmptyMatrixArray = "Matrix Parameters have an empty array"
)

// Labels and annotations upstream puts on the TaskRuns of a PipelineRun.
const (
	labelPipeline       = "tekton.dev/pipeline"
	labelPipelineRun    = "tekton.dev/pipelineRun"
	labelPipelineRunUID = "tekton.dev/pipelineRunUID"
	labelPipelineTask   = "tekton.dev/pipelineTask"
	labelMemberOf       = "tekton.dev/memberOf"
	annotationOnError   = "pipeline.tekton.dev/pipeline-task-on-error"
)

// pipelineRun is the state of one running pipeline: the top PipelineRun,
// or a pipeline a PipelineTask runs.
type pipelineRun struct {
	e    *Engine
	refs Refs

	name, namespace, uid string
	pipelineName         string
	spec                 *v1.PipelineSpec
	template             v1.PipelineTaskRunTemplate
	labels, annotations  map[string]string
	bindings             map[string]v1.WorkspaceBinding
	taskRunSpecs         map[string]v1.PipelineTaskRunSpec
	paramVals            map[string]v1.ParamValue
	graph                *dag.Graph
	tasks, finally       []*pipelineTask
	byName               map[string]*pipelineTask
	depth                int

	timeouts timeouts

	started          bool
	startTime        time.Time
	finallyStarted   bool
	finallyStartTime time.Time
	cancelMode       v1.PipelineRunSpecStatus
	cancelApplied    bool
	tasksTimedOut    bool
	finallyTimedOut  bool
	// stopped ends the run at once: a cancel, the pipeline timeout, or an
	// error found while running (CEL, results). Its condition is final;
	// the run finishes when nothing runs any more.
	stopped   *v1.Condition
	stoppedAt time.Time
	// cancelledByTimeout is set on a child pipeline its parent stopped
	// because of a timeout.
	cancelledByTimeout bool
	frozenSkipped      []v1.SkippedTask
	// done is set once the final condition is known.
	done       bool
	status     v1.PipelineRunStatus
	completeAt time.Time
}

// pipelineTask is one PipelineTask of a pipeline run.
type pipelineTask struct {
	pt       *v1.PipelineTask
	finally  bool
	spec     *v1.TaskSpec // resolved Task spec (nil for a pipeline)
	taskName string       // the Task's name for a taskRef
	embedded bool

	childSpec *childSpec
	childName string
	child     *pipelineRun

	// resolved is the PipelineTask with every pipeline-scope value known so
	// far applied; it is what status reports.
	resolved *v1.PipelineTask
	runs     []*taskRun
	// scheduled is set once the task's runs (or child pipeline) exist.
	scheduled bool
	// validation is set when the task failed validation before running.
	validation string
}

func (p *pipelineRun) requestCancel(mode v1.PipelineRunSpecStatus) {
	if p.done || p.stopped != nil {
		return
	}
	switch mode {
	case v1.PipelineRunSpecStatusCancelled:
		p.cancelMode = mode
		p.cancelApplied = false
	case v1.PipelineRunSpecStatusCancelledRunFinally, v1.PipelineRunSpecStatusStoppedRunFinally:
		if p.cancelMode == "" || (p.cancelMode == v1.PipelineRunSpecStatusStoppedRunFinally && mode == v1.PipelineRunSpecStatusCancelledRunFinally) {
			p.cancelMode = mode
			p.cancelApplied = false
		}
	}
	for _, t := range p.allTasks() {
		if t.child != nil {
			t.child.requestCancel(mode)
		}
	}
}

func (p *pipelineRun) allTasks() []*pipelineTask {
	out := make([]*pipelineTask, 0, len(p.tasks)+len(p.finally))
	out = append(out, p.tasks...)
	return append(out, p.finally...)
}

// finished reports whether the run is over and nothing of it still runs.
func (p *pipelineRun) finished() bool {
	if !p.done {
		return false
	}
	for _, t := range p.allTasks() {
		for _, r := range t.runs {
			if r.running() {
				return false
			}
		}
		if t.child != nil && !t.child.finished() {
			return false
		}
	}
	return true
}

// next drives the pipeline at time now.
func (p *pipelineRun) next(now time.Time) []Action {
	var acts []Action
	if !p.started {
		p.start(now)
	}
	acts = append(acts, p.applyCancel(now)...)
	acts = append(acts, p.checkTimeouts(now)...)
	for i := 0; i < 1000; i++ {
		n := len(acts)
		changed := false
		for _, t := range p.allTasks() {
			for _, r := range t.runs {
				acts = append(acts, r.checkTimeout(now)...)
				acts = append(acts, r.advance(now)...)
			}
			if t.child != nil && !t.child.finished() {
				acts = append(acts, t.child.next(now)...)
			}
		}
		if p.stopped == nil && !p.done {
			changed = p.schedule(now, &acts)
		}
		if !changed && len(acts) == n {
			break
		}
	}
	p.update(now)
	return acts
}

func (p *pipelineRun) start(now time.Time) {
	p.started = true
	p.startTime = now
	t := metav1.NewTime(now)
	p.status.StartTime = &t
	p.status.PipelineSpec = p.spec.DeepCopy()
	p.update(now)
}

// schedule starts every task that can start and records skips. It reports
// whether anything changed.
func (p *pipelineRun) schedule(now time.Time, acts *[]Action) bool {
	changed := false
	f := p.newFacts()
	if p.cancelMode != v1.PipelineRunSpecStatusCancelled {
		for _, name := range p.graph.Order() {
			t := p.byName[name]
			if t.scheduled || t.validation != "" {
				continue
			}
			if f.skip(t) != "" || !f.parentsDone(t) {
				continue
			}
			if p.cancelMode != "" || p.stopped != nil {
				continue
			}
			p.startTask(t, f, now, acts)
			changed = true
			f = p.newFacts()
			if p.stopped != nil {
				return true
			}
		}
	}
	if !p.finallyStarted && len(p.finally) > 0 && f.dagDone() && p.cancelMode != v1.PipelineRunSpecStatusCancelled && p.stopped == nil {
		p.finallyStarted = true
		p.finallyStartTime = now
		t := metav1.NewTime(now)
		p.status.FinallyStartTime = &t
		changed = true
		f = p.newFacts()
	}
	if p.finallyStarted && p.stopped == nil {
		for _, t := range p.finally {
			if t.scheduled || t.validation != "" || f.skip(t) != "" {
				continue
			}
			p.startTask(t, f, now, acts)
			changed = true
			f = p.newFacts()
			if p.stopped != nil {
				return true
			}
		}
	}
	return changed
}

// startTask creates the runs of a task whose turn has come, or marks it as
// failing validation.
func (p *pipelineRun) startTask(t *pipelineTask, f *facts, now time.Time, acts *[]Action) {
	res := f.resolve(t)
	if res.indexErr != nil {
		p.stop(now, ReasonPipelineValidationFailed, fmt.Sprintf("PipelineRun %s/%s can't be Run; couldn't resolve all references: %v", p.namespace, p.name, res.indexErr), msgCancelledByPipeline)
		return
	}
	if res.whenErr != nil {
		p.stop(now, ReasonCELEvaluationFailed, fmt.Sprintf("Error evaluating CEL %s for pipelineRun %s: %v", celOf(t.pt.When), p.name, res.whenErr), msgCancelledByPipeline)
		return
	}
	if res.missing != nil {
		// A stopAndFail task that needs a result its completed producer
		// did not emit fails validation; no new task starts.
		t.validation = fmt.Sprintf("task %q completed successfully but did not emit the result %q, which is referenced by task %q", res.missing.task, res.missing.result, t.pt.Name)
		return
	}
	pt := res.pt
	t.resolved = pt
	t.scheduled = true
	if t.childSpec != nil {
		p.startChild(t, pt, now)
		return
	}
	combos, err := p.combinations(t, pt)
	if err != nil {
		p.stop(now, ReasonInvalidMatrixParameterTypes, err.Error(), msgCancelledByPipeline)
		return
	}
	n := len(combos)
	if pt.Matrix == nil {
		n = -1
	}
	names := runNames(p.name, t.pt.Name, n)
	for i, name := range names {
		params := append(v1.Params{}, pt.Params...)
		display := pt.DisplayName
		if pt.Matrix != nil {
			params = append(params, combos[i]...)
			display = matrixDisplayName(pt, combos[i], display)
		}
		r := p.newTaskRun(t, pt, name, params, display)
		t.runs = append(t.runs, r)
		p.e.runs = append(p.e.runs, r)
		*acts = append(*acts, r.advance(now)...)
	}
}

// runNames returns the names of a task's TaskRuns: <pr>-<pt>, or
// <pr>-<pt>-<i> for a matrix, at most 63 characters, as upstream names them.
func runNames(pr, pt string, n int) []string {
	if n < 0 {
		return []string{childName(pr, "-"+pt)}
	}
	var out []string
	for i := 0; i < n; i++ {
		suffix := fmt.Sprintf("-%d", i)
		name := childName(pr, fmt.Sprintf("-%s-%d", pt, i))
		if !hasSuffix(name, suffix) {
			name = childName(pr, "-"+pt)
			longest := 63 - len(fmt.Sprintf("-%d", n))
			if len(name) > longest {
				name = name[:longest]
			}
			name += suffix
		}
		out = append(out, name)
	}
	return out
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

// newTaskRun creates the TaskRun of one run of a PipelineTask.
func (p *pipelineRun) newTaskRun(t *pipelineTask, pt *v1.PipelineTask, name string, params v1.Params, display string) *taskRun {
	var spec *v1.TaskSpec
	taskName := t.taskName
	if t.embedded {
		spec = pt.TaskSpec.TaskSpec.DeepCopy()
		taskName = name
	} else {
		spec = t.spec.DeepCopy()
	}
	trs := p.taskRunSpecs[t.pt.Name]
	r := &taskRun{
		name:            name,
		namespace:       p.namespace,
		pipelineTask:    t.pt.Name,
		displayName:     display,
		finally:         t.finally,
		taskName:        taskName,
		spec:            spec,
		params:          params,
		sources:         map[string]string{},
		retries:         t.pt.Retries,
		timeout:         p.taskRunTimeout(t),
		onErrorContinue: t.pt.OnError == v1.PipelineTaskContinue,
		serviceAccount:  p.template.ServiceAccountName,
		podTemplate:     copyPodTemplate(p.template.PodTemplate),
		stepSpecs:       trs.StepSpecs,
		sidecarSpecs:    trs.SidecarSpecs,
		computeRes:      trs.ComputeResources,
		opts:            p.e.opts,
		stepActions:     stepActionLookup(p.refs),
	}
	if trs.ServiceAccountName != "" {
		r.serviceAccount = trs.ServiceAccountName
	}
	if trs.PodTemplate != nil {
		r.podTemplate = mergePodTemplate(r.podTemplate, trs.PodTemplate)
	}
	// Metadata: the embedded task's, then the PipelineRun's, then the
	// taskRunSpec's; upstream's labels last.
	r.labels, r.annotations = map[string]string{}, map[string]string{}
	if pt.TaskSpec != nil {
		mergeInto(r.labels, pt.TaskSpec.Metadata.Labels)
		mergeInto(r.annotations, pt.TaskSpec.Metadata.Annotations)
	}
	mergeInto(r.labels, p.labels)
	mergeInto(r.annotations, p.annotations)
	if trs.Metadata != nil {
		mergeInto(r.labels, trs.Metadata.Labels)
		mergeInto(r.annotations, trs.Metadata.Annotations)
	}
	r.labels[labelPipeline] = p.pipelineName
	r.labels[labelPipelineRun] = p.name
	if p.uid != "" {
		r.labels[labelPipelineRunUID] = p.uid
	}
	r.labels[labelPipelineTask] = t.pt.Name
	if t.finally {
		r.labels[labelMemberOf] = "finally"
	} else {
		r.labels[labelMemberOf] = "tasks"
	}
	if r.onErrorContinue {
		r.annotations[annotationOnError] = string(v1.PipelineTaskContinue)
	}
	if len(r.annotations) == 0 {
		r.annotations = nil
	}

	// Workspaces: the task's bindings to the pipeline's, subPaths joined;
	// an embedded spec also gets the pipeline workspaces it uses.
	wsBindings := append([]v1.WorkspacePipelineTaskBinding{}, pt.Workspaces...)
	if t.embedded {
		for _, name := range usedWorkspaces(spec) {
			found := false
			for _, b := range wsBindings {
				if b.Name == name {
					found = true
				}
			}
			if !found {
				if _, ok := pipelineWorkspace(p.spec, name); ok {
					wsBindings = append(wsBindings, v1.WorkspacePipelineTaskBinding{Name: name})
				}
			}
		}
	}
	for _, b := range wsBindings {
		src := b.Workspace
		if src == "" {
			src = b.Name
		}
		prb, ok := p.bindings[src]
		if !ok {
			continue
		}
		nb := copyBinding(prb)
		nb.Name = b.Name
		if b.SubPath != "" {
			if nb.SubPath != "" {
				nb.SubPath = path.Join(nb.SubPath, b.SubPath)
			} else {
				nb.SubPath = b.SubPath
			}
		}
		r.bindings = append(r.bindings, nb)
		r.sources[b.Name] = src
		if t.embedded && !declaresWorkspace(spec, b.Name) {
			spec.Workspaces = append(spec.Workspaces, v1.WorkspaceDeclaration{Name: b.Name})
		}
	}
	// A param a referenced Task declares with another type, or a missing
	// one, fails the TaskRun as upstream's TaskRun validation does.
	if err := checkTaskParams(taskName, spec, params); err != nil && !t.embedded {
		r.setupErr = invalidWrap(ReasonTaskRunValidationFailed, err)
	}
	return r
}

func mergeInto(dst, src map[string]string) {
	for k, v := range src {
		dst[k] = v
	}
}

// mergePodTemplate overlays the fields over sets on base.
func mergePodTemplate(base, over *v1.PodTemplate) *v1.PodTemplate {
	if base == nil {
		return copyPodTemplate(over)
	}
	out := copyPodTemplate(base)
	o := copyPodTemplate(over)
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

// usedWorkspaces returns the workspaces an embedded spec's fields refer to.
func usedWorkspaces(spec *v1.TaskSpec) []string {
	seen := map[string]bool{}
	var out []string
	walkSpecStrings(spec, func(s string) {
		for _, r := range subst.Refs(s) {
			if r.Root == "workspaces" && r.Name != "" && !seen[r.Name] {
				seen[r.Name] = true
				out = append(out, r.Name)
			}
		}
	})
	return out
}

// staticValues returns the values known before anything runs: params,
// context and workspace bindings.
func (p *pipelineRun) staticValues() *subst.Values {
	v := valuesOf(p.paramVals)
	for k, x := range p.contextValues().Strings {
		v.Strings[k] = x
	}
	for k, x := range p.boundValues().Strings {
		v.Strings[k] = x
	}
	return v
}

func (p *pipelineRun) contextValues() *subst.Values {
	v := subst.NewValues()
	v.Strings["context.pipelineRun.name"] = p.name
	v.Strings["context.pipelineRun.namespace"] = p.namespace
	v.Strings["context.pipelineRun.uid"] = p.uid
	v.Strings["context.pipeline.name"] = p.pipelineName
	return v
}

func (p *pipelineRun) boundValues() *subst.Values {
	v := subst.NewValues()
	for _, w := range p.spec.Workspaces {
		v.Strings["workspaces."+w.Name+".bound"] = "false"
	}
	for name := range p.bindings {
		v.Strings["workspaces."+name+".bound"] = "true"
	}
	return v
}

// taskStatusValues returns $(tasks.<t>.status), $(tasks.<t>.reason) and
// $(tasks.status), which finally tasks use.
func (p *pipelineRun) taskStatusValues(f *facts) *subst.Values {
	v := subst.NewValues()
	agg := "None"
	if f.dagDone() {
		agg = "Succeeded"
	}
	failed, skipped := false, false
	for _, t := range p.tasks {
		st := "None"
		switch {
		case f.successful(t):
			st = "Succeeded"
		case f.anyFailed(t):
			st = "Failed"
			failed = true
		}
		if f.skip(t) != "" {
			skipped = true
		}
		v.Strings["tasks."+t.pt.Name+".status"] = st
		v.Strings["tasks."+t.pt.Name+".reason"] = f.taskReason(t)
	}
	if f.dagDone() {
		switch {
		case failed:
			agg = "Failed"
		case skipped:
			agg = "Completed"
		}
	}
	v.Strings["tasks.status"] = agg
	return v
}

// retriesValue returns $(context.pipelineTask.retries) for a task.
func retriesValue(pt *v1.PipelineTask) *subst.Values {
	v := subst.NewValues()
	v.Strings["context.pipelineTask.retries"] = strconv.Itoa(pt.Retries)
	return v
}

// celOf returns the CEL expressions of when, joined.
func celOf(when v1.WhenExpressions) string {
	var out []string
	for _, w := range when {
		if w.CEL != "" {
			out = append(out, w.CEL)
		}
	}
	return strings.Join(out, ", ")
}
