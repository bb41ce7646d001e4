package controller

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/colo-ci/colo/internal/load"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

// clusterResolver is the one resolver the controller answers itself: it
// names an object by its kind, name and namespace params.
const clusterResolver v1.ResolverName = "cluster"

// RemoteResolverError says a reference needs a resolver that fetches from
// outside the cluster (git, hub, bundles, http, ...), which colo's
// controller does not run.
type RemoteResolverError struct {
	Kind     string
	Resolver v1.ResolverName
}

func (e *RemoteResolverError) Error() string {
	return fmt.Sprintf("resolver %q is not supported: colo resolves a %s by name in the run's namespace or through the %q resolver",
		e.Resolver, e.Kind, clusterResolver)
}

// refNotFoundError says a referenced object does not exist.
type refNotFoundError struct {
	resource string // tasks.tekton.dev
	key      types.NamespacedName
}

func (e *refNotFoundError) Error() string {
	return fmt.Sprintf("%s %q not found in namespace %q", e.resource, e.key.Name, e.key.Namespace)
}

// refKind describes one kind a reference can name.
type refKind struct {
	kind, resource, resolverKind string
	gvk                          schema.GroupVersionKind
}

var (
	taskKind       = refKind{v1.KindTask, "tasks.tekton.dev", "task", v1.GroupVersion().WithKind(v1.KindTask)}
	pipelineKind   = refKind{v1.KindPipeline, "pipelines.tekton.dev", "pipeline", v1.GroupVersion().WithKind(v1.KindPipeline)}
	stepActionKind = refKind{v1.KindStepAction, "stepactions.tekton.dev", "stepaction", v1beta1.GroupVersion().WithKind(v1.KindStepAction)}
)

// decodeError says an object the API server holds is not one colo can
// read (an unknown field, a value of the wrong type).
type decodeError struct{ err error }

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// getDecoded reads the object at key through c as the API server stores it
// and decodes it into obj as colo run decodes files (package load): so a
// field spelled with other capitals (mountpath for mountPath), which
// upstream's decoding accepts, is read here too. A decoding problem is a
// *decodeError.
func getDecoded(ctx context.Context, c client.Reader, key types.NamespacedName, obj client.Object, gvk schema.GroupVersionKind) error {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := c.Get(ctx, key, u); err != nil {
		return err
	}
	// Through JSON, as a file is read: numbers as json.Number.
	data, err := u.MarshalJSON()
	if err != nil {
		return &decodeError{err}
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return &decodeError{err}
	}
	if _, err := load.Decode(doc, obj); err != nil {
		return &decodeError{err}
	}
	return nil
}

// refs holds the objects a run refers to, read from the API server. It is a
// validate.Resolver: it answers references as written, so that validation
// reports a missing object or an unsupported resolver at the field that
// names it.
type refs struct {
	// ns is the run's namespace: where references by name point.
	ns          string
	tasks       map[types.NamespacedName]*v1.Task
	pipelines   map[types.NamespacedName]*v1.Pipeline
	stepActions map[types.NamespacedName]*v1beta1.StepAction
	// missing records the references that could not be read, and why.
	missing map[refKey]error
}

type refKey struct {
	kind string
	key  types.NamespacedName
}

func newRefs(ns string) *refs {
	return &refs{
		ns:          ns,
		tasks:       map[types.NamespacedName]*v1.Task{},
		pipelines:   map[types.NamespacedName]*v1.Pipeline{},
		stepActions: map[types.NamespacedName]*v1beta1.StepAction{},
		missing:     map[refKey]error{},
	}
}

// target returns the object a reference names.
func (r *refs) target(k refKind, name string, rr v1.ResolverRef) (types.NamespacedName, error) {
	switch rr.Resolver {
	case "":
		if name == "" {
			return types.NamespacedName{}, fmt.Errorf("the reference has neither a name nor a resolver")
		}
		return types.NamespacedName{Namespace: r.ns, Name: name}, nil
	case clusterResolver:
		p := func(key string) string {
			if v, ok := rr.Params.Lookup(key); ok {
				return v.Value.StringVal
			}
			return ""
		}
		if kind := p("kind"); kind != "" && !strings.EqualFold(kind, k.resolverKind) {
			return types.NamespacedName{}, fmt.Errorf("cluster resolver kind %q: want %q here", kind, k.resolverKind)
		}
		n := p("name")
		if n == "" {
			return types.NamespacedName{}, fmt.Errorf("the cluster resolver needs a %q param", "name")
		}
		ns := p("namespace")
		if ns == "" {
			ns = r.ns
		}
		return types.NamespacedName{Namespace: ns, Name: n}, nil
	}
	return types.NamespacedName{}, &RemoteResolverError{Kind: k.kind, Resolver: rr.Resolver}
}

