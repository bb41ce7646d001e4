package orchestrator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/colo-ci/colo/internal/control"
	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/podspec"
	"github.com/colo-ci/colo/internal/runstore"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Options configure an orchestrator. The zero values of the paths are
// those of a compiled Pod.
type Options struct {
	// Bundle is the run, as podspec encodes it (the Pod gives it in the
	// environment variable podspec.BundleEnv).
	Bundle string
	// TasksDir holds every task's volume (default control.TasksDir).
	TasksDir string
	// StateDir is the orchestrator's own directory (default
	// control.StateDir).
	StateDir string
	// CancelFiles are files that ask the run to stop: a cancel mode
	// (Cancelled, CancelledRunFinally or StoppedRunFinally) written to
	// one is passed to the engine. Default: StateDir/cancel and
	// DownwardCancelFile.
	CancelFiles []string
	// Out receives the status frames and the orchestrator's log lines:
	// the container's log.
	Out io.Writer
	// Cancel carries requests to stop the run, as the cancel file does.
	Cancel <-chan v1.PipelineRunSpecStatus
	// ExitWait bounds how long the orchestrator waits, after writing the
	// final status, for the other containers to exit (default 30s).
	ExitWait time.Duration
}

// CancelFile is the file in StateDir that asks a run to stop.
const CancelFile = "cancel"

// DownwardCancelFile is where a Pod's controller may project the run's
// requested status into the orchestrator (a downwardAPI volume of an
// annotation): an empty file until the run is asked to stop.
const DownwardCancelFile = "/colo/downward/cancel"

// gracePeriod is how long a stopped step has between SIGTERM and SIGKILL.
const gracePeriod = 2 * time.Second

// statusEvery bounds how often progress is written while only steps of
// running tasks start one after another.
const statusEvery = 200 * time.Millisecond

// Run drives the run of opts.Bundle to its end: it builds the same engine
// `colo run` does and carries out its actions with the Pod's step
// runners. It writes progress frames while the run goes on and a final
// frame at the end (see ReadStatus), tells every container to exit, waits
// for them, and returns the final document. An error means the
// orchestrator itself could not go on; a failed run is a document.
func Run(ctx context.Context, opts Options) (runstore.Document, error) {
	if opts.TasksDir == "" {
		opts.TasksDir = control.TasksDir
	}
	if opts.StateDir == "" {
		opts.StateDir = control.StateDir
	}
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.ExitWait <= 0 {
		opts.ExitWait = 30 * time.Second
	}
	if opts.CancelFiles == nil {
		opts.CancelFiles = []string{filepath.Join(opts.StateDir, CancelFile), DownwardCancelFile}
	}
	out := &frameWriter{w: opts.Out}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))

	b, err := podspec.DecodeBundle(opts.Bundle)
	if err != nil {
		return runstore.Document{}, err
	}
	set, err := load.Bytes("bundle", []byte(b.Objects))
	if err != nil {
		return runstore.Document{}, fmt.Errorf("load the run: %w", err)
	}
	doc, eng, err := newEngine(set, b)
	if err != nil {
		return runstore.Document{}, err
	}
	root := runstore.Root{Runs: filepath.Join(opts.StateDir, "runs"), Claims: filepath.Join(opts.StateDir, "claims")}
	store, err := root.Create(doc)
	if err != nil {
		return runstore.Document{}, fmt.Errorf("run state: %w", err)
	}
	defer store.Close()

	d := &driver{
		opts:    opts,
		eng:     eng,
		store:   store,
		out:     out,
		log:     log,
		layout:  b.Layout,
		tasks:   map[string]*task{},
		cancel:  opts.Cancel,
		maxRead: int64(max(b.Engine.MaxResultSize, b.Engine.MaxTotalResultSize, engine.DefaultMaxTotalResultSize)) + 1,
	}
	if err := d.setUp(); err != nil {
		return runstore.Document{}, err
	}
	defer d.w.Close()
	log.Info("run started", "kind", b.Layout.Kind, "name", b.Layout.Name, "tasks", len(b.Layout.Tasks), "inotify", !d.w.Polling())
	final, err := d.loop(ctx)
	d.exitAll()
	if err != nil {
		// No final frame: the run did not end, and a reader must not
		// take its last state for its outcome.
		log.Error("the orchestrator cannot go on", "err", err)
		d.awaitExits(min(opts.ExitWait, 5*time.Second))
		return final, err
	}
	err = out.frame(KindFinal, final)
	wait := opts.ExitWait
	if ctx.Err() != nil {
		// The Pod is being deleted: its containers are going anyway.
		wait = min(wait, 2*time.Second)
	}
	d.awaitExits(wait)
	return final, err
}

