package validate

import (
	"errors"
	"sort"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/colo-ci/colo/internal/load"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

// Resolver finds the objects references name. *load.Set is one.
type Resolver interface {
	ResolveTask(ref *v1.TaskRef) (*v1.Task, error)
	ResolvePipeline(ref *v1.PipelineRef) (*v1.Pipeline, error)
	ResolveStepAction(ref *v1.Ref) (*v1beta1.StepAction, error)
}

// Run validates every object of set: Tasks, Pipelines and StepActions
// (each once, whether or not a run uses it), then each PipelineRun and
// TaskRun together with the objects it refers to. Problems are listed in
// the order their objects were read.
func Run(set *load.Set) List {
	v := newValidator(set)
	v.origin = func(kind, name string) (load.Origin, bool) { return set.Origin(kind, name) }
	for _, name := range sortedKeys(set.Tasks) {
		v.task(set.Tasks[name])
	}
	for _, name := range sortedKeys(set.Pipelines) {
		v.pipeline(set.Pipelines[name])
	}
	for _, name := range sortedKeys(set.StepActions) {
		v.stepAction(set.StepActions[name])
	}
	for _, pr := range set.PipelineRuns {
		v.pipelineRun(pr)
	}
	for _, tr := range set.TaskRuns {
		v.taskRun(tr)
	}
	v.sort()
	return v.errs
}

// Task validates a Task and the StepActions its steps use. res may be nil:
// references are then not followed.
func Task(t *v1.Task, res Resolver) List {
	v := newValidator(res)
	v.task(t)
	return v.errs
}

// Pipeline validates a Pipeline and the Tasks (and their StepActions) it
// refers to. res may be nil: references are then not followed.
func Pipeline(p *v1.Pipeline, res Resolver) List {
	v := newValidator(res)
	v.pipeline(p)
	return v.errs
}

// StepAction validates a StepAction.
func StepAction(sa *v1beta1.StepAction) List {
	v := newValidator(nil)
	v.stepAction(sa)
	return v.errs
}

// PipelineRun validates a PipelineRun against its Pipeline and that
// Pipeline's Tasks; problems with those objects themselves are rooted at
// them.
func PipelineRun(pr *v1.PipelineRun, res Resolver) List {
	v := newValidator(res)
	v.pipelineRun(pr)
	return v.errs
}

// TaskRun validates a TaskRun against its Task.
func TaskRun(tr *v1.TaskRun, res Resolver) List {
	v := newValidator(res)
	v.taskRun(tr)
	return v.errs
}

// validator collects problems, validating each named object once.
type validator struct {
	res    Resolver
	origin func(kind, name string) (load.Origin, bool)
	done   map[objKey]bool
	errs   List
}

type objKey struct{ kind, name string }

func newValidator(res Resolver) *validator {
	v := &validator{done: map[objKey]bool{}}
	// A nil *load.Set in an interface would not be nil; only keep a usable one.
	if res != nil {
		if s, ok := res.(*load.Set); !ok || s != nil {
			v.res = res
		}
	}
	return v
}

// first reports whether the object is seen for the first time, and marks it.
func (v *validator) first(kind, name string) bool {
	k := objKey{kind, name}
	if v.done[k] {
		return false
	}
	v.done[k] = true
	return true
}

// sort orders problems by where their objects were read, keeping the order
// within an object.
func (v *validator) sort() {
	if v.origin == nil {
		return
	}
	type pos struct {
		file string
		doc  int
	}
	at := func(e *Error) pos {
		o, _ := v.origin(e.Kind, e.Name)
		return pos{o.File, o.Doc}
	}
	sort.SliceStable(v.errs, func(i, j int) bool {
		a, b := at(v.errs[i]), at(v.errs[j])
		if a.file != b.file {
			return a.file < b.file
		}
		return a.doc < b.doc
	})
}

// sink adds problems rooted at one object.
type sink struct {
	v          *validator
	kind, name string
}

func (v *validator) sink(kind, name string) *sink {
	return &sink{v: v, kind: kind, name: name}
}

func (s *sink) add(fe *field.Error, reason string) {
	s.addCause(fe, reason, nil)
}

func (s *sink) addCause(fe *field.Error, reason string, cause error) {
	e := &Error{Kind: s.kind, Name: s.name, Field: fe, Reason: reason, Cause: cause}
	if s.v.origin != nil {
		if o, ok := s.v.origin(s.kind, s.name); ok {
			e.File = o.File
		}
	}
	s.v.errs = append(s.v.errs, e)
}

// resolveErr reports a failed resolution at p.
func (s *sink) resolveErr(p *field.Path, err error, reason string) {
	var nf *load.NotFoundError
	var re *load.ResolverError
	switch {
	case errors.As(err, &nf):
		fe := field.NotFound(p, nf.Name)
		fe.Detail = "no " + nf.Kind + " of that name was read"
		if nf.Namespace != "" {
			fe.Detail = "no " + nf.Kind + " of that name was read in namespace " + strconv.Quote(nf.Namespace)
		}
		s.addCause(fe, reason, err)
	case errors.As(err, &re):
		s.addCause(field.Forbidden(p, err.Error()), reason, err)
	default:
		s.addCause(field.Invalid(p, field.OmitValueType{}, err.Error()), reason, err)
	}
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
