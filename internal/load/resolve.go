package load

import (
	"fmt"
	"strings"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

// ClusterResolver is the one resolver colo answers itself, from the Set: it
// names an object by kind, name and namespace params.
const ClusterResolver v1.ResolverName = "cluster"

// ResolverError says a reference needs a remote resolver (git, http, hub,
// bundles, ...), which would fetch over the network.
type ResolverError struct {
	Resolver v1.ResolverName
}

func (e *ResolverError) Error() string {
	return fmt.Sprintf("resolver %q needs network access, which colo run does not use", e.Resolver)
}

// NotFoundError says a reference names an object that was not read.
type NotFoundError struct {
	Kind, Name string
	// Namespace is set when the reference asked for a namespace.
	Namespace string
}

func (e *NotFoundError) Error() string {
	if e.Namespace != "" {
		return fmt.Sprintf("%s %q in namespace %q not found", e.Kind, e.Name, e.Namespace)
	}
	return fmt.Sprintf("%s %q not found", e.Kind, e.Name)
}

// ResolveTask returns the Task ref names, by name or through the cluster
// resolver. Any other resolver is a *ResolverError; a missing Task is a
// *NotFoundError.
func (s *Set) ResolveTask(ref *v1.TaskRef) (*v1.Task, error) {
	name, ns, err := refTarget(ref.Name, ref.ResolverRef, "task")
	if err != nil {
		return nil, err
	}
	t, ok := s.Tasks[name]
	if !ok || (ns != "" && t.Namespace != ns) {
		return nil, &NotFoundError{Kind: v1.KindTask, Name: name, Namespace: ns}
	}
	return t, nil
}

// ResolvePipeline returns the Pipeline ref names, as ResolveTask does.
func (s *Set) ResolvePipeline(ref *v1.PipelineRef) (*v1.Pipeline, error) {
	name, ns, err := refTarget(ref.Name, ref.ResolverRef, "pipeline")
	if err != nil {
		return nil, err
	}
	p, ok := s.Pipelines[name]
	if !ok || (ns != "" && p.Namespace != ns) {
		return nil, &NotFoundError{Kind: v1.KindPipeline, Name: name, Namespace: ns}
	}
	return p, nil
}

// ResolveStepAction returns the StepAction a step's ref names, as
// ResolveTask does.
func (s *Set) ResolveStepAction(ref *v1.Ref) (*v1beta1.StepAction, error) {
	name, ns, err := refTarget(ref.Name, ref.ResolverRef, "stepaction")
	if err != nil {
		return nil, err
	}
	a, ok := s.StepActions[name]
	if !ok || (ns != "" && a.Namespace != ns) {
		return nil, &NotFoundError{Kind: v1.KindStepAction, Name: name, Namespace: ns}
	}
	return a, nil
}

// refTarget returns the name (and namespace, if the cluster resolver asks
// for one) a reference points at.
func refTarget(name string, rr v1.ResolverRef, kind string) (string, string, error) {
	switch rr.Resolver {
	case "":
		if name == "" {
			return "", "", fmt.Errorf("the reference has neither a name nor a resolver")
		}
		return name, "", nil
	case ClusterResolver:
		p := func(key string) string {
			v, ok := rr.Params.Lookup(key)
			if !ok {
				return ""
			}
			return v.Value.StringVal
		}
		if k := p("kind"); k != "" && !strings.EqualFold(k, kind) {
			return "", "", fmt.Errorf("cluster resolver kind %q: want %q here", k, kind)
		}
		n := p("name")
		if n == "" {
			return "", "", fmt.Errorf("cluster resolver needs a %q param", "name")
		}
		return n, p("namespace"), nil
	default:
		return "", "", &ResolverError{Resolver: rr.Resolver}
	}
}
