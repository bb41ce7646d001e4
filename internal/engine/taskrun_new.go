package engine

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

// NewTaskRun returns an engine for a standalone TaskRun. It copies and
// defaults tr, resolves its taskRef and StepActions through refs, and
// checks what upstream checks before it creates a Pod; a problem is an
// *InvalidRunError.
func NewTaskRun(tr *v1.TaskRun, refs Refs, opts Options) (*Engine, error) {
	if tr == nil {
		return nil, invalid(ReasonTaskRunValidationFailed, "no TaskRun")
	}
	opts = opts.withDefaults()
	tr = tr.DeepCopy()
	if tr.Spec.Timeout == nil {
		tr.Spec.Timeout = &metav1.Duration{Duration: opts.DefaultTimeout}
	}
	tr.SetDefaults()

	var spec *v1.TaskSpec
	taskName := tr.Name
	switch {
	case tr.Spec.TaskRef != nil && tr.Spec.TaskSpec != nil:
		return nil, invalid(ReasonTaskRunValidationFailed, "expected exactly one, got both: spec.taskRef, spec.taskSpec")
	case tr.Spec.TaskRef != nil:
		t, err := lookupTask(refs, tr.Spec.TaskRef)
		if err != nil {
			return nil, invalidWrap(ReasonTaskRunResolutionFailed, err)
		}
		spec = t.Spec.DeepCopy()
		taskName = t.Name
	case tr.Spec.TaskSpec != nil:
		spec = tr.Spec.TaskSpec.DeepCopy()
		// An inline spec sees the TaskRun's undeclared workspaces.
		for _, b := range tr.Spec.Workspaces {
			if !declaresWorkspace(spec, b.Name) {
				spec.Workspaces = append(spec.Workspaces, v1.WorkspaceDeclaration{Name: b.Name})
			}
		}
	default:
		return nil, invalid(ReasonTaskRunValidationFailed, "expected exactly one, got neither: spec.taskRef, spec.taskSpec")
	}
	spec.SetDefaults()
	if len(spec.Steps) == 0 {
		return nil, invalid(ReasonTaskRunValidationFailed, "invalid TaskSpec: missing field(s): steps")
	}
	if err := checkTaskParams(taskName, spec, tr.Spec.Params); err != nil {
		return nil, invalidWrap(ReasonTaskRunValidationFailed, err)
	}
	if err := checkTaskWorkspaces(spec, tr.Spec.Workspaces); err != nil {
		return nil, invalidWrap(ReasonTaskRunValidationFailed, err)
	}
	if err := checkStepActions(spec, refs); err != nil {
		return nil, invalidWrap(ReasonTaskRunResolutionFailed, err)
	}
	r := &taskRun{
		name:           tr.Name,
		namespace:      tr.Namespace,
		uid:            string(tr.UID),
		taskName:       taskName,
		spec:           spec,
		params:         tr.Spec.Params,
		bindings:       tr.Spec.Workspaces,
		retries:        tr.Spec.Retries,
		timeout:        tr.Spec.Timeout.Duration,
		serviceAccount: tr.Spec.ServiceAccountName,
		podTemplate:    tr.Spec.PodTemplate,
		labels:         copyMap(tr.Labels),
		annotations:    copyMap(tr.Annotations),
		stepSpecs:      tr.Spec.StepSpecs,
		sidecarSpecs:   tr.Spec.SidecarSpecs,
		computeRes:     tr.Spec.ComputeResources,
		opts:           opts,
		stepActions:    stepActionLookup(refs),
	}
	if tr.Spec.Status == v1.TaskRunSpecStatusCancelled {
		r.cancelRequested = v1.PipelineRunSpecStatusCancelled
		r.statusMessage = tr.Spec.StatusMessage
	}
	e := &Engine{opts: opts, tr: r}
	e.runs = []*taskRun{r}
	return e, nil
}

func stepActionLookup(refs Refs) func(string) (*v1beta1.StepAction, bool) {
	if refs == nil {
		return nil
	}
	return refs.StepAction
}

