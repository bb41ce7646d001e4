package load

import (
	"sort"

	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

// Origin says where an object was read from.
type Origin struct {
	File string
	// Doc is the document's 1-based position in File.
	Doc int
}

func (o Origin) String() string { return fmt.Sprintf("%s (document %d)", o.File, o.Doc) }

type objKey struct{ kind, name string }

// DuplicateError says a name is used twice for one kind.
type DuplicateError struct {
	Kind, Name string
	// First is where the name was first read.
	First Origin
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("the name is already used by the %s in %s", e.Kind, e.First)
}

// Set is everything read from some files. Names are unique per kind; maps
// are keyed by metadata.name. Every object has a namespace (DefaultNamespace
// when it named none).
type Set struct {
	Tasks       map[string]*v1.Task
	Pipelines   map[string]*v1.Pipeline
	StepActions map[string]*v1beta1.StepAction
	// PipelineRuns and TaskRuns are in the order they were read.
	PipelineRuns []*v1.PipelineRun
	TaskRuns     []*v1.TaskRun

	Secrets         map[string]*corev1.Secret
	ConfigMaps      map[string]*corev1.ConfigMap
	PVCs            map[string]*corev1.PersistentVolumeClaim
	ServiceAccounts map[string]*corev1.ServiceAccount

	// Other holds objects of any other kind, as read. colo ignores them.
	Other []*unstructured.Unstructured

	// Warnings are problems that did not stop an object from loading, such
	// as a field name written in the wrong case.
	Warnings []string

	origins map[objKey]Origin
}

// NewSet returns an empty Set.
func NewSet() *Set {
	return &Set{
		Tasks:           map[string]*v1.Task{},
		Pipelines:       map[string]*v1.Pipeline{},
		StepActions:     map[string]*v1beta1.StepAction{},
		Secrets:         map[string]*corev1.Secret{},
		ConfigMaps:      map[string]*corev1.ConfigMap{},
		PVCs:            map[string]*corev1.PersistentVolumeClaim{},
		ServiceAccounts: map[string]*corev1.ServiceAccount{},
		origins:         map[objKey]Origin{},
	}
}

// Origin returns where the object of kind (Task, PipelineRun, Secret, ...)
// named name was read from.
func (s *Set) Origin(kind, name string) (Origin, bool) {
	o, ok := s.origins[objKey{kind, name}]
	return o, ok
}

// Task returns the Task named name.
func (s *Set) Task(name string) (*v1.Task, bool) {
	t, ok := s.Tasks[name]
	return t, ok
}

// Pipeline returns the Pipeline named name.
func (s *Set) Pipeline(name string) (*v1.Pipeline, bool) {
	p, ok := s.Pipelines[name]
	return p, ok
}

// StepAction returns the StepAction named name.
func (s *Set) StepAction(name string) (*v1beta1.StepAction, bool) {
	a, ok := s.StepActions[name]
	return a, ok
}

// add puts a typed object into the set.
func (s *Set) add(kind string, obj any, origin Origin) error {
	name := objectMeta(obj).Name
	key := objKey{kind, name}
	if prev, ok := s.origins[key]; ok {
		return &DuplicateError{Kind: kind, Name: name, First: prev}
	}
	switch o := obj.(type) {
	case *v1.Task:
		s.Tasks[name] = o
	case *v1.Pipeline:
		s.Pipelines[name] = o
	case *v1beta1.StepAction:
		s.StepActions[name] = o
	case *v1.PipelineRun:
		s.PipelineRuns = append(s.PipelineRuns, o)
	case *v1.TaskRun:
		s.TaskRuns = append(s.TaskRuns, o)
	case *corev1.Secret:
		s.Secrets[name] = o
	case *corev1.ConfigMap:
		s.ConfigMaps[name] = o
	case *corev1.PersistentVolumeClaim:
		s.PVCs[name] = o
	case *corev1.ServiceAccount:
		s.ServiceAccounts[name] = o
	default:
		return fmt.Errorf("cannot hold %T", obj)
	}
	s.origins[key] = origin
	return nil
}

// Merge adds every object of other to s. A name other defines for a kind s
// already has is an error (naming both places); the other objects are still
// added. other must not be used afterwards.
func (s *Set) Merge(other *Set) error {
	var errs Errors
	addAll := func(kind string, objs []any) {
		for _, o := range objs {
			name := objectMeta(o).Name
			origin := other.origins[objKey{kind, name}]
			if err := s.add(kind, o, origin); err != nil {
				errs = append(errs, &Error{File: origin.File, Doc: origin.Doc, Kind: kind, Name: name, Err: err})
			}
		}
	}
	addAll(v1.KindTask, sorted(other.Tasks))
	addAll(v1.KindPipeline, sorted(other.Pipelines))
	addAll(v1.KindStepAction, sorted(other.StepActions))
	addAll(v1.KindPipelineRun, anys(other.PipelineRuns))
	addAll(v1.KindTaskRun, anys(other.TaskRuns))
	addAll("Secret", sorted(other.Secrets))
	addAll("ConfigMap", sorted(other.ConfigMaps))
	addAll("PersistentVolumeClaim", sorted(other.PVCs))
	addAll("ServiceAccount", sorted(other.ServiceAccounts))
	s.Other = append(s.Other, other.Other...)
	s.Warnings = append(s.Warnings, other.Warnings...)
	return errs.err()
}

func anys[T any](in []T) []any {
	out := make([]any, len(in))
	for i, v := range in {
		out[i] = v
	}
	return out
}

func sorted[T any](m map[string]T) []any {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]any, len(names))
	for i, n := range names {
		out[i] = m[n]
	}
	return out
}
