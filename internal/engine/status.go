package engine

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// PipelineRun condition reasons, as upstream reports them.
const (
	reasonPRRunning                 = "Running"
	reasonPRSucceeded               = "Succeeded"
	reasonPRCompleted               = "Completed"
	reasonPRFailed                  = "Failed"
	reasonPRCancelled               = "Cancelled"
	reasonPRTimedOut                = "PipelineRunTimeout"
	reasonPRStopping                = "PipelineRunStopping"
	reasonPRCancelledRunningFinally = "CancelledRunningFinally"
	reasonPRStoppedRunningFinally   = "StoppedRunningFinally"
	reasonPRTimeoutRunningFinally   = "PipelineRunTimeoutRunningFinally"
	reasonPRCouldntGetResult        = "CouldntGetPipelineResult"
)

// counts are upstream's counts of a pipeline run's tasks.
type counts struct {
	succeeded, failed, ignored, cancelled, validation int
	skipped, skippedTimeout, incomplete               int
	validationMsgs                                    []string
}

func (f *facts) counts() counts {
	var c counts
	for _, t := range f.p.allTasks() {
		switch {
		case f.successful(t):
			c.succeeded++
		case f.cancelledForTimeout(t):
			c.failed++
		case f.cancelled(t):
			c.cancelled++
		case f.failure(t):
			if t.pt.OnError == v1.PipelineTaskContinue {
				c.ignored++
			} else {
				c.failed++
			}
		case t.validation != "":
			c.validation++
			c.validationMsgs = append(c.validationMsgs, t.validation)
		default:
			switch r := f.skip(t); r {
			case "":
				c.incomplete++
			case skipPipelineTimeout, skipTasksTimeout, skipFinallyTimeout:
				c.skipped++
				c.skippedTimeout++
			default:
				c.skipped++
			}
		}
	}
	return c
}

// update recomputes the pipeline run's status.
func (p *pipelineRun) update(now time.Time) {
	if !p.started {
		return
	}
	f := p.newFacts()
	p.status.ChildReferences = p.childReferences(f)
	if p.stopped != nil {
		p.status.SkippedTasks = p.frozenSkipped
		if !p.done {
			p.done = true
			p.status.SetCondition(*p.stopped)
			t := metav1.NewTime(p.stoppedAt)
			p.status.CompletionTime = &t
		}
		return
	}
	if p.done {
		return
	}
	p.status.SkippedTasks = p.skippedTasks(f)
	c := f.counts()
	completed := c.succeeded + c.failed + c.cancelled + c.ignored
	if c.incomplete > 0 {
		reason := reasonPRRunning
		switch {
		case p.cancelMode == v1.PipelineRunSpecStatusCancelledRunFinally:
			reason = reasonPRCancelledRunningFinally
		case p.cancelMode == v1.PipelineRunSpecStatusStoppedRunFinally:
			reason = reasonPRStoppedRunningFinally
		case p.tasksTimedOut || p.finallyTimedOut:
			reason = reasonPRTimeoutRunningFinally
		case c.cancelled > 0 || (c.failed > 0 && f.finallyDone()):
			reason = reasonPRStopping
		}
		p.setCondition(now, corev1.ConditionUnknown, reason, fmt.Sprintf("Tasks Completed: %d (Failed: %d, Cancelled %d), Incomplete: %d, Skipped: %d",
			completed, c.failed, c.cancelled, c.incomplete, c.skipped))
		return
	}

	// Every task is over.
	status, reason := corev1.ConditionTrue, reasonPRSucceeded
	var message string
	if c.ignored > 0 {
		message = fmt.Sprintf("Tasks Completed: %d (Failed: %d (Ignored: %d), Cancelled %d), Skipped: %d",
			completed, c.failed+c.ignored, c.ignored, c.cancelled, c.skipped)
	} else {
		message = fmt.Sprintf("Tasks Completed: %d (Failed: %d, Cancelled %d), Skipped: %d",
			completed, c.failed, c.cancelled, c.skipped)
	}
	if c.validation > 0 {
		message += fmt.Sprintf(", Failed Validation: %d (%s)", c.validation, strings.Join(c.validationMsgs, "; "))
	}
	if c.skipped > 0 {
		reason = reasonPRCompleted
	}
	switch {
	case c.validation > 0:
		status, reason = corev1.ConditionFalse, ReasonPipelineValidationFailed
	case c.failed > 0 || c.skippedTimeout > 0:
		status, reason = corev1.ConditionFalse, reasonPRFailed
	case p.cancelMode == v1.PipelineRunSpecStatusCancelledRunFinally || p.cancelMode == v1.PipelineRunSpecStatusStoppedRunFinally:
		status, reason = corev1.ConditionFalse, reasonPRCancelled
		message = fmt.Sprintf("PipelineRun %q was cancelled", p.name)
	case c.cancelled > 0:
		status, reason = corev1.ConditionFalse, reasonPRCancelled
	}
	switch {
	case p.tasksTimedOut:
		status, reason = corev1.ConditionFalse, reasonPRTimedOut
		message = fmt.Sprintf("PipelineRun %q failed due to tasks failed to finish within %q", p.name, p.timeouts.tasksTimeout().String())
	case p.finallyTimedOut:
		status, reason = corev1.ConditionFalse, reasonPRTimedOut
		message = fmt.Sprintf("PipelineRun %q failed due to finally tasks failed to finish within %q", p.name, p.timeouts.finallyTimeout().String())
	}
	results, err := p.pipelineResults(f)
	p.status.Results = results
	if err != nil {
		status, reason = corev1.ConditionFalse, reasonPRCouldntGetResult
		message = fmt.Sprintf("Failed to get PipelineResult from TaskRun Results for PipelineRun %s: %v", p.name, err)
	}
	p.done = true
	t := metav1.NewTime(now)
	p.status.CompletionTime = &t
	p.setCondition(now, status, reason, message)
}

