package cli

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/runstore"
	"github.com/colo-ci/colo/internal/validate"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// runItem is one run, validated, with its engine built: ready to start.
type runItem struct {
	origin load.Origin
	pr     *v1.PipelineRun
	tr     *v1.TaskRun
	eng    *engine.Engine
}

func (r *runItem) kind() string {
	if r.pr != nil {
		return v1.KindPipelineRun
	}
	return v1.KindTaskRun
}

func (r *runItem) name() string {
	if r.pr != nil {
		return r.pr.Name
	}
	return r.tr.Name
}

func (r *runItem) namespace() string {
	ns := ""
	if r.pr != nil {
		ns = r.pr.Namespace
	} else {
		ns = r.tr.Namespace
	}
	if ns == "" {
		ns = load.DefaultNamespace
	}
	return ns
}

// document is the run's object for the run store.
func (r *runItem) document() runstore.Document {
	if r.pr != nil {
		pr := r.pr.DeepCopy()
		pr.APIVersion, pr.Kind = v1.APIVersion, v1.KindPipelineRun
		return runstore.Document{PipelineRun: pr}
	}
	tr := r.tr.DeepCopy()
	tr.APIVersion, tr.Kind = v1.APIVersion, v1.KindTaskRun
	return runstore.Document{TaskRun: tr}
}

// problems is every reason a set of runs cannot start, one per line.
type problems []error

func (ps problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

func (ps problems) Unwrap() []error { return ps }

// flatten lists the individual problems in err: the leaves of errors that
// wrap a list of errors (load.Errors, validation errors, joined errors).
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		if _, isLoad := err.(*load.Error); !isLoad {
			var out []error
			for _, e := range multi.Unwrap() {
				out = append(out, flatten(e)...)
			}
			if len(out) > 0 {
				return out
			}
		}
	}
	return []error{err}
}

// where names a run in messages: its file and kind and name.
func where(set *load.Set, kind, name string) string {
	if o, ok := set.Origin(kind, name); ok {
		return fmt.Sprintf("%s: %s %q", o.File, kind, name)
	}
	return fmt.Sprintf("%s %q", kind, name)
}

// validateSet checks every object of set, returning each problem.
func validateSet(set *load.Set) []error {
	return flatten(validate.Run(set).Err())
}

// newEngine defaults a run and builds its engine.
func newEngine(set *load.Set, pr *v1.PipelineRun, tr *v1.TaskRun, opts engine.Options) (*engine.Engine, error) {
	if pr != nil {
		return engine.NewPipelineRun(pr, set, opts)
	}
	return engine.NewTaskRun(tr, set, opts)
}

// prepare validates set and builds an engine for every run in it (or for
// only, when given), in the order the runs were read. It returns every
// problem it found; when there is any, nothing may be started.
func prepare(set *load.Set, only []runItem, opts engine.Options) ([]*runItem, error) {
	var errs []error
	errs = append(errs, validateSet(set)...)

	items := make([]*runItem, 0, len(only))
	if only != nil {
		for i := range only {
			items = append(items, &only[i])
		}
	} else {
		for _, pr := range set.PipelineRuns {
			o, _ := set.Origin(v1.KindPipelineRun, pr.Name)
			items = append(items, &runItem{origin: o, pr: pr})
		}
		for _, tr := range set.TaskRuns {
			o, _ := set.Origin(v1.KindTaskRun, tr.Name)
			items = append(items, &runItem{origin: o, tr: tr})
		}
		sort.SliceStable(items, func(i, j int) bool {
			a, b := items[i].origin, items[j].origin
			if a.File != b.File {
				return a.File < b.File
			}
			return a.Doc < b.Doc
		})
	}
	if len(errs) > 0 {
		// The engine would only repeat what validation found.
		return nil, problems(errs)
	}
	for _, it := range items {
		eng, err := newEngine(set, it.pr, it.tr, opts)
		if err != nil {
			w := where(set, it.kind(), it.name())
			var ire *engine.InvalidRunError
			if errors.As(err, &ire) {
				for _, e := range ire.Errs {
					errs = append(errs, fmt.Errorf("%s: %s: %w", w, ire.Reason, e))
				}
				continue
			}
			errs = append(errs, fmt.Errorf("%s: %w", w, err))
			continue
		}
		it.eng = eng
	}
	if len(errs) > 0 {
		return nil, problems(errs)
	}
	return items, nil
}