// newEngine builds the run's engine from the bundle's objects, and the
// document status is written into.
func newEngine(set *load.Set, b *podspec.Bundle) (runstore.Document, *engine.Engine, error) {
	switch {
	case b.Layout.Kind == v1.KindPipelineRun && len(set.PipelineRuns) == 1:
		pr := set.PipelineRuns[0]
		if pr.UID == "" {
			pr.UID = types.UID(newUID())
		}
		eng, err := engine.NewPipelineRun(pr, set, b.Engine)
		if err != nil {
			return runstore.Document{}, nil, fmt.Errorf("PipelineRun %q: %w", pr.Name, err)
		}
		doc := pr.DeepCopy()
		doc.APIVersion, doc.Kind = v1.APIVersion, v1.KindPipelineRun
		return runstore.Document{PipelineRun: doc}, eng, nil
	case b.Layout.Kind == v1.KindTaskRun && len(set.TaskRuns) == 1:
		tr := set.TaskRuns[0]
		if tr.UID == "" {
			tr.UID = types.UID(newUID())
		}
		eng, err := engine.NewTaskRun(tr, set, b.Engine)
		if err != nil {
			return runstore.Document{}, nil, fmt.Errorf("TaskRun %q: %w", tr.Name, err)
		}
		doc := tr.DeepCopy()
		doc.APIVersion, doc.Kind = v1.APIVersion, v1.KindTaskRun
		return runstore.Document{TaskRun: doc}, eng, nil
	}
	return runstore.Document{}, nil, fmt.Errorf("the bundle holds no single %s", b.Layout.Kind)
}

func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// driver carries out the engine's actions in the Pod.
type driver struct {
	opts   Options
	eng    *engine.Engine
	store  *runstore.Run
	out    *frameWriter
	log    *slog.Logger
	layout podspec.Layout
	tasks  map[string]*task // by TaskRun name
	order  []*task
	w      *control.Watcher
	cancel <-chan v1.PipelineRunSpecStatus

	// maxRead bounds how much of a result file is read: enough for the
	// engine to see that a result is too large, however large the file.
	maxRead int64

	lastProgress []byte
	cancelSeen   string
}

// setUp finds every task's directories and watches them.
func (d *driver) setUp() error {
	d.w = control.NewWatcher()
	if err := os.MkdirAll(d.opts.StateDir, 0o755); err != nil {
		return err
	}
	if err := d.w.Add(d.opts.StateDir); err != nil {
		return err
	}
	for _, f := range d.opts.CancelFiles {
		// A projected file is replaced through its directory: watch that.
		if dir := filepath.Dir(f); dir != d.opts.StateDir {
			if _, err := os.Stat(dir); err == nil {
				if err := d.w.Add(dir); err != nil {
					return err
				}
			}
		}
	}
	for _, tl := range d.layout.Tasks {
		t, err := newTask(tl, filepath.Join(d.opts.TasksDir, tl.Volume))
		if err != nil {
			return err
		}
		for _, c := range t.containers() {
			if err := d.w.Add(c.dir); err != nil {
				return err
			}
		}
		d.tasks[tl.TaskRun] = t
		d.order = append(d.order, t)
	}
	return nil
}

func (d *driver) loop(ctx context.Context) (runstore.Document, error) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	flush := time.NewTimer(time.Hour)
	defer flush.Stop()
	var lastWrite time.Time
	dirty := false
	record := func() error {
		st := d.eng.Status()
		if err := d.store.WriteStatus(st); err != nil {
			return fmt.Errorf("write status: %w", err)
		}
		d.settle(st)
		lastWrite, dirty = time.Now(), false
		return d.progress(d.store.Document())
	}
	for {
		plan := d.eng.Next(time.Now())
		for _, a := range plan.Actions {
			d.do(a)
		}
		if plan.Done || significant(plan) || time.Since(lastWrite) >= statusEvery {
			if err := record(); err != nil {
				return d.store.Document(), err
			}
			if plan.Done {
				return d.store.Document(), nil
			}
		} else {
			dirty = true
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
		case <-d.w.C:
			d.poll()
		case mode := <-d.cancel:
			d.eng.Observe(engine.CancelRequested{Mode: mode, At: time.Now()})
		case <-wake:
		case <-flushed:
			if err := record(); err != nil {
				return d.store.Document(), err
			}
		case <-ctx.Done():
			d.log.Info("stopping the run", "cause", context.Cause(ctx))
			d.eng.Observe(engine.CancelRequested{Mode: v1.PipelineRunSpecStatusCancelled, At: time.Now()})
			ctx = context.WithoutCancel(ctx)
		}
	}
}

