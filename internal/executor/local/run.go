package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/sandbox"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// gracePeriod is how long a stopped step has between SIGTERM and SIGKILL,
// as a Pod's terminationGracePeriodSeconds would give it.
const gracePeriod = 2 * time.Second

// Run drives eng until the run finishes and returns its final status.
// A value received on opts.Cancel is passed to the engine as a cancel
// request (CancelledRunFinally for a graceful stop, Cancelled to stop
// everything now). Run returns an error only when the executor itself
// could not go on; a failed run is a status, not an error. When Run
// returns, no process it started is left running: each attempt's process
// groups are killed when it ends, and the run's own Host (when
// opts.Host is nil) is closed, which ends the rest. A process that left
// its process group lives on in a shared Host until its Close.
func Run(ctx context.Context, eng *engine.Engine, opts Options) (engine.Status, error) {
	r := &runner{
		eng:      eng,
		opts:     opts,
		events:   make(chan engine.Event, 64),
		attempts: map[engine.AttemptID]*attempt{},
		log:      slog.Default(),
	}
	if opts.Host == nil {
		// A host of the run's own, started while the first tasks are
		// laid out; closing it frees the run's memory.
		r.opts.Host = NewHost(ctx)
		defer r.opts.Host.Close()
	} else {
		defer r.freeMemory()
	}
	r.memoryDir = "run-" + r.opts.Host.nextRun()
	return r.loop(ctx)
}

type runner struct {
	eng      *engine.Engine
	opts     Options
	events   chan engine.Event
	attempts map[engine.AttemptID]*attempt
	wg       sync.WaitGroup
	log      *slog.Logger

	// memoryDir is the run's directory in the sandbox's memory.
	memoryDir string
	programs  programs
}

// freeMemory hands the run's directory in the sandbox's memory back to
// the Host, once no process of the run is left.
func (r *runner) freeMemory() { r.opts.Host.release(r.memoryDir) }

// sandbox returns the host's sandbox, waiting for its start. One
// supervisor serves every attempt, so that an attempt costs a request to
// it, not a process start.
func (r *runner) sandbox() (*sandbox.Sandbox, error) { return r.opts.Host.sandbox() }

func (r *runner) loop(ctx context.Context) (engine.Status, error) {
	defer r.closeAll()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	flush := time.NewTimer(time.Hour)
	defer flush.Stop()
	var lastWrite time.Time
	dirty := false
	w := newStatusWriter(r.opts.Store)
	defer w.close()
	record := func() (engine.Status, error) {
		st := r.eng.Status()
		if err := w.put(st); err != nil {
			return st, fmt.Errorf("write status: %w", err)
		}
		if r.opts.Sink != nil {
			r.opts.Sink.Status(st)
		}
		lastWrite, dirty = time.Now(), false
		return st, nil
	}
	for {
		plan := r.eng.Next(time.Now())
		// Record the new state before acting on it, so that a task shows
		// as running before its first line of output; other changes are
		// written at most every statusEvery (see significant).
		if plan.Done || significant(plan) || time.Since(lastWrite) >= statusEvery {
			st, err := record()
			if err != nil || plan.Done {
				for _, a := range plan.Actions {
					r.do(ctx, a)
				}
				if cerr := w.close(); err == nil && cerr != nil {
					err = fmt.Errorf("write status: %w", cerr)
				}
				return st, err
			}
		} else {
			dirty = true
		}
		for _, a := range plan.Actions {
			r.do(ctx, a)
		}
		var wake, flushed <-chan time.Time
		if !plan.WakeAt.IsZero() {
			resetTimer(timer, time.Until(plan.WakeAt))
			wake = timer.C
		}
		if dirty {
			resetTimer(flush, time.Until(lastWrite.Add(statusEvery)))
			flushed = flush.C
		}
		select {
		case ev := <-r.events:
			r.observe(ev)
			// Take every event already waiting before asking for a plan.
			for more := true; more; {
				select {
				case ev := <-r.events:
					r.observe(ev)
				default:
					more = false
				}
			}
		case mode := <-r.opts.Cancel:
			r.eng.Observe(engine.CancelRequested{Mode: mode, At: time.Now()})
		case <-wake:
		case <-flushed:
			if _, err := record(); err != nil {
				return engine.Status{}, err
			}
		case <-ctx.Done():
			// The caller gave up: stop everything now, then let the
			// engine record it.
			r.eng.Observe(engine.CancelRequested{Mode: v1.PipelineRunSpecStatusCancelled, At: time.Now()})
			ctx = context.WithoutCancel(ctx)
		}
	}
}