// fetch reads, through c, every object run refers to, and every object
// those refer to. An object that does not exist (or may not be read) is
// recorded as missing; any other error is returned, to try again.
func (r *refs) fetch(ctx context.Context, c client.Reader, run client.Object) error {
	f := &fetcher{r: r, c: c, ctx: ctx, seen: map[refKey]bool{}}
	switch o := run.(type) {
	case *v1.PipelineRun:
		if o.Spec.PipelineRef != nil {
			f.pipeline(o.Spec.PipelineRef)
		}
		if o.Spec.PipelineSpec != nil {
			walkPipelineSpec(o.Spec.PipelineSpec, f.visitor())
		}
	case *v1.TaskRun:
		if o.Spec.TaskRef != nil {
			f.task(o.Spec.TaskRef)
		}
		if o.Spec.TaskSpec != nil {
			walkTaskSpec(o.Spec.TaskSpec, f.visitor())
		}
	}
	return f.err
}

type fetcher struct {
	r    *refs
	c    client.Reader
	ctx  context.Context
	seen map[refKey]bool
	err  error
}

func (f *fetcher) visitor() refVisitor {
	return refVisitor{task: f.task, pipeline: f.pipeline, step: f.step}
}

// get reads one object into obj; it reports whether obj was read.
func (f *fetcher) get(k refKind, key types.NamespacedName, obj client.Object) bool {
	rk := refKey{k.kind, key}
	if f.err != nil || f.seen[rk] {
		return false
	}
	f.seen[rk] = true
	err := getDecoded(f.ctx, f.c, key, obj, k.gvk)
	var de *decodeError
	switch {
	case err == nil:
		return true
	case errors.As(err, &de):
		f.r.missing[rk] = fmt.Errorf("%s %q in namespace %q: %w", k.resource, key.Name, key.Namespace, de.err)
	case apierrors.IsNotFound(err):
		f.r.missing[rk] = &refNotFoundError{resource: k.resource, key: key}
	case apierrors.IsForbidden(err):
		f.r.missing[rk] = fmt.Errorf("reading %s %q in namespace %q: %w", k.resource, key.Name, key.Namespace, err)
	default:
		f.err = fmt.Errorf("reading %s %q in namespace %q: %w", k.resource, key.Name, key.Namespace, err)
	}
	return false
}

func (f *fetcher) task(ref *v1.TaskRef) {
	// A kind without an apiVersion is a Task however it is spelled
	// ("task"), as upstream reads it; custom tasks and ClusterTasks are
	// not fetched: validation says why they cannot run.
	if ref.APIVersion != "" || strings.EqualFold(string(ref.Kind), "ClusterTask") {
		return
	}
	key, err := f.r.target(taskKind, ref.Name, ref.ResolverRef)
	if err != nil {
		return
	}
	t := &v1.Task{}
	if f.get(taskKind, key, t) {
		f.r.tasks[key] = t
		walkTaskSpec(&t.Spec, f.visitor())
	}
}

func (f *fetcher) pipeline(ref *v1.PipelineRef) {
	key, err := f.r.target(pipelineKind, ref.Name, ref.ResolverRef)
	if err != nil {
		return
	}
	p := &v1.Pipeline{}
	if f.get(pipelineKind, key, p) {
		f.r.pipelines[key] = p
		walkPipelineSpec(&p.Spec, f.visitor())
	}
}

func (f *fetcher) step(ref *v1.Ref) {
	key, err := f.r.target(stepActionKind, ref.Name, ref.ResolverRef)
	if err != nil {
		return
	}
	sa := &v1beta1.StepAction{}
	if f.get(stepActionKind, key, sa) {
		f.r.stepActions[key] = sa
	}
}

// lookup finds the object a reference names among those read.
func lookup[T any](r *refs, k refKind, m map[types.NamespacedName]*T, name string, rr v1.ResolverRef) (*T, error) {
	key, err := r.target(k, name, rr)
	if err != nil {
		return nil, err
	}
	if obj, ok := m[key]; ok {
		return obj, nil
	}
	if err, ok := r.missing[refKey{k.kind, key}]; ok {
		return nil, err
	}
	return nil, &refNotFoundError{resource: k.resource, key: key}
}

// ResolveTask implements validate.Resolver.
func (r *refs) ResolveTask(ref *v1.TaskRef) (*v1.Task, error) {
	return lookup(r, taskKind, r.tasks, ref.Name, ref.ResolverRef)
}

// ResolvePipeline implements validate.Resolver.
func (r *refs) ResolvePipeline(ref *v1.PipelineRef) (*v1.Pipeline, error) {
	return lookup(r, pipelineKind, r.pipelines, ref.Name, ref.ResolverRef)
}

// ResolveStepAction implements validate.Resolver.
func (r *refs) ResolveStepAction(ref *v1.Ref) (*v1beta1.StepAction, error) {
	return lookup(r, stepActionKind, r.stepActions, ref.Name, ref.ResolverRef)
}