// significant reports whether a plan changes more than which step of a
// running task runs.
func significant(p engine.Plan) bool {
	for _, a := range p.Actions {
		if _, ok := a.(engine.StartStep); !ok {
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

// progress writes a progress frame when the document changed.
func (d *driver) progress(doc runstore.Document) error {
	doc = withoutResults(doc)
	b, err := doc.MarshalJSON()
	if err != nil {
		return err
	}
	if string(b) == string(d.lastProgress) {
		return nil
	}
	d.lastProgress = b
	return d.out.frame(KindProgress, doc)
}

// poll reads what the runners and the user wrote.
func (d *driver) poll() {
	d.readCancel()
	for _, t := range d.order {
		for _, ev := range t.poll(d) {
			d.eng.Observe(ev)
		}
	}
}

// readCancel passes a cancel file's request to the engine, once per mode.
func (d *driver) readCancel() {
	for _, f := range d.opts.CancelFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		d.cancelMode(strings.TrimSpace(string(b)))
	}
}

func (d *driver) cancelMode(mode string) {
	if mode == "" || mode == d.cancelSeen {
		return
	}
	d.cancelSeen = mode
	switch v1.PipelineRunSpecStatus(mode) {
	case v1.PipelineRunSpecStatusCancelled, v1.PipelineRunSpecStatusCancelledRunFinally, v1.PipelineRunSpecStatusStoppedRunFinally:
		d.log.Info("cancel requested", "mode", mode)
		d.eng.Observe(engine.CancelRequested{Mode: v1.PipelineRunSpecStatus(mode), At: time.Now()})
	default:
		d.log.Warn("ignoring unknown cancel mode", "mode", mode)
	}
}

func (d *driver) do(a engine.Action) {
	switch a := a.(type) {
	case engine.StartAttempt:
		t := d.tasks[a.ID.TaskRun]
		if t == nil {
			d.eng.Observe(engine.AttemptFailed{Attempt: a.ID, Reason: "CreateContainerConfigError", Message: fmt.Sprintf("the Pod has no containers for TaskRun %q", a.ID.TaskRun), At: time.Now()})
			return
		}
		for _, ev := range t.startAttempt(d, a) {
			d.eng.Observe(ev)
		}
	case engine.StartStep:
		if t := d.tasks[a.Attempt.TaskRun]; t != nil {
			for _, ev := range t.startStep(d, a) {
				d.eng.Observe(ev)
			}
		}
	case engine.StopAttempt:
		if t := d.tasks[a.Attempt.TaskRun]; t != nil {
			t.stop(d, a.Attempt)
		}
	case engine.EndAttempt:
		if t := d.tasks[a.Attempt.TaskRun]; t != nil {
			t.end(d, a.Attempt)
		}
	case engine.Finish:
	}
}

// settle tells the containers of tasks that are over to exit: a TaskRun
// that finished for good, and pipeline tasks that were skipped.
func (d *driver) settle(st engine.Status) {
	for _, tr := range st.TaskRuns {
		t := d.tasks[tr.Name]
		if t == nil || t.exiting {
			continue
		}
		if c := tr.Status.GetCondition(); c != nil && c.Status != corev1.ConditionUnknown {
			t.exit(d)
		}
	}
	if st.PipelineRun != nil {
		for _, sk := range st.PipelineRun.SkippedTasks {
			for _, t := range d.order {
				if t.layout.PipelineTask == sk.Name && !t.exiting {
					t.exit(d)
				}
			}
		}
	}
}

// exitAll tells every container that has not been told yet to exit.
func (d *driver) exitAll() {
	for _, t := range d.order {
		if !t.exiting {
			t.exit(d)
		}
	}
}

// awaitExits waits until every container said it exited, or for at most
// wait.
func (d *driver) awaitExits(wait time.Duration) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		left := 0
		for _, t := range d.order {
			t.poll(d)
			for _, c := range t.containers() {
				if !c.exited {
					left++
				}
			}
		}
		if left == 0 {
			return
		}
		select {
		case <-d.w.C:
		case <-deadline.C:
			d.log.Warn("containers did not exit in time", "left", left)
			return
		}
	}
}

// stripTaskRun drops a TaskRun's result values and its steps'.
func stripTaskRun(results *[]v1.TaskRunResult, steps []v1.StepState) {
	*results = nil
	for i := range steps {
		steps[i].Results = nil
	}
}
