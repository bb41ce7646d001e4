package conformance

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/executor/local"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/runstore"
	"github.com/colo-ci/colo/internal/validate"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

//go:embed exclusions.yaml
var exclusionsYAML []byte

// Mode is where a conformance run runs the files.
type Mode string

// Modes.
const (
	// Local runs each file's runs on this machine with the local
	// executor.
	Local Mode = "local"
	// Pod runs each run in one Pod, as colo run --on pod does.
	Pod Mode = "pod"
	// Controller creates each file's objects in the cluster, its runs
	// with spec.managedBy naming colo, and waits for colo's controller
	// to finish them.
	Controller Mode = "controller"
)

// Modes lists every mode.
func Modes() []Mode { return []Mode{Local, Pod, Controller} }

// Exclusions returns the project's exclusion list for mode: example path
// (relative to the examples directory, with forward slashes) → reason.
func Exclusions(mode Mode) (map[string]string, error) {
	return ParseExclusions(exclusionsYAML, mode)
}

// ParseExclusions reads an exclusion list and returns the entries that
// apply to mode. The list is a YAML map from path to either a reason (the
// file is excluded in every mode) or a map from mode to reason (only in
// those modes). Every entry needs a reason.
func ParseExclusions(data []byte, mode Mode) (map[string]string, error) {
	raw := map[string]json.RawMessage{}
	if err := yaml.UnmarshalStrict(data, &raw); err != nil {
		return nil, fmt.Errorf("exclusions: %w", err)
	}
	known := map[Mode]bool{}
	for _, m := range Modes() {
		known[m] = true
	}
	out := map[string]string{}
	var errs []error
	for _, p := range slices.Sorted(maps.Keys(raw)) {
		var reason string
		if err := json.Unmarshal(raw[p], &reason); err == nil {
			if strings.TrimSpace(reason) == "" {
				errs = append(errs, fmt.Errorf("exclusions: %s has no reason", p))
				continue
			}
			out[p] = reason
			continue
		}
		byMode := map[Mode]string{}
		if err := json.Unmarshal(raw[p], &byMode); err != nil {
			errs = append(errs, fmt.Errorf("exclusions: %s: want a reason or a map from mode to reason", p))
			continue
		}
		for m, r := range byMode {
			switch {
			case !known[m]:
				errs = append(errs, fmt.Errorf("exclusions: %s: unknown mode %q (want one of %v)", p, m, Modes()))
			case strings.TrimSpace(r) == "":
				errs = append(errs, fmt.Errorf("exclusions: %s has no reason for mode %s", p, m))
			case m == mode:
				out[p] = r
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Outcome is how one file ended.
type Outcome string

// Outcomes.
const (
	Pass Outcome = "PASS"
	Fail Outcome = "FAIL"
	Skip Outcome = "SKIP"
)

// Result is one file's outcome.
type Result struct {
	// Path is the file's path (the directory given, joined with Rel).
	Path string
	// Rel is the path relative to the directory, with forward slashes.
	Rel      string
	Outcome  Outcome
	Reason   string
	Message  string
	Duration time.Duration
}

// Line is the result as one line of output.
func (r Result) Line() string {
	switch r.Outcome {
	case Pass:
		return fmt.Sprintf("PASS %s (%.1fs)", r.Path, r.Duration.Seconds())
	case Skip:
		return fmt.Sprintf("SKIP %s: excluded: %s", r.Path, r.Reason)
	}
	line := fmt.Sprintf("FAIL %s: %s", r.Path, r.Reason)
	if r.Message != "" {
		line += " " + r.Message
	}
	return line
}

// Summary counts outcomes.
type Summary struct {
	Passed, Failed, Skipped int
}

// Summarize counts the outcomes of results.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		switch r.Outcome {
		case Pass:
			s.Passed++
		case Fail:
			s.Failed++
		case Skip:
			s.Skipped++
		}
	}
	return s
}

// String is the closing line: "N passed, N failed" and ", N skipped" when
// any were.
func (s Summary) String() string {
	line := fmt.Sprintf("%d passed, %d failed", s.Passed, s.Failed)
	if s.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", s.Skipped)
	}
	return line
}

// Options configure a conformance run.
type Options struct {
	// Exclusions maps paths relative to the directory to reasons.
	Exclusions map[string]string
	// Parallel is how many files run at once (default 2).
	Parallel int
	// FileTimeout bounds one file (default 10 minutes): its runs are
	// cancelled when it passes.
	FileTimeout time.Duration
	// Root is where run directories go (default a new temporary directory,
	// removed afterwards).
	Root string
	// Out, when set, gets one line per file, in file order, as soon as it
	// and every file before it are done.
	Out io.Writer
	// Mode is where the files run (default Local).
	Mode Mode
	// Cluster runs the files of the Pod and Controller modes (see package
	// conformance/cluster).
	Cluster Cluster
	// Images, when set, maps every image reference in a file (every
	// "image" field, at any depth) before the file is loaded: for a
	// cluster that serves stand-ins for public images under other names.
	Images func(string) string
}

