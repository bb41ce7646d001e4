package controller

import (
	"context"
	"errors"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/validate"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// invalidRun is why a run cannot start: its Failed condition's reason and
// message.
type invalidRun struct {
	reason, message string
}

// prepared is a run ready for its Pod: its references are by name and the
// objects they name are in set.
type prepared struct {
	run client.Object
	set *load.Set
}

// resolutionReasons are the reasons of problems in reading what a run
// names; upstream resolves before it validates, so they come first.
var resolutionReasons = []string{
	validate.ReasonCouldntGetPipeline,
	validate.ReasonCouldntGetTask,
	validate.ReasonTaskRunResolutionFailed,
}

// prepare reads what run refers to through c, validates the run as package
// validate and the engine do, and returns it ready for its Pod, or why it
// is invalid. An error means the API server could not be read: try again.
func prepare(ctx context.Context, c client.Reader, run client.Object, opts engine.Options) (*prepared, *invalidRun, error) {
	// The run as colo run would read it (see getDecoded), not as the
	// cache's case-sensitive decoding left it.
	var fresh client.Object
	var invalidReason string
	switch run.(type) {
	case *v1.PipelineRun:
		fresh, invalidReason = &v1.PipelineRun{}, validate.ReasonPipelineValidationFailed
	case *v1.TaskRun:
		fresh, invalidReason = &v1.TaskRun{}, validate.ReasonTaskRunValidationFailed
	default:
		return nil, nil, fmt.Errorf("cannot run a %T", run)
	}
	gvk := v1.GroupVersion().WithKind(kindOf(run))
	err := getDecoded(ctx, c, client.ObjectKeyFromObject(run), fresh, gvk)
	var de *decodeError
	switch {
	case errors.As(err, &de):
		return nil, &invalidRun{reason: invalidReason, message: de.Error()}, nil
	case err != nil:
		return nil, nil, err
	}
	run = fresh
	r := newRefs(run.GetNamespace())
	if err := r.fetch(ctx, c, run); err != nil {
		return nil, nil, err
	}
	var problems validate.List
	switch o := run.(type) {
	case *v1.PipelineRun:
		problems = validate.PipelineRun(o, r)
	case *v1.TaskRun:
		problems = validate.TaskRun(o, r)
	default:
		return nil, nil, fmt.Errorf("cannot run a %T", run)
	}
	if len(problems) > 0 {
		return nil, &invalidRun{reason: listReason(problems), message: problems.Error()}, nil
	}
	inlined, set, err := r.inline(run)
	if err != nil {
		reason := validate.ReasonCouldntGetTask
		if _, ok := run.(*v1.TaskRun); ok {
			reason = validate.ReasonTaskRunResolutionFailed
		}
		return nil, &invalidRun{reason: reason, message: err.Error()}, nil
	}
	switch o := inlined.(type) {
	case *v1.PipelineRun:
		_, err = engine.NewPipelineRun(o, set, opts)
	case *v1.TaskRun:
		_, err = engine.NewTaskRun(o, set, opts)
	}
	var ire *engine.InvalidRunError
	switch {
	case errors.As(err, &ire):
		return nil, &invalidRun{reason: ire.Reason, message: ire.Message()}, nil
	case err != nil:
		return nil, &invalidRun{reason: failedReason(run), message: err.Error()}, nil
	}
	return &prepared{run: inlined, set: set}, nil, nil
}

// listReason is the reason a run with these problems fails with: a
// resolution problem's if there is one, else the first problem's.
func listReason(l validate.List) string {
	for _, want := range resolutionReasons {
		for _, e := range l {
			if e.UpstreamReason() == want {
				return want
			}
		}
	}
	return l[0].UpstreamReason()
}
