package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/executor/local"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/podspec"
	"github.com/colo-ci/colo/internal/runstore"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Output formats.
const (
	outputText = "text"
	outputJSON = "json"
)

type runOptions struct {
	files      []string
	pipeline   string
	task       string
	params     []string
	workspaces []string
	timeout    time.Duration
	runDir     string
	output     string
	on         string
	maxResult  int
	pod        podOptions
}

func newRunCommand(streams IOStreams, k Kube) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run -f FILE|DIR [-f ...] [--pipeline NAME | --task NAME [-p key=value] [-w name=DIR]]",
		Short: "Run the PipelineRuns and TaskRuns in files, or start a Pipeline or Task",
		Long: `Run every PipelineRun and TaskRun in the given files and directories, one
after another in the order they were read. Everything is loaded and
validated before anything starts; invalid input starts nothing.

With --pipeline or --task, run that Pipeline or Task instead, as a new run
named <name>-run-<random>, with params from -p and workspaces from -w:

  -p name=value        a string param; for an array param a,b,c or a JSON
                       array; for an object param a JSON object
  -w name=DIR          binds the workspace to the host directory DIR

Each run keeps its status and logs in <run-dir>/<run name>/.

Exit codes: 0 every run succeeded, 1 a run failed, 2 invalid input,
130 interrupted. Ctrl-C once stops gracefully (finally tasks still run);
twice stops everything now.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRun(cmd.Context(), streams, k, o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.files, "filename", "f", nil, "file or directory of YAML to read (repeatable)")
	f.StringVar(&o.pipeline, "pipeline", "", "start the Pipeline of this name")
	f.StringVar(&o.task, "task", "", "start the Task of this name")
	f.StringArrayVarP(&o.params, "param", "p", nil, "param of a started Pipeline or Task: name=value (repeatable)")
	f.StringArrayVarP(&o.workspaces, "workspace", "w", nil, "workspace of a started Pipeline or Task: name=DIR (repeatable)")
	f.DurationVar(&o.timeout, "timeout", 0, "timeout of each run (timeouts.pipeline of a PipelineRun, timeout of a TaskRun)")
	addRunDirFlag(f, &o.runDir)
	f.StringVarP(&o.output, "output", "o", outputText, "output: text or json (the final status document only)")
	f.StringVar(&o.on, "on", onLocal, "where to run: local, or pod (each run in one Kubernetes Pod)")
	f.StringVar(&o.pod.namespace, "namespace", "", "namespace of the Pod with --on pod (default: the kubeconfig context's, else default)")
	f.StringVar(&o.pod.kubeconfig, "kubeconfig", "", "kubeconfig with --on pod (default $KUBECONFIG, else ~/.kube/config)")
	f.StringVar(&o.pod.image, "image", podspec.DefaultImage, "colo's image, with --on pod")
	f.BoolVar(&o.pod.keep, "keep", false, "keep the Pod after the run, with --on pod")
	f.IntVar(&o.maxResult, "max-result-size", engine.DefaultMaxResultSize, "largest result a task may write, in bytes")
	return cmd
}

func runRun(ctx context.Context, streams IOStreams, k Kube, o *runOptions) error {
	if len(o.files) == 0 {
		return invalid(errors.New("no files: give -f FILE or -f DIR"))
	}
	if o.output != outputText && o.output != outputJSON {
		return invalid(fmt.Errorf("--output %q: want text or json", o.output))
	}
	if o.pipeline != "" && o.task != "" {
		return invalid(errors.New("--pipeline and --task cannot be used together"))
	}
	starting := o.pipeline != "" || o.task != ""
	if !starting && (len(o.params) > 0 || len(o.workspaces) > 0) {
		return invalid(errors.New("-p and -w need --pipeline or --task"))
	}
	if o.on != onLocal && o.on != onPod {
		return invalid(fmt.Errorf("--on %q: want local or pod", o.on))
	}
	if o.on == onPod && len(o.workspaces) > 0 {
		return invalid(errors.New("-w binds host directories: it cannot be used with --on pod"))
	}
	if o.timeout < 0 {
		return invalid(fmt.Errorf("--timeout %s: must not be negative", o.timeout))
	}
	if o.maxResult <= 0 {
		return invalid(fmt.Errorf("--max-result-size %d: must be positive", o.maxResult))
	}
	opts := engine.Options{MaxResultSize: o.maxResult}
	var host *local.Host
	if o.on == onLocal {
		// The sandbox supervisor starts while the files are read; it
		// runs no process unless a run starts.
		host = local.NewHost(ctx)
		defer host.Close()
	}

	set, err := load.Files(o.files...)
	if err != nil {
		return invalid(problems(flatten(err)))
	}
	for _, w := range set.Warnings {
		fmt.Fprintf(streams.ErrOut, "warning: %s\n", w)
	}
	root := storeRoot(o.runDir)

	var only []runItem
	var hostDirs map[string]string
	if starting {
		item, dirs, err := startRun(set, root, o)
		if err != nil {
			return invalid(err)
		}
		only, hostDirs = []runItem{item}, dirs
	}
	if o.timeout > 0 {
		setTimeouts(set, only, o.timeout)
	}
	items, err := prepare(set, only, opts)
	if err != nil {
		return invalid(err)
	}
	if len(items) == 0 {
		return invalid(fmt.Errorf("no PipelineRun or TaskRun in %v (use --pipeline or --task to start one)", o.files))
	}
	if o.on == onPod {
		return executeOnPod(ctx, streams, k, set, root, items, o.output, o.pod, opts)
	}
	return execute(ctx, streams, set, root, items, hostDirs, o.output, host)
}

// setTimeouts gives every run to start the timeout d.
func setTimeouts(set *load.Set, only []runItem, d time.Duration) {
	prs, trs := set.PipelineRuns, set.TaskRuns
	if only != nil {
		prs, trs = nil, nil
		for _, it := range only {
			if it.pr != nil {
				prs = append(prs, it.pr)
			} else {
				trs = append(trs, it.tr)
			}
		}
	}
	for _, pr := range prs {
		if pr.Spec.Timeouts == nil {
			pr.Spec.Timeouts = &v1.TimeoutFields{}
		}
		pr.Spec.Timeouts.Pipeline = &metav1.Duration{Duration: d}
	}
	for _, tr := range trs {
		tr.Spec.Timeout = &metav1.Duration{Duration: d}
	}
}

// outcome is how one run ended.
type outcome struct {
	item *runItem
	doc  runstore.Document
	err  error
}

// execute runs items one after another and returns the exit code as an
// error. A first interrupt asks the current run to stop gracefully, a
// second to stop now; no further run starts after an interrupt.
func execute(ctx context.Context, streams IOStreams, set *load.Set, root runstore.Root, items []*runItem, hostDirs map[string]string, output string, host *local.Host) error {
	tty, width := isTerminal(streams.Out)
	if output != outputText {
		tty = false
	}

	it := newInterrupts(streams.ErrOut)
	defer it.stop()

	var outs []outcome
	for _, item := range items {
		if it.count() > 0 {
			break
		}
		out := executeOne(ctx, streams, set, root, item, hostDirs, output, tty, width, it, host)
		outs = append(outs, out)
	}

	return finish(streams, output, outs, it)
}

// finish prints the JSON documents of the runs when asked and turns their
// outcomes into the command's exit: interrupted, an error, a failed run,
// or success.
func finish(streams IOStreams, output string, outs []outcome, it *interrupts) error {
	if output == outputJSON {
		if err := writeJSONDocuments(streams.Out, outs); err != nil {
			return err
		}
	}
	failed := 0
	var errs []error
	for _, out := range outs {
		if out.err != nil {
			errs = append(errs, out.err)
			continue
		}
		if c := out.doc.Condition(); c == nil || c.Status != corev1.ConditionTrue {
			failed++
		}
	}
	switch {
	case it.count() > 0:
		return &ExitError{Code: ExitInterrupted, Err: errors.Join(errs...)}
	case len(errs) > 0:
		return &ExitError{Code: ExitFailed, Err: errors.Join(errs...)}
	case failed > 0:
		return &ExitError{Code: ExitFailed}
	}
	return nil
}

// executeOne runs one prepared run to its end.
func executeOne(ctx context.Context, streams IOStreams, set *load.Set, root runstore.Root, item *runItem, hostDirs map[string]string, output string, tty bool, width func() int, it *interrupts, host *local.Host) outcome {
	out := outcome{item: item}
	run, err := root.Create(item.document())
	if err != nil {
		out.err = fmt.Errorf("%s %s: %w", item.kind(), item.name(), err)
		return out
	}
	defer run.Close()

	var sink local.Sink = discardSink{}
	var prog *progress
	if output == outputText {
		if !tty {
			width = nil
		}
		fmt.Fprintf(streams.Out, "%s %s started (%s)\n", item.kind(), item.name(), run.Dir())
		prog = newProgress(streams.Out, width)
		sink = prog
	}

	cancel := make(chan v1.PipelineRunSpecStatus, 2)
	it.attach(item.kind(), cancel)
	st, err := local.Run(ctx, item.eng, local.Options{
		Objects:   set,
		Store:     run,
		Sink:      sink,
		Namespace: item.namespace(),
		HostDirs:  hostDirs,
		Cancel:    cancel,
		Host:      host,
	})
	it.attach("", nil)
	if prog != nil {
		prog.Status(st)
		prog.Close()
	}
	if err != nil {
		// The executor wrote every status up to the last unless it
		// failed; then what the engine last knew is kept.
		if werr := run.WriteStatus(st); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	out.doc = run.Document()
	if err != nil {
		out.err = fmt.Errorf("%s %s: %w", item.kind(), item.name(), err)
	}
	if prog != nil {
		rows, took := prog.Summary()
		writeSummary(streams.Out, item.kind(), item.name(), st, rows, took, time.Now())
	}
	return out
}

// writeJSONDocuments prints the final documents: the one document of a
// single run, or a List of them.
func writeJSONDocuments(w io.Writer, outs []outcome) error {
	var v any
	if len(outs) == 1 {
		v = outs[0].doc
	} else {
		items := make([]runstore.Document, 0, len(outs))
		for _, o := range outs {
			if o.doc.Kind() != "" {
				items = append(items, o.doc)
			}
		}
		v = map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

type discardSink struct{}

func (discardSink) Line(string, string, string) {}
func (discardSink) Status(engine.Status)        {}

// interrupts turns SIGINT and SIGTERM into cancel requests for the run going
// on. It is local to one command: stop restores the default handling.
type interrupts struct {
	errOut io.Writer
	sigs   chan os.Signal
	done   chan struct{}

	mu       sync.Mutex
	n        int
	kind     string
	cancel   chan<- v1.PipelineRunSpecStatus
	cancelFn context.CancelFunc // set by context
}

func newInterrupts(errOut io.Writer) *interrupts {
	it := &interrupts{errOut: errOut, sigs: make(chan os.Signal, 4), done: make(chan struct{})}
	signal.Notify(it.sigs, os.Interrupt, syscall.SIGTERM)
	go it.loop()
	return it
}

func (it *interrupts) loop() {
	for {
		select {
		case <-it.done:
			return
		case <-it.sigs:
			it.mu.Lock()
			it.n++
			mode := v1.PipelineRunSpecStatusCancelled
			msg := "interrupted: stopping now"
			if it.n == 1 && it.kind == v1.KindPipelineRun {
				mode = v1.PipelineRunSpecStatusCancelledRunFinally
				msg = "interrupted: stopping after finally tasks (Ctrl-C again to stop now)"
			}
			if it.cancelFn != nil {
				fmt.Fprintln(it.errOut, "interrupted: stopping")
				it.cancelFn()
			}
			if it.cancel != nil && it.n <= 2 {
				select {
				case it.cancel <- mode:
					fmt.Fprintln(it.errOut, msg)
				default:
				}
			}
			it.mu.Unlock()
		}
	}
}

// context returns a context cancelled on the first interrupt.
func (it *interrupts) context(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	it.mu.Lock()
	it.cancelFn = cancel
	it.mu.Unlock()
	return ctx, cancel
}

// attach directs interrupts to the cancel channel of a run of kind.
func (it *interrupts) attach(kind string, cancel chan<- v1.PipelineRunSpecStatus) {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.kind, it.cancel = kind, cancel
}

func (it *interrupts) count() int {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.n
}

func (it *interrupts) stop() {
	signal.Stop(it.sigs)
	close(it.done)
}

// storeRoot is where runs are kept: runDir (default .colo/runs), with
// claims in .colo/claims.
func storeRoot(runDir string) runstore.Root {
	root := runstore.DefaultRoot(".")
	if runDir != "" {
		root.Runs = runDir
	}
	root.Runs = filepath.Clean(root.Runs)
	return root
}
