package engine

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

// t0 is when every test run starts.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeRefs holds the objects a run may refer to.
type fakeRefs struct {
	tasks       map[string]*v1.Task
	pipelines   map[string]*v1.Pipeline
	stepActions map[string]*v1beta1.StepAction
}

func (r *fakeRefs) Task(name string) (*v1.Task, bool) {
	t, ok := r.tasks[name]
	return t, ok
}

func (r *fakeRefs) Pipeline(name string) (*v1.Pipeline, bool) {
	p, ok := r.pipelines[name]
	return p, ok
}

func (r *fakeRefs) StepAction(name string) (*v1beta1.StepAction, bool) {
	s, ok := r.stepActions[name]
	return s, ok
}

// objects decodes a multi-document YAML fixture: the run (PipelineRun or
// TaskRun) and the Tasks, Pipelines and StepActions it refers to.
func objects(t *testing.T, doc string) (pr *v1.PipelineRun, tr *v1.TaskRun, refs *fakeRefs) {
	t.Helper()
	refs = &fakeRefs{tasks: map[string]*v1.Task{}, pipelines: map[string]*v1.Pipeline{}, stepActions: map[string]*v1beta1.StepAction{}}
	for _, part := range strings.Split(doc, "\n---\n") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(part), &meta); err != nil {
			t.Fatalf("decoding fixture: %v", err)
		}
		var err error
		switch meta.Kind {
		case "PipelineRun":
			pr = &v1.PipelineRun{}
			err = yaml.Unmarshal([]byte(part), pr)
		case "TaskRun":
			tr = &v1.TaskRun{}
			err = yaml.Unmarshal([]byte(part), tr)
		case "Task":
			x := &v1.Task{}
			err = yaml.Unmarshal([]byte(part), x)
			refs.tasks[x.Name] = x
		case "Pipeline":
			x := &v1.Pipeline{}
			err = yaml.Unmarshal([]byte(part), x)
			refs.pipelines[x.Name] = x
		case "StepAction":
			x := &v1beta1.StepAction{}
			err = yaml.Unmarshal([]byte(part), x)
			refs.stepActions[x.Name] = x
		default:
			t.Fatalf("fixture has unknown kind %q", meta.Kind)
		}
		if err != nil {
			t.Fatalf("decoding %s: %v", meta.Kind, err)
		}
	}
	return pr, tr, refs
}

// newEngine builds the engine for a fixture's run.
func newEngine(t *testing.T, doc string, opts Options) *Engine {
	t.Helper()
	pr, tr, refs := objects(t, doc)
	var e *Engine
	var err error
	if pr != nil {
		e, err = NewPipelineRun(pr, refs, opts)
	} else {
		e, err = NewTaskRun(tr, refs, opts)
	}
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	return e
}

// step is what a simulated step does.
type step struct {
	exit        int
	dur         time.Duration
	results     map[string]string // step results
	taskResults map[string]string // task result files after the step
	reason      string            // StepFinished.Reason to report
	message     string
}

// script decides what each step does. Keys are "<taskRun>/<container>",
// optionally with "#<retry>"; "<pipelineTask>/<container>" also matches a
// PipelineRun's TaskRuns; "*" matches every step. The default is exit 0
// after one second.
type script map[string]step

func (s script) lookup(a StartAttempt, st StartStep) step {
	keys := []string{
		fmt.Sprintf("%s/%s#%d", a.ID.TaskRun, st.Process.Name, a.ID.Retry),
		fmt.Sprintf("%s/%s", a.ID.TaskRun, st.Process.Name),
		fmt.Sprintf("%s/%s#%d", a.PipelineTask, st.Process.Name, a.ID.Retry),
		fmt.Sprintf("%s/%s", a.PipelineTask, st.Process.Name),
		"*",
	}
	for _, k := range keys {
		if o, ok := s[k]; ok {
			if o.dur == 0 {
				o.dur = time.Second
			}
			return o
		}
	}
	return step{dur: time.Second}
}

// sim is a tiny executor: it carries out the engine's actions with a fake
// clock and reports what the script says happened.
type sim struct {
	t        *testing.T
	e        *Engine
	script   script
	now      time.Time
	attempts map[AttemptID]StartAttempt
	running  map[AttemptID]*pendingStep
	events   []timed
	// log records the actions, one line each.
	log []string
	// started holds every StartAttempt and StartStep, in order.
	started []Action
	// reasons lists the run's condition reasons as they changed, after
	// each call to Next.
	reasons []string
	// foreseen is the Next of each attempt's last StartStep: the engine
	// promises to start that step just so.
	foreseen map[AttemptID]StartStep
}

type pendingStep struct {
	step  int
	start time.Time
	ev    *timed
}

type timed struct {
	at time.Time
	ev Event
}