// Files lists the example files under dir: *.yaml, *.yml and *.json,
// recursively, skipping hidden directories, in lexical order.
func Files(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	return files, nil
}

// Run runs every example file under dir and returns one result per file,
// in file order. It returns an error only when it cannot run the files at
// all.
func Run(ctx context.Context, dir string, opts Options) ([]Result, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 2
	}
	if opts.FileTimeout <= 0 {
		opts.FileTimeout = 10 * time.Minute
	}
	if opts.Mode == "" {
		opts.Mode = Local
	}
	switch opts.Mode {
	case Local:
	case Pod, Controller:
		if opts.Cluster == nil {
			return nil, fmt.Errorf("conformance: the %s mode needs a cluster", opts.Mode)
		}
	default:
		return nil, fmt.Errorf("conformance: unknown mode %q (want one of %v)", opts.Mode, Modes())
	}
	root := opts.Root
	if root == "" {
		tmp, err := os.MkdirTemp("", "colo-conformance-")
		if err != nil {
			return nil, fmt.Errorf("conformance: %w", err)
		}
		defer os.RemoveAll(tmp)
		root = tmp
	}

	results := make([]Result, len(files))
	done := make([]chan struct{}, len(files))
	for i := range done {
		done[i] = make(chan struct{})
	}
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	for i, path := range files {
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			rel = path
		}
		rel = filepath.ToSlash(rel)
		if reason, ok := opts.Exclusions[rel]; ok {
			results[i] = Result{Path: path, Rel: rel, Outcome: Skip, Reason: strings.TrimSpace(reason)}
			close(done[i])
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] = Result{Path: path, Rel: rel, Outcome: Fail, Reason: "interrupted"}
				return
			}
			defer func() { <-sem }()
			fctx, cancel := context.WithTimeout(ctx, opts.FileTimeout)
			defer cancel()
			start := time.Now()
			r := runFile(fctx, path, filepath.Join(root, strconv.Itoa(i)), opts)
			r.Path, r.Rel, r.Duration = path, rel, time.Since(start)
			if r.Outcome == Fail && fctx.Err() != nil && ctx.Err() == nil {
				r.Message += fmt.Sprintf(" (the file took longer than %s)", opts.FileTimeout)
			}
			results[i] = r
		}()
	}
	for i := range files {
		<-done[i]
		if opts.Out != nil {
			fmt.Fprintln(opts.Out, results[i].Line())
		}
	}
	wg.Wait()
	return results, nil
}

// Cluster runs files on a Kubernetes cluster, for the Pod and Controller
// modes. Every file runs in a namespace of its own, deleted when the file
// is done.
type Cluster interface {
	// RunPods runs each of a file's runs (all of set's, in file order) in
	// one Pod, one after another, keeping their run directories under
	// store, and returns the runs that did not succeed.
	RunPods(ctx context.Context, set *load.Set, runs []FileRun, store runstore.Root) []Failure
	// RunObjects creates a file's objects, with every run's
	// spec.managedBy naming colo's controller, waits for each run to end
	// and returns the runs that did not succeed.
	RunObjects(ctx context.Context, set *load.Set, objs []*unstructured.Unstructured) []Failure
}

// FileRun is one run of a file: PipelineRun or TaskRun is set.
type FileRun struct {
	Origin      load.Origin
	PipelineRun *v1.PipelineRun
	TaskRun     *v1.TaskRun
}

// Name names the run as a failure does: PipelineRun "name".
func (r FileRun) Name() string { return runName(r.PipelineRun, r.TaskRun) }

// Failure is one run that did not succeed, with its condition's reason and
// message ("error" when it could not run). Run is empty when the file as a
// whole failed.
type Failure struct{ Run, Reason, Message string }

// Failed returns the failure of a run that ended with st, or nil when it
// succeeded.
func Failed(name string, st engine.Status) *Failure {
	if reason, message, ok := succeeded(st); !ok {
		return &Failure{name, reason, message}
	}
	return nil
}