// statusEvery bounds how often a run's status is written while nothing
// significant happens.
const statusEvery = 200 * time.Millisecond

// significant reports whether a plan starts a task attempt, which a user
// should see running before its first line of output. Whatever else
// changes (a step starting, a task ending) is written at most every
// statusEvery and when the run ends: taking the status of a run of many
// tasks as each of them ends would keep the loop from what comes next.
func significant(p engine.Plan) bool {
	for _, a := range p.Actions {
		if _, ok := a.(engine.StartAttempt); ok {
			return true
		}
	}
	return false
}

func resetTimer(t *time.Timer, d time.Duration) {
	if d < 0 {
		d = 0
	}
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	t.Reset(d)
}

func (r *runner) observe(ev engine.Event) {
	if sf, ok := ev.(engine.StepFinished); ok {
		if a := r.attempts[sf.Attempt]; a != nil {
			a.stepDone(sf.Step)
		}
	}
	r.eng.Observe(ev)
}

func (r *runner) do(ctx context.Context, a engine.Action) {
	switch a := a.(type) {
	case engine.StartAttempt:
		at := newAttempt(r, a)
		r.attempts[a.ID] = at
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			if err := at.setUp(ctx); err != nil {
				r.log.Debug("attempt set-up failed", "taskRun", a.ID.TaskRun, "err", err)
				r.send(engine.AttemptFailed{Attempt: a.ID, Reason: reasonOf(err), Message: err.Error(), At: time.Now()})
				return
			}
			at.startSidecars()
		}()
	case engine.StartStep:
		at := r.attempts[a.Attempt]
		if at == nil {
			r.send(engine.StepFinished{Attempt: a.Attempt, Step: a.Step, ExitCode: -1, Reason: "StartFailed", Message: "attempt was not set up", At: time.Now()})
			return
		}
		at.startStep(a.Step, a.Process, a.Next)
	case engine.StopAttempt:
		if at := r.attempts[a.Attempt]; at != nil {
			at.stop()
		}
	case engine.EndAttempt:
		if at := r.attempts[a.Attempt]; at != nil {
			delete(r.attempts, a.Attempt)
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				at.close()
			}()
		}
	case engine.Finish:
	}
}

// send delivers an event from any goroutine.
func (r *runner) send(ev engine.Event) {
	r.events <- ev
}

func (r *runner) closeAll() {
	for id, at := range r.attempts {
		at.stop()
		at.close()
		delete(r.attempts, id)
	}
	// Drain events of goroutines still finishing so none blocks.
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	for {
		select {
		case <-r.events:
		case <-done:
			return
		}
	}
}

// reasonedError carries an upstream TaskRun reason with an error.
type reasonedError struct {
	reason string
	err    error
}

func (e *reasonedError) Error() string { return e.err.Error() }
func (e *reasonedError) Unwrap() error { return e.err }

func withReason(reason string, err error) error { return &reasonedError{reason: reason, err: err} }

func reasonOf(err error) string {
	var re *reasonedError
	if errors.As(err, &re) {
		return re.reason
	}
	return "CreateContainerConfigError"
}

// statusWriter writes a run's status in the background, so the run loop
// never waits on the disk: a status handed over while an earlier one is
// being written replaces any that waits, and close writes the last one.
type statusWriter struct {
	store   Store
	mu      sync.Mutex
	next    *engine.Status
	err     error
	kick    chan struct{}
	closing chan struct{}
	done    chan struct{}
	once    sync.Once
}

func newStatusWriter(store Store) *statusWriter {
	w := &statusWriter{store: store, kick: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w
}

// put hands st over to be written; it returns the first error a write
// has met so far.
func (w *statusWriter) put(st engine.Status) error {
	w.mu.Lock()
	w.next = &st
	err := w.err
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	return err
}

func (w *statusWriter) loop() {
	defer close(w.done)
	for range w.kick {
		w.flush()
		// Writes are spaced out: what arrives meanwhile is coalesced
		// into the next one. close does not wait for the pause.
		select {
		case <-time.After(writeEvery):
		case <-w.closing:
		}
	}
	w.flush()
}

// writeEvery is the least time between two status writes of a run.
const writeEvery = 50 * time.Millisecond

func (w *statusWriter) flush() {
	w.mu.Lock()
	st := w.next
	w.next = nil
	w.mu.Unlock()
	if st == nil {
		return
	}
	if err := w.store.WriteStatus(*st); err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
	}
}

// close writes what is pending, stops the writer and returns the first
// error a write met.
func (w *statusWriter) close() error {
	w.once.Do(func() {
		close(w.closing)
		close(w.kick)
	})
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