// run drives the engine to the end and returns the log.
func run(t *testing.T, e *Engine, s script, cancels ...timed) *sim {
	t.Helper()
	x := &sim{t: t, e: e, script: s, now: t0, attempts: map[AttemptID]StartAttempt{}, running: map[AttemptID]*pendingStep{}, foreseen: map[AttemptID]StartStep{}}
	x.events = append(x.events, cancels...)
	for i := 0; i < 100000; i++ {
		plan := e.Next(x.now)
		for _, a := range plan.Actions {
			x.do(a)
		}
		x.noteReason()
		if plan.Done {
			return x
		}
		// Deliver the next events.
		sort.SliceStable(x.events, func(i, j int) bool { return x.events[i].at.Before(x.events[j].at) })
		next := time.Time{}
		if len(x.events) > 0 {
			next = x.events[0].at
		}
		if !plan.WakeAt.IsZero() && (next.IsZero() || plan.WakeAt.Before(next)) {
			next = plan.WakeAt
		}
		if next.IsZero() {
			t.Fatalf("engine is stuck: no action to wait for; log:\n%s", strings.Join(x.log, "\n"))
		}
		if next.After(x.now) {
			x.now = next
		}
		for len(x.events) > 0 && !x.events[0].at.After(x.now) {
			ev := x.events[0]
			x.events = x.events[1:]
			if sf, ok := ev.ev.(StepFinished); ok {
				if p := x.running[sf.Attempt]; p != nil && p.step == sf.Step {
					delete(x.running, sf.Attempt)
				}
			}
			e.Observe(ev.ev)
		}
	}
	t.Fatalf("engine did not finish")
	return x
}

func (x *sim) do(a Action) {
	switch a := a.(type) {
	case StartAttempt:
		x.attempts[a.ID] = a
		x.started = append(x.started, a)
		x.log = append(x.log, fmt.Sprintf("start %s#%d", a.ID.TaskRun, a.ID.Retry))
		if len(a.Sidecars) > 0 {
			x.events = append(x.events, timed{at: x.now.Add(time.Second), ev: SidecarsReady{Attempt: a.ID, At: x.now.Add(time.Second)}})
		}
	case StartStep:
		if f, ok := x.foreseen[a.Attempt]; ok && f.Step == a.Step {
			if diff := cmp.Diff(f.Process, a.Process); diff != "" {
				x.t.Errorf("step %d of %s#%d starts unlike its foreseen self (-foreseen +started):\n%s", a.Step, a.Attempt.TaskRun, a.Attempt.Retry, diff)
			}
		}
		delete(x.foreseen, a.Attempt)
		if a.Next != nil {
			x.foreseen[a.Attempt] = StartStep{Attempt: a.Attempt, Step: a.Step + 1, Process: *a.Next}
		}
		x.started = append(x.started, a)
		x.log = append(x.log, fmt.Sprintf("step %s#%d %s", a.Attempt.TaskRun, a.Attempt.Retry, a.Process.Name))
		o := x.script.lookup(x.attempts[a.Attempt], a)
		end := x.now.Add(o.dur)
		ev := StepFinished{Attempt: a.Attempt, Step: a.Step, ExitCode: o.exit, Results: o.results, TaskResults: o.taskResults, Reason: o.reason, Message: o.message, StartedAt: x.now}
		if a.Process.Timeout > 0 && o.dur > a.Process.Timeout {
			end = x.now.Add(a.Process.Timeout)
			ev.Reason, ev.ExitCode = "TimeoutExceeded", 1
		}
		ev.At = end
		x.events = append(x.events, timed{at: end, ev: ev})
		x.running[a.Attempt] = &pendingStep{step: a.Step, start: x.now, ev: &x.events[len(x.events)-1]}
	case StopAttempt:
		x.log = append(x.log, fmt.Sprintf("stop %s#%d %s", a.Attempt.TaskRun, a.Attempt.Retry, a.Reason))
		if p := x.running[a.Attempt]; p != nil {
			// Replace the step's end with its cancellation now.
			for i := range x.events {
				if sf, ok := x.events[i].ev.(StepFinished); ok && sf.Attempt == a.Attempt && sf.Step == p.step {
					x.events[i] = timed{at: x.now, ev: StepFinished{Attempt: a.Attempt, Step: p.step, ExitCode: 137, Reason: "Cancelled", StartedAt: p.start, At: x.now}}
				}
			}
		}
	case EndAttempt:
		x.log = append(x.log, fmt.Sprintf("end %s#%d", a.Attempt.TaskRun, a.Attempt.Retry))
	case Finish:
		x.log = append(x.log, "finish")
	default:
		x.t.Fatalf("unknown action %T", a)
	}
}

// at returns an event for run's cancels.
func at(d time.Duration, ev Event) timed { return timed{at: t0.Add(d), ev: ev} }

// ignoreTimes leaves times out of status comparisons.
var ignoreTimes = cmp.Options{
	cmpopts.IgnoreTypes(metav1.Time{}, &metav1.Time{}),
	cmpopts.EquateEmpty(),
}

// mt returns a *metav1.Time at t0+d.
func mt(d time.Duration) *metav1.Time {
	x := metav1.NewTime(t0.Add(d))
	return &x
}

func (x *sim) noteReason() {
	st := x.e.Status()
	var c *v1.Condition
	if st.PipelineRun != nil {
		c = st.PipelineRun.GetCondition()
	} else {
		c = st.TaskRun.GetCondition()
	}
	if c == nil {
		return
	}
	if n := len(x.reasons); n == 0 || x.reasons[n-1] != c.Reason {
		x.reasons = append(x.reasons, c.Reason)
	}
}