// runFile runs every run in one file, in the order they were read, each in
// its own run directory under root.
func runFile(ctx context.Context, path, root string, opts Options) Result {
	data, err := os.ReadFile(path)
	if err != nil {
		return invalidResult("load", err)
	}
	// The file as written first: its errors name its own lines.
	set, err := load.Bytes(path, data)
	if err != nil {
		return invalidResult("load", err)
	}
	var objs []*unstructured.Unstructured
	if opts.Images != nil || opts.Mode == Controller {
		if objs, err = decodeObjects(data); err != nil {
			return invalidResult("load", err)
		}
	}
	if opts.Images != nil {
		for _, u := range objs {
			mapTektonImages(u, opts.Images)
		}
		if data, err = encodeObjects(objs); err != nil {
			return invalidResult("load", err)
		}
		if set, err = load.Bytes(path, data); err != nil {
			return invalidResult("load", err)
		}
	}
	if err := validate.Run(set).Err(); err != nil {
		return invalidResult("invalid", err)
	}
	var runs []FileRun
	for _, pr := range set.PipelineRuns {
		o, _ := set.Origin(v1.KindPipelineRun, pr.Name)
		runs = append(runs, FileRun{Origin: o, PipelineRun: pr})
	}
	for _, tr := range set.TaskRuns {
		o, _ := set.Origin(v1.KindTaskRun, tr.Name)
		runs = append(runs, FileRun{Origin: o, TaskRun: tr})
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Origin.Doc < runs[j].Origin.Doc })
	if len(runs) == 0 {
		return Result{Outcome: Fail, Reason: "invalid", Message: "no PipelineRun or TaskRun in the file"}
	}

	// Build every engine before running anything, as colo run does.
	engines := make([]*engine.Engine, len(runs))
	for i, r := range runs {
		var eng *engine.Engine
		var err error
		if r.PipelineRun != nil {
			eng, err = engine.NewPipelineRun(r.PipelineRun, set, engine.Options{})
		} else {
			eng, err = engine.NewTaskRun(r.TaskRun, set, engine.Options{})
		}
		if err != nil {
			reason := "invalid"
			var ire *engine.InvalidRunError
			if errors.As(err, &ire) {
				reason = ire.Reason
			}
			return invalidResult(reason, fmt.Errorf("%s: %w", r.Name(), err))
		}
		engines[i] = eng
	}

	store := runstore.Root{Runs: filepath.Join(root, "runs"), Claims: filepath.Join(root, "claims")}
	var failures []Failure
	switch opts.Mode {
	case Pod:
		failures = opts.Cluster.RunPods(ctx, set, runs, store)
	case Controller:
		failures = opts.Cluster.RunObjects(ctx, set, objs)
	default:
		for i, r := range runs {
			doc := runstore.Document{PipelineRun: r.PipelineRun, TaskRun: r.TaskRun}
			st, err := runOne(ctx, store, set, doc, engines[i])
			if err != nil {
				failures = append(failures, Failure{r.Name(), "error", err.Error()})
				continue
			}
			if f := Failed(r.Name(), st); f != nil {
				failures = append(failures, *f)
			}
		}
	}
	if len(failures) == 0 {
		return Result{Outcome: Pass}
	}
	f := failures[0]
	msg := f.Message
	if len(runs) > 1 && f.Run != "" {
		msg = f.Run + ": " + msg
	}
	if len(failures) > 1 {
		msg += fmt.Sprintf(" (and %d more runs failed)", len(failures)-1)
	}
	return Result{Outcome: Fail, Reason: f.Reason, Message: msg}
}

// runOne runs one run to its end in its own run directory.
func runOne(ctx context.Context, store runstore.Root, set *load.Set, doc runstore.Document, eng *engine.Engine) (engine.Status, error) {
	run, err := store.Create(doc)
	if err != nil {
		return engine.Status{}, err
	}
	defer run.Close()
	ns := doc.Meta().Namespace
	if ns == "" {
		ns = load.DefaultNamespace
	}
	return local.Run(ctx, eng, local.Options{
		Objects:   set,
		Store:     run,
		Namespace: ns,
	})
}

// succeeded tells whether st is Succeeded=True; when not, it returns the
// run's reason, and its message followed by the first failed TaskRun's.
func succeeded(st engine.Status) (reason, message string, ok bool) {
	var c *v1.Condition
	switch {
	case st.PipelineRun != nil:
		c = st.PipelineRun.GetCondition()
	case st.TaskRun != nil:
		c = st.TaskRun.GetCondition()
	}
	if c == nil {
		return "NoCondition", "the run ended without a Succeeded condition", false
	}
	if c.Status == corev1.ConditionTrue {
		return c.Reason, c.Message, true
	}
	message = c.Message
	if st.PipelineRun != nil {
		for _, tr := range st.TaskRuns {
			if tc := tr.Status.GetCondition(); tc != nil && tc.Status == corev1.ConditionFalse {
				message += fmt.Sprintf("; task %q: %s: %s", tr.PipelineTask, tc.Reason, tc.Message)
				break
			}
		}
	}
	return c.Reason, message, false
}

func runName(pr *v1.PipelineRun, tr *v1.TaskRun) string {
	if pr != nil {
		return fmt.Sprintf("PipelineRun %q", pr.Name)
	}
	return fmt.Sprintf("TaskRun %q", tr.Name)
}

// invalidResult is the result of a file that could not start: the first
// problem, and how many more there were.
func invalidResult(reason string, err error) Result {
	errs := leaves(err)
	msg := errs[0].Error()
	if len(errs) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(errs)-1)
	}
	return Result{Outcome: Fail, Reason: reason, Message: msg}
}

// leaves lists the individual errors of an error that wraps several.
func leaves(err error) []error {
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range multi.Unwrap() {
			out = append(out, leaves(e)...)
		}
		if len(out) > 0 {
			return out
		}
	}
	return []error{err}
}
