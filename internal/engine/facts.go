package engine

import (
	"encoding/json"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// facts answers questions about a pipeline run's tasks at one moment, the
// way upstream's PipelineRunFacts does. Answers are cached, so build new
// facts after anything changes.
type facts struct {
	p        *pipelineRun
	skips    map[string]string
	resolved map[string]*resolution
	stop     *bool
}

// resolution is a PipelineTask with every pipeline-scope value known so far
// applied, and what could not be resolved.
type resolution struct {
	pt *v1.PipelineTask
	// missing is the first result reference whose producer did not emit
	// the result (nil if none).
	missing *missingResult
	// indexErr is an out-of-range index into an array result.
	indexErr error
	// whenOK and whenErr are the evaluated when expressions.
	whenOK  bool
	whenErr error
}

type missingResult struct {
	task, result string
}

func (p *pipelineRun) newFacts() *facts {
	return &facts{p: p, skips: map[string]string{}, resolved: map[string]*resolution{}}
}

// outcome is the state of one run of a task: a TaskRun, or a child
// pipeline.
type outcome struct {
	done          bool
	status        corev1.ConditionStatus
	reason        string
	timeoutCancel bool
}

func (t *pipelineTask) outcomes() []outcome {
	var out []outcome
	for _, r := range t.runs {
		o := outcome{done: r.done, timeoutCancel: r.statusMessage == msgCancelledByPipelineTimeout}
		if c := r.condition(); c != nil {
			o.status, o.reason = c.Status, c.Reason
		}
		out = append(out, o)
	}
	if t.child != nil {
		o := outcome{done: t.child.done && t.child.finished()}
		if c := t.child.status.GetCondition(); c != nil {
			o.status, o.reason = c.Status, c.Reason
			if c.Reason == reasonPRCancelled {
				o.reason = v1TaskRunReasonCancelled
			}
		}
		o.timeoutCancel = t.child.cancelledByTimeout
		out = append(out, o)
	}
	return out
}

func allDone(os []outcome) bool {
	for _, o := range os {
		if !o.done {
			return false
		}
	}
	return true
}

// successful reports whether every run of t succeeded.
func (f *facts) successful(t *pipelineTask) bool {
	os := t.outcomes()
	if len(os) == 0 {
		return false
	}
	for _, o := range os {
		if !o.done || o.status != corev1.ConditionTrue {
			return false
		}
	}
	return true
}

// anyFailed reports whether a run of t failed (done and not succeeded).
func (f *facts) anyFailed(t *pipelineTask) bool {
	for _, o := range t.outcomes() {
		if o.done && o.status == corev1.ConditionFalse {
			return true
		}
	}
	return false
}

// failure reports whether t failed: every run is done and one failed.
func (f *facts) failure(t *pipelineTask) bool {
	os := t.outcomes()
	return len(os) > 0 && allDone(os) && f.anyFailed(t)
}

func (f *facts) cancelled(t *pipelineTask) bool {
	os := t.outcomes()
	if len(os) == 0 || !allDone(os) {
		return false
	}
	for _, o := range os {
		if o.status == corev1.ConditionFalse && o.reason == v1TaskRunReasonCancelled {
			return true
		}
	}
	return false
}

func (f *facts) cancelledForTimeout(t *pipelineTask) bool {
	os := t.outcomes()
	if len(os) == 0 || !allDone(os) {
		return false
	}
	for _, o := range os {
		if o.status == corev1.ConditionFalse && o.reason == v1TaskRunReasonCancelled && o.timeoutCancel {
			return true
		}
	}
	return false
}

// isDone reports whether t is over: skipped, succeeded, failed or failed
// validation. A skipped finally task does not count, as upstream.
func (f *facts) isDone(t *pipelineTask) bool {
	if !t.finally && f.skip(t) != "" {
		return true
	}
	return f.successful(t) || f.failure(t) || t.validation != ""
}

func (f *facts) parentsDone(t *pipelineTask) bool {
	if t.finally {
		return true
	}
	for _, name := range f.p.graph.Parents(t.pt.Name) {
		if !f.isDone(f.p.byName[name]) {
			return false
		}
	}
	return true
}

func (f *facts) dagDone() bool {
	for _, t := range f.p.tasks {
		if !f.isDone(t) {
			return false
		}
	}
	return true
}

func (f *facts) finallyDone() bool {
	for _, t := range f.p.finally {
		if !f.isDone(t) {
			return false
		}
	}
	return true
}

// stopping reports whether a DAG task failed (or failed validation) and is
// not allowed to: no new DAG task starts.
func (f *facts) stopping() bool {
	if f.stop != nil {
		return *f.stop
	}
	s := false
	for _, t := range f.p.tasks {
		if (f.failure(t) || t.validation != "") && t.pt.OnError != v1.PipelineTaskContinue {
			s = true
			break
		}
	}
	f.stop = &s
	return s
}

// skip returns why t is skipped, or "" if it is not (yet).
func (f *facts) skip(t *pipelineTask) string {
	if r, ok := f.skips[t.pt.Name]; ok {
		return r
	}
	var r string
	if t.finally {
		r = f.finallySkip(t)
	} else {
		r = f.dagSkip(t)
	}
	f.skips[t.pt.Name] = r
	return r
}

func (f *facts) dagSkip(t *pipelineTask) string {
	p := f.p
	if t.scheduled {
		return ""
	}
	switch {
	case f.stopping():
		return skipStopping
	case p.cancelMode == v1.PipelineRunSpecStatusCancelledRunFinally:
		return skipGracefulCancel
	case p.cancelMode == v1.PipelineRunSpecStatusStoppedRunFinally:
		return skipGracefulStop
	}
	for _, name := range p.graph.Parents(t.pt.Name) {
		if r := f.skip(p.byName[name]); r != "" && r != skipWhen {
			return skipParent
		}
	}
	if !f.parentsDone(t) {
		return ""
	}
	res := f.resolve(t)
	if res.missing != nil {
		prod := p.byName[res.missing.task]
		if t.pt.OnError == v1.PipelineTaskContinue || (prod != nil && f.skip(prod) == skipWhen) {
			return skipMissingResults
		}
	}
	if res.whenErr == nil && !res.whenOK {
		return skipWhen
	}
	if p.tasksTimedOut {
		return skipTasksTimeout
	}
	if emptyMatrix(res.pt) {
		return skipEmptyMatrixArray
	}
	return ""
}

func (f *facts) finallySkip(t *pipelineTask) string {
	p := f.p
	if t.scheduled || !f.dagDone() {
		return ""
	}
	res := f.resolve(t)
	switch {
	case res.missing != nil:
		return skipMissingResults
	case res.whenErr == nil && !res.whenOK:
		return skipWhen
	case p.finallyTimedOut:
		return skipFinallyTimeout
	case emptyMatrix(res.pt):
		return skipEmptyMatrixArray
	}
	return ""
}

// taskReason returns $(tasks.<t>.reason): the reason of the first run that
// did not succeed, else of the first run; "" if none ran.
func (f *facts) taskReason(t *pipelineTask) string {
	os := t.outcomes()
	for _, o := range os {
		if o.done && o.status != corev1.ConditionTrue {
			return o.reason
		}
	}
	if len(os) > 0 {
		return os[0].reason
	}
	return ""
}

// resolve applies the pipeline-scope values to t in upstream's order:
// params (an embedded spec sees its own params first), context, workspace
// bindings, then task results and statuses (in params, matrix, when,
// displayName, workspace subPaths and taskRef; results also propagate into
// an embedded taskSpec).
func (f *facts) resolve(t *pipelineTask) *resolution {
	if r, ok := f.resolved[t.pt.Name]; ok {
		return r
	}
	p := f.p
	pt := t.pt.DeepCopy()
	valuesOf(p.paramVals).ApplyPipelineTask(pt)
	p.contextValues().ApplyPipelineTask(pt)
	p.boundValues().ApplyPipelineTask(pt)

	res := &resolution{}
	vals := subst.NewValues()
	for _, ref := range pipelineTaskResultRefs(pt) {
		segs := refSegments(ref)
		if len(segs) < 3 {
			continue
		}
		prod := p.byName[segs[1]]
		if prod == nil {
			continue
		}
		if segs[2] == "matrix" {
			f.putMatrixLengths(vals, prod)
			continue
		}
		if (segs[2] == "inputs" || segs[2] == "outputs") && len(segs) >= 4 {
			if v, ok := f.producerArtifacts(prod)[segs[2]+"."+segs[3]]; ok {
				vals.Strings["tasks."+segs[1]+"."+segs[2]+"."+segs[3]] = v
			}
			continue
		}
		if segs[2] != "results" || len(segs) < 4 {
			continue
		}
		results := f.producerResults(prod)
		v, ok := results[segs[3]]
		if !ok {
			if res.missing == nil {
				res.missing = &missingResult{task: segs[1], result: segs[3]}
			}
			continue
		}
		if ref.Index != nil && v.Type == v1.ParamTypeArray && *ref.Index >= len(v.ArrayVal) && res.indexErr == nil {
			res.indexErr = fmt.Errorf("array Result Index %d for Task %s Result %s is out of bound of size %d", *ref.Index, segs[1], segs[3], len(v.ArrayVal))
		}
		putParam(vals, "tasks."+segs[1]+".results."+segs[3], v)
	}
	if t.finally {
		for k, x := range p.taskStatusValues(f).Strings {
			vals.Strings[k] = x
		}
	}
	vals.Strings["context.pipelineTask.retries"] = retriesValue(pt).Strings["context.pipelineTask.retries"]
	ts := pt.TaskSpec
	pt.TaskSpec = nil
	vals.ApplyPipelineTask(pt)
	pt.TaskSpec = ts
	if ts != nil {
		// Upstream propagates the results of every task that has them into
		// an embedded taskSpec, so its steps may use $(tasks.t.results.r)
		// without passing it through a param.
		prop := subst.NewValues()
		for name, prod := range p.byName {
			for rn, v := range f.producerResults(prod) {
				putParam(prop, "tasks."+name+".results."+rn, v)
			}
			// And so it does with their artifacts.
			for an, v := range f.producerArtifacts(prod) {
				prop.Strings["tasks."+name+"."+an] = v
			}
		}
		prop.ApplyTask(&ts.TaskSpec)
	}
	res.pt = pt
	res.whenOK, res.whenErr = evalWhen(pt.When)
	f.resolved[t.pt.Name] = res
	return res
}

// pipelineTaskResultRefs returns the $(tasks.<t>...) references in the
// fields upstream resolves results in: params, matrix params and include,
// when, displayName, workspace subPaths and taskRef params.
func pipelineTaskResultRefs(pt *v1.PipelineTask) []subst.Ref {
	var texts []string
	addParams := func(ps v1.Params) {
		for _, p := range ps {
			texts = append(texts, paramTexts(p.Value)...)
		}
	}
	addParams(pt.Params)
	if pt.Matrix != nil {
		addParams(pt.Matrix.Params)
		for _, inc := range pt.Matrix.Include {
			addParams(inc.Params)
			texts = append(texts, inc.Name)
		}
	}
	for _, w := range pt.When {
		texts = append(texts, w.Input, w.CEL)
		texts = append(texts, w.Values...)
	}
	texts = append(texts, pt.DisplayName)
	for _, w := range pt.Workspaces {
		texts = append(texts, w.SubPath)
	}
	if pt.TaskRef != nil {
		addParams(pt.TaskRef.Params)
	}
	var out []subst.Ref
	for _, s := range texts {
		for _, r := range subst.Refs(s) {
			if r.Root == "tasks" {
				out = append(out, r)
			}
		}
	}
	return out
}

// producerArtifacts returns the artifacts of a task's TaskRun as
// $(tasks.<t>.inputs|outputs.<name>) sees them: "inputs.<name>" or
// "outputs.<name>" -> the JSON list of the artifact's values.
func (f *facts) producerArtifacts(t *pipelineTask) map[string]string {
	out := map[string]string{}
	if t.child != nil || len(t.runs) == 0 || t.pt.Matrix != nil {
		return out
	}
	arts := t.runs[0].status.Artifacts
	if arts == nil {
		return out
	}
	for kind, list := range map[string][]v1.Artifact{"inputs": arts.Inputs, "outputs": arts.Outputs} {
		for _, art := range list {
			if _, seen := out[kind+"."+art.Name]; seen {
				continue
			}
			if b, err := json.Marshal(art.Values); err == nil {
				out[kind+"."+art.Name] = string(b)
			}
		}
	}
	return out
}

// producerResults returns the results of a task's runs: a TaskRun's
// results, or for a matrix the string results of every run, as arrays in
// the order of the TaskRuns' names.
func (f *facts) producerResults(t *pipelineTask) map[string]v1.ParamValue {
	out := map[string]v1.ParamValue{}
	if t.child != nil {
		for _, r := range t.child.status.Results {
			out[r.Name] = r.Value
		}
		return out
	}
	if len(t.runs) == 0 {
		return out
	}
	if t.pt.Matrix == nil {
		for _, r := range t.runs[0].status.Results {
			out[r.Name] = r.Value
		}
		return out
	}
	runs := append([]*taskRun{}, t.runs...)
	sort.Slice(runs, func(i, j int) bool { return runs[i].name < runs[j].name })
	agg := map[string][]string{}
	var names []string
	for _, r := range runs {
		for _, res := range r.status.Results {
			if res.Value.Type != v1.ParamTypeString && res.Value.Type != "" {
				continue
			}
			if _, ok := agg[res.Name]; !ok {
				names = append(names, res.Name)
			}
			agg[res.Name] = append(agg[res.Name], res.Value.StringVal)
		}
	}
	for _, n := range names {
		out[n] = v1.NewArray(agg[n]...)
	}
	return out
}

// putMatrixLengths sets $(tasks.<t>.matrix.length) and
// $(tasks.<t>.matrix.<r>.length).
func (f *facts) putMatrixLengths(vals *subst.Values, t *pipelineTask) {
	vals.Strings["tasks."+t.pt.Name+".matrix.length"] = fmt.Sprint(len(t.runs))
	if t.spec != nil {
		for _, r := range t.spec.Results {
			vals.Strings["tasks."+t.pt.Name+".matrix."+r.Name+".length"] = "0"
		}
	}
	for name, v := range f.producerResults(t) {
		n := 1
		if v.Type == v1.ParamTypeArray {
			n = len(v.ArrayVal)
		}
		vals.Strings["tasks."+t.pt.Name+".matrix."+name+".length"] = fmt.Sprint(n)
	}
}

// emptyMatrix reports whether a matrix param of pt is an empty array.
func emptyMatrix(pt *v1.PipelineTask) bool {
	if pt.Matrix == nil {
		return false
	}
	for _, p := range pt.Matrix.Params {
		if p.Value.Type == v1.ParamTypeArray && len(p.Value.ArrayVal) == 0 {
			return true
		}
	}
	return false
}