// lookupTask resolves a taskRef.
func lookupTask(refs Refs, ref *v1.TaskRef) (*v1.Task, error) {
	if ref.Resolver != "" {
		return nil, fmt.Errorf("task reference through resolver %q is not supported: resolve it before running", ref.Resolver)
	}
	if refs == nil {
		return nil, fmt.Errorf("tasks.tekton.dev %q not found", ref.Name)
	}
	t, ok := refs.Task(ref.Name)
	if !ok || t == nil {
		return nil, fmt.Errorf("tasks.tekton.dev %q not found", ref.Name)
	}
	t = t.DeepCopy()
	t.SetDefaults()
	return t, nil
}

func declaresWorkspace(spec *v1.TaskSpec, name string) bool {
	for _, w := range spec.Workspaces {
		if w.Name == name {
			return true
		}
	}
	return false
}

// checkTaskParams checks the values a TaskRun gives its Task: every param
// without a default has a value, of the declared type, and an object has
// every key its declaration needs.
func checkTaskParams(taskName string, spec *v1.TaskSpec, given v1.Params) error {
	var missing, mismatch, missKeys []string
	for _, ps := range spec.Params {
		p, ok := given.Lookup(ps.Name)
		if !ok {
			if ps.Default == nil {
				missing = append(missing, ps.Name)
			}
			continue
		}
		if p.Value.Type != ps.Type && !(p.Value.Type == "" && ps.Type == v1.ParamTypeString) {
			mismatch = append(mismatch, ps.Name)
			continue
		}
		if ps.Type == v1.ParamTypeObject {
			var keys []string
			for k := range ps.Properties {
				if _, ok := p.Value.ObjectVal[k]; ok {
					continue
				}
				if ps.Default != nil {
					if _, ok := ps.Default.ObjectVal[k]; ok {
						continue
					}
				}
				keys = append(keys, k)
			}
			if len(keys) > 0 {
				sort.Strings(keys)
				missKeys = append(missKeys, fmt.Sprintf("%s: %v", ps.Name, keys))
			}
		}
	}
	switch {
	case len(missing) > 0:
		return &InvalidRunError{Reason: ReasonTaskRunValidationFailed, Errs: []error{fmt.Errorf("invalid input params for task %s: missing values for these params which have no default values: %v", taskName, missing)}}
	case len(mismatch) > 0:
		return &InvalidRunError{Reason: ReasonTaskRunValidationFailed, Errs: []error{fmt.Errorf("invalid input params for task %s: param types don't match the user-specified type: %v", taskName, mismatch)}}
	case len(missKeys) > 0:
		return &InvalidRunError{Reason: ReasonTaskRunValidationFailed, Errs: []error{fmt.Errorf("invalid input params for task %s: missing keys for these object params: %s", taskName, strings.Join(missKeys, "; "))}}
	}
	return nil
}

// checkTaskWorkspaces checks that every required workspace is bound.
func checkTaskWorkspaces(spec *v1.TaskSpec, bindings []v1.WorkspaceBinding) error {
	var missing []string
	for _, d := range spec.Workspaces {
		if d.Optional {
			continue
		}
		found := false
		for _, b := range bindings {
			if b.Name == d.Name {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("bound workspaces did not match declared workspaces: didn't provide required values: %v", missing)
	}
	return nil
}

// checkStepActions checks that every StepAction a step names exists.
func checkStepActions(spec *v1.TaskSpec, refs Refs) error {
	for i, s := range spec.Steps {
		if s.Ref == nil {
			continue
		}
		if s.Ref.Resolver != "" {
			return fmt.Errorf("step %q: StepAction reference through resolver %q is not supported: resolve it before running", stepName(s.Name, i), s.Ref.Resolver)
		}
		if refs == nil {
			return fmt.Errorf("step %q: stepactions.tekton.dev %q not found", stepName(s.Name, i), s.Ref.Name)
		}
		if sa, ok := refs.StepAction(s.Ref.Name); !ok || sa == nil {
			return fmt.Errorf("step %q: stepactions.tekton.dev %q not found", stepName(s.Name, i), s.Ref.Name)
		}
	}
	return nil
}