// inline returns a copy of run whose references all name objects by name,
// and a load.Set holding those objects under those names (their own
// references rewritten the same way): the form the engine and the Pod
// compiler take. It fails if two objects of one kind from different
// namespaces share a name, which one set cannot hold; call it only on a run
// that validated against r.
func (r *refs) inline(run client.Object) (client.Object, *load.Set, error) {
	set := load.NewSet()
	from := map[refKey]string{} // kind+name in the set → namespace it came from
	var errs []string
	claim := func(k refKind, key types.NamespacedName) bool {
		rk := refKey{k.kind, types.NamespacedName{Name: key.Name}}
		if ns, ok := from[rk]; ok {
			if ns != key.Namespace {
				errs = append(errs, fmt.Sprintf("the %s %q of namespace %q and that of namespace %q are both used; a run can use only one %s of a name",
					k.kind, key.Name, ns, key.Namespace, k.kind))
			}
			return false
		}
		from[rk] = key.Namespace
		return true
	}
	rewrite := refVisitor{
		task: func(ref *v1.TaskRef) {
			if key, err := r.target(taskKind, ref.Name, ref.ResolverRef); err == nil {
				*ref = v1.TaskRef{Name: key.Name, Kind: ref.Kind, APIVersion: ref.APIVersion}
			}
		},
		pipeline: func(ref *v1.PipelineRef) {
			if key, err := r.target(pipelineKind, ref.Name, ref.ResolverRef); err == nil {
				*ref = v1.PipelineRef{Name: key.Name, APIVersion: ref.APIVersion}
			}
		},
		step: func(ref *v1.Ref) {
			if key, err := r.target(stepActionKind, ref.Name, ref.ResolverRef); err == nil {
				*ref = v1.Ref{Name: key.Name}
			}
		},
	}
	for _, key := range sortedKeys(r.tasks) {
		if claim(taskKind, key) {
			t := r.tasks[key].DeepCopy()
			walkTaskSpec(&t.Spec, rewrite)
			set.Tasks[key.Name] = t
		}
	}
	for _, key := range sortedKeys(r.pipelines) {
		if claim(pipelineKind, key) {
			p := r.pipelines[key].DeepCopy()
			walkPipelineSpec(&p.Spec, rewrite)
			set.Pipelines[key.Name] = p
		}
	}
	for _, key := range sortedKeys(r.stepActions) {
		if claim(stepActionKind, key) {
			set.StepActions[key.Name] = r.stepActions[key].DeepCopy()
		}
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	switch o := run.(type) {
	case *v1.PipelineRun:
		o = o.DeepCopy()
		if o.Spec.PipelineRef != nil {
			rewrite.pipeline(o.Spec.PipelineRef)
		}
		if o.Spec.PipelineSpec != nil {
			walkPipelineSpec(o.Spec.PipelineSpec, rewrite)
		}
		set.PipelineRuns = append(set.PipelineRuns, o)
		return o, set, nil
	case *v1.TaskRun:
		o = o.DeepCopy()
		if o.Spec.TaskRef != nil {
			rewrite.task(o.Spec.TaskRef)
		}
		if o.Spec.TaskSpec != nil {
			walkTaskSpec(o.Spec.TaskSpec, rewrite)
		}
		set.TaskRuns = append(set.TaskRuns, o)
		return o, set, nil
	}
	return nil, nil, fmt.Errorf("cannot run a %T", run)
}

// refVisitor is called with every reference in a spec, to read or rewrite it.
type refVisitor struct {
	task     func(*v1.TaskRef)
	pipeline func(*v1.PipelineRef)
	step     func(*v1.Ref)
}

// walkPipelineSpec visits the references of a pipeline's tasks and finally
// tasks, and of the task and pipeline specs they embed.
func walkPipelineSpec(ps *v1.PipelineSpec, v refVisitor) {
	for _, list := range [][]v1.PipelineTask{ps.Tasks, ps.Finally} {
		for i := range list {
			pt := &list[i]
			if pt.TaskRef != nil {
				v.task(pt.TaskRef)
			}
			if pt.TaskSpec != nil {
				walkTaskSpec(&pt.TaskSpec.TaskSpec, v)
			}
			if pt.PipelineRef != nil {
				v.pipeline(pt.PipelineRef)
			}
			if pt.PipelineSpec != nil {
				walkPipelineSpec(pt.PipelineSpec, v)
			}
		}
	}
}

// walkTaskSpec visits the StepAction references of a task's steps.
func walkTaskSpec(ts *v1.TaskSpec, v refVisitor) {
	for i := range ts.Steps {
		if ts.Steps[i].Ref != nil {
			v.step(ts.Steps[i].Ref)
		}
	}
}

func sortedKeys[T any](m map[types.NamespacedName]T) []types.NamespacedName {
	keys := make([]types.NamespacedName, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b types.NamespacedName) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return keys
}
