package engine

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// timeouts are a pipeline run's timeouts; nil means none set. Zero means
// no timeout.
type timeouts struct {
	pipeline, tasks, finally *time.Duration
	def                      time.Duration
}

func (p *pipelineRun) setTimeouts(t *v1.TimeoutFields, def time.Duration) {
	p.timeouts.def = def
	if t == nil {
		return
	}
	get := func(d *metav1.Duration) *time.Duration {
		if d == nil {
			return nil
		}
		x := d.Duration
		return &x
	}
	p.timeouts.pipeline = get(t.Pipeline)
	p.timeouts.tasks = get(t.Tasks)
	p.timeouts.finally = get(t.Finally)
}

// tasksTimeout is timeouts.tasks, or pipeline minus finally when only those
// are set (and neither is 0).
func (t timeouts) tasksTimeout() *time.Duration {
	if t.tasks != nil {
		return t.tasks
	}
	if t.pipeline != nil && t.finally != nil && *t.pipeline != 0 && *t.finally != 0 {
		d := *t.pipeline - *t.finally
		return &d
	}
	return nil
}

// finallyTimeout is timeouts.finally, or pipeline minus tasks when only
// those are set (and neither is 0).
func (t timeouts) finallyTimeout() *time.Duration {
	if t.finally != nil {
		return t.finally
	}
	if t.pipeline != nil && t.tasks != nil && *t.pipeline != 0 && *t.tasks != 0 {
		d := *t.pipeline - *t.tasks
		return &d
	}
	return nil
}

// taskRunTimeout returns the timeout of each attempt of t's TaskRuns:
// taskRunSpecs[].timeout, else the PipelineTask's timeout, else the
// tasks (finally) timeout when it is 0 or above the default, else the
// default. timeouts.pipeline alone never reaches a TaskRun.
func (p *pipelineRun) taskRunTimeout(t *pipelineTask) time.Duration {
	if s, ok := p.taskRunSpecs[t.pt.Name]; ok && s.Timeout != nil {
		return s.Timeout.Duration
	}
	if t.pt.Timeout != nil {
		return t.pt.Timeout.Duration
	}
	d := p.timeouts.tasksTimeout()
	if t.finally {
		d = p.timeouts.finallyTimeout()
	}
	if d != nil && (*d == 0 || *d > p.timeouts.def) {
		return *d
	}
	return p.timeouts.def
}

func (p *pipelineRun) pipelineDeadline() time.Time {
	if p.timeouts.pipeline == nil || *p.timeouts.pipeline <= 0 || !p.started {
		return time.Time{}
	}
	return p.startTime.Add(*p.timeouts.pipeline)
}

func (p *pipelineRun) tasksDeadline() time.Time {
	d := p.timeouts.tasksTimeout()
	if d == nil || *d <= 0 || !p.started || p.finallyStarted || p.tasksTimedOut {
		return time.Time{}
	}
	return p.startTime.Add(*d)
}

func (p *pipelineRun) finallyDeadline() time.Time {
	d := p.timeouts.finallyTimeout()
	if d == nil || *d <= 0 || !p.finallyStarted || p.finallyTimedOut {
		return time.Time{}
	}
	return p.finallyStartTime.Add(*d)
}

// deadlines returns the times the pipeline waits for.
func (p *pipelineRun) deadlines() []time.Time {
	if p.done {
		return nil
	}
	var out []time.Time
	for _, t := range []time.Time{p.pipelineDeadline(), p.tasksDeadline(), p.finallyDeadline()} {
		if !t.IsZero() {
			out = append(out, t)
		}
	}
	for _, t := range p.allTasks() {
		if t.child != nil {
			out = append(out, t.child.deadlines()...)
		}
	}
	return out
}

// checkTimeouts acts on the pipeline's timeouts at time now.
func (p *pipelineRun) checkTimeouts(now time.Time) []Action {
	if p.done || p.stopped != nil {
		return nil
	}
	if d := p.pipelineDeadline(); !d.IsZero() && !now.Before(d) {
		msg := fmt.Sprintf("PipelineRun %q failed to finish within %q", p.name, p.timeouts.pipeline.String())
		p.cancelledByTimeout = true
		return p.stop(now, reasonPRTimedOut, msg, msgCancelledByPipelineTimeout)
	}
	var acts []Action
	if d := p.tasksDeadline(); !d.IsZero() && !now.Before(d) {
		p.tasksTimedOut = true
		for _, t := range p.tasks {
			acts = append(acts, p.cancelTask(t, now, msgCancelledByPipelineTimeout)...)
		}
	}
	if d := p.finallyDeadline(); !d.IsZero() && !now.Before(d) {
		p.finallyTimedOut = true
		for _, t := range p.finally {
			acts = append(acts, p.cancelTask(t, now, msgCancelledByPipelineTimeout)...)
		}
	}
	return acts
}

// cancelTask cancels every unfinished run of t, the way a PipelineRun
// patches its TaskRuns: spec.status TaskRunCancelled with a status message.
func (p *pipelineRun) cancelTask(t *pipelineTask, now time.Time, statusMessage string) []Action {
	var acts []Action
	for _, r := range t.runs {
		if r.done {
			continue
		}
		r.statusMessage = statusMessage
		acts = append(acts, r.stop(now, v1TaskRunReasonCancelled, r.cancelMessage(), true)...)
	}
	if t.child != nil && !t.child.done {
		if statusMessage == msgCancelledByPipelineTimeout {
			t.child.cancelledByTimeout = true
		}
		acts = append(acts, t.child.stop(now, reasonPRCancelled, fmt.Sprintf("PipelineRun %q was cancelled", t.child.name), statusMessage)...)
	}
	return acts
}

// applyCancel acts on a cancel request.
func (p *pipelineRun) applyCancel(now time.Time) []Action {
	if p.cancelMode == "" || p.cancelApplied || p.done || p.stopped != nil {
		return nil
	}
	p.cancelApplied = true
	switch p.cancelMode {
	case v1.PipelineRunSpecStatusCancelled:
		return p.stop(now, reasonPRCancelled, fmt.Sprintf("PipelineRun %q was cancelled", p.name), msgCancelledByPipeline)
	case v1.PipelineRunSpecStatusCancelledRunFinally:
		var acts []Action
		for _, t := range p.tasks {
			acts = append(acts, p.cancelTask(t, now, msgCancelledByPipeline)...)
		}
		return acts
	}
	// StoppedRunFinally: running tasks finish; nothing new starts.
	return nil
}

// stop ends the run now with a final condition: running TaskRuns are
// cancelled with statusMessage, nothing new starts, finally does not run.
func (p *pipelineRun) stop(now time.Time, reason, message, statusMessage string) []Action {
	if p.done {
		return nil
	}
	f := p.newFacts()
	p.frozenSkipped = p.skippedTasks(f)
	p.stopped = &v1.Condition{
		Type:               v1.ConditionSucceeded,
		Status:             corev1.ConditionFalse,
		LastTransitionTime: metav1.NewTime(now),
		Reason:             reason,
		Message:            message,
	}
	p.stoppedAt = now
	var acts []Action
	for _, t := range p.allTasks() {
		acts = append(acts, p.cancelTask(t, now, statusMessage)...)
	}
	return acts
}
