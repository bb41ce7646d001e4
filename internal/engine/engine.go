package engine

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Default limits, used where Options leaves a field zero.
const (
	DefaultMaxResultSize         = 4096
	DefaultMaxTotalResultSize    = 1536 * 1024
	DefaultMaxMatrixCombinations = 256
)

// Engine runs one PipelineRun or TaskRun. It is not safe for concurrent use:
// an executor drives it from one loop.
type Engine struct {
	opts Options

	// tr is the run of a TaskRun engine; pl the top pipeline of a
	// PipelineRun engine. Exactly one is set.
	tr *taskRun
	pl *pipelineRun

	// runs holds every TaskRun the run created, in creation order.
	runs []*taskRun

	started  bool
	now      time.Time
	finished bool // Finish was returned
}

// withDefaults fills in the zero fields of o.
func (o Options) withDefaults() Options {
	if o.MaxResultSize <= 0 {
		o.MaxResultSize = DefaultMaxResultSize
	}
	if o.MaxTotalResultSize <= 0 {
		o.MaxTotalResultSize = DefaultMaxTotalResultSize
	}
	if o.DefaultTimeout <= 0 {
		o.DefaultTimeout = v1.DefaultTimeout
	}
	if o.MaxMatrixCombinations <= 0 {
		o.MaxMatrixCombinations = DefaultMaxMatrixCombinations
	}
	return o
}

// Observe records what an executor saw. Events for attempts the engine no
// longer waits on (a stopped or superseded attempt) are ignored.
func (e *Engine) Observe(ev Event) {
	switch ev := ev.(type) {
	case StepFinished:
		if r := e.attemptRun(ev.Attempt); r != nil {
			r.stepFinished(ev)
		}
	case *StepFinished:
		e.Observe(*ev)
	case SidecarsReady:
		if r := e.attemptRun(ev.Attempt); r != nil {
			r.sidecarsReady(ev.At)
		}
	case *SidecarsReady:
		e.Observe(*ev)
	case AttemptFailed:
		if r := e.attemptRun(ev.Attempt); r != nil {
			r.attemptFailed(ev)
		}
	case *AttemptFailed:
		e.Observe(*ev)
	case CancelRequested:
		e.requestCancel(ev)
	case *CancelRequested:
		e.Observe(*ev)
	}
}

// attemptRun returns the TaskRun whose current attempt is id, or nil.
func (e *Engine) attemptRun(id AttemptID) *taskRun {
	for _, r := range e.runs {
		if r.name == id.TaskRun && r.att != nil && r.att.id == id && !r.att.finalized {
			return r
		}
	}
	return nil
}

func (e *Engine) requestCancel(ev CancelRequested) {
	mode := ev.Mode
	if mode == "" {
		mode = v1.PipelineRunSpecStatusCancelled
	}
	if e.tr != nil {
		if e.tr.cancelRequested == "" {
			e.tr.cancelRequested = mode
		}
		return
	}
	e.pl.requestCancel(mode)
}

// Next returns what to do at time now: the actions to carry out, in order,
// and when to call Next again if nothing is observed before.
func (e *Engine) Next(now time.Time) Plan {
	if e.finished {
		return Plan{Done: true}
	}
	e.now = now
	var acts []Action
	if e.tr != nil {
		acts = e.nextTaskRun(now)
		if e.tr.done {
			e.finished = true
		}
	} else {
		acts = e.pl.next(now)
		if e.pl.finished() {
			e.finished = true
		}
	}
	if e.finished {
		return Plan{Actions: append(acts, Finish{}), Done: true}
	}
	return Plan{Actions: acts, WakeAt: e.wakeAt()}
}

// nextTaskRun drives a TaskRun engine.
func (e *Engine) nextTaskRun(now time.Time) []Action {
	r := e.tr
	var acts []Action
	if !e.started {
		e.started = true
		if r.status.StartTime == nil {
			t := metav1.NewTime(now)
			r.status.StartTime = &t
		}
	}
	if r.cancelRequested != "" && !r.done && r.stopReason == "" {
		acts = append(acts, r.stop(now, v1TaskRunReasonCancelled, r.cancelMessage(), true)...)
	}
	acts = append(acts, r.checkTimeout(now)...)
	acts = append(acts, r.advance(now)...)
	return acts
}

// wakeAt returns the earliest deadline the engine waits for. Deadlines
// that are due were acted on by this call of Next; a step's own timeout
// that is due is the executor's to enforce, so it is not returned again.
func (e *Engine) wakeAt() time.Time {
	var at time.Time
	add := func(t time.Time) {
		if t.IsZero() || !t.After(e.now) {
			return
		}
		if at.IsZero() || t.Before(at) {
			at = t
		}
	}
	for _, r := range e.runs {
		for _, t := range r.deadlines() {
			add(t)
		}
	}
	if e.pl != nil {
		for _, t := range e.pl.deadlines() {
			add(t)
		}
	}
	return at
}

// Status returns a copy of the run's status in upstream's shape. The
// resolved specs in it (TaskSpec and PipelineSpec of each status) are
// shared with the engine and with earlier copies and must not be changed;
// everything else is the caller's.
func (e *Engine) Status() Status {
	var s Status
	for _, r := range e.runs {
		st := r.statusSnapshot()
		s.TaskRuns = append(s.TaskRuns, TaskRunState{
			Name:         r.name,
			PipelineTask: r.pipelineTask,
			DisplayName:  r.displayName,
			Finally:      r.finally,
			Status:       *st,
		})
	}
	if e.tr != nil {
		s.TaskRun = e.tr.statusSnapshot()
		return s
	}
	s.PipelineRun = e.pl.statusSnapshot()
	s.PipelineRuns = e.pl.childStatuses()
	return s
}