func (p *pipelineRun) setCondition(now time.Time, status corev1.ConditionStatus, reason, message string) {
	if c := p.status.GetCondition(); c != nil && c.Status == status && c.Reason == reason && c.Message == message {
		return
	}
	p.status.SetCondition(v1.Condition{
		Type:               v1.ConditionSucceeded,
		Status:             status,
		LastTransitionTime: metav1.NewTime(now),
		Reason:             reason,
		Message:            message,
	})
}

// skippedTasks lists the tasks skipped so far, with why.
func (p *pipelineRun) skippedTasks(f *facts) []v1.SkippedTask {
	var out []v1.SkippedTask
	for _, t := range p.allTasks() {
		r := f.skip(t)
		if r == "" {
			continue
		}
		st := v1.SkippedTask{Name: t.pt.Name, Reason: r}
		if !t.finally || r == skipWhen {
			st.WhenExpressions = f.whenOf(t)
		}
		out = append(out, st)
	}
	return out
}

// whenOf returns t's when expressions with the values known so far.
func (f *facts) whenOf(t *pipelineTask) v1.WhenExpressions {
	if t.resolved != nil {
		return t.resolved.When
	}
	if t.finally && !f.dagDone() || !t.finally && !f.parentsDone(t) {
		pt := t.pt.DeepCopy()
		valuesOf(f.p.paramVals).ApplyPipelineTask(pt)
		f.p.contextValues().ApplyPipelineTask(pt)
		f.p.boundValues().ApplyPipelineTask(pt)
		return pt.When
	}
	return f.resolve(t).pt.When
}

// childReferences lists the pipeline's TaskRuns (and child pipelines) in
// the order of its tasks.
func (p *pipelineRun) childReferences(f *facts) []v1.ChildStatusReference {
	var out []v1.ChildStatusReference
	for _, t := range p.allTasks() {
		when := f.whenOf(t)
		for _, r := range t.runs {
			out = append(out, v1.ChildStatusReference{
				TypeMeta:         runtimeTypeMeta("TaskRun"),
				Name:             r.name,
				DisplayName:      r.displayName,
				PipelineTaskName: t.pt.Name,
				WhenExpressions:  when,
			})
		}
		if t.child != nil {
			display := ""
			if t.resolved != nil {
				display = t.resolved.DisplayName
			}
			out = append(out, v1.ChildStatusReference{
				TypeMeta:         runtimeTypeMeta("PipelineRun"),
				Name:             t.child.name,
				DisplayName:      display,
				PipelineTaskName: t.pt.Name,
				WhenExpressions:  when,
			})
		}
	}
	return out
}

// pipelineResults computes the pipeline's results from its tasks' results.
// A result that refers to a task that did not succeed is left out; one
// that refers to a missing result of a task that succeeded is an error.
func (p *pipelineRun) pipelineResults(f *facts) ([]v1.PipelineRunResult, error) {
	var out []v1.PipelineRunResult
	var invalid []string
	for _, res := range p.spec.Results {
		vals := subst.NewValues()
		valid := true
		refs := 0
		for _, s := range paramTexts(res.Value) {
			for _, ref := range subst.Refs(s) {
				refs++
				segs := refSegments(ref)
				if (ref.Root != "tasks" && ref.Root != "finally") || len(segs) < 4 || segs[2] != "results" {
					invalid = append(invalid, res.Name)
					valid = false
					continue
				}
				t := p.byName[segs[1]]
				if t == nil {
					invalid = append(invalid, res.Name)
					valid = false
					continue
				}
				if !f.successful(t) {
					valid = false
					continue
				}
				v, ok := f.producerResults(t)[segs[3]]
				switch {
				case !ok:
					invalid = append(invalid, res.Name)
					valid = false
					continue
				case ref.Index != nil && (v.Type != v1.ParamTypeArray || *ref.Index >= len(v.ArrayVal)):
					invalid = append(invalid, res.Name)
					valid = false
					continue
				case ref.Property != "" && v.Type == v1.ParamTypeObject:
					if _, ok := v.ObjectVal[ref.Property]; !ok {
						invalid = append(invalid, res.Name)
						valid = false
						continue
					}
				}
				putParam(vals, ref.Root+"."+segs[1]+".results."+segs[3], v)
			}
		}
		if refs == 0 || !valid {
			continue
		}
		out = append(out, v1.PipelineRunResult{Name: res.Name, Value: vals.ApplyParam(res.Value)})
	}
	if len(invalid) > 0 {
		return out, fmt.Errorf("invalid pipelineresults %v, the referred results don't exist", dedupe(invalid))
	}
	return out, nil
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (p *pipelineRun) statusSnapshot() *v1.PipelineRunStatus {
	return deepCopyPipelineRunStatus(&p.status)
}

// childStatuses returns the status of every child pipeline, depth first.
func (p *pipelineRun) childStatuses() []PipelineRunState {
	var out []PipelineRunState
	for _, t := range p.allTasks() {
		if t.child == nil {
			continue
		}
		out = append(out, PipelineRunState{
			Name:         t.child.name,
			PipelineTask: t.pt.Name,
			Parent:       p.name,
			Status:       *t.child.statusSnapshot(),
		})
		out = append(out, t.child.childStatuses()...)
	}
	return out
}
