package engine

import (
	"errors"
	"fmt"
	"strings"
)

// Reasons a run fails with before (or instead of) running anything. They are
// the condition reasons upstream reports for the same problems.
const (
	ReasonParameterMissing                = "ParameterMissing"
	ReasonParameterTypeMismatch           = "ParameterTypeMismatch"
	ReasonObjectParameterMissKeys         = "ObjectParameterMissKeys"
	ReasonParamArrayIndexingInvalid       = "ParamArrayIndexingInvalid"
	ReasonCouldntGetTask                  = "CouldntGetTask"
	ReasonCouldntGetPipeline              = "CouldntGetPipeline"
	ReasonPipelineInvalidGraph            = "PipelineInvalidGraph"
	ReasonInvalidWorkspaceBindings        = "InvalidWorkspaceBindings"
	ReasonRequiredWorkspaceMarkedOptional = "RequiredWorkspaceMarkedOptional"
	ReasonInvalidTaskRunSpecs             = "InvalidTaskRunSpecs"
	ReasonInvalidTaskResultReference      = "InvalidTaskResultReference"
	ReasonInvalidPipelineResultReference  = "InvalidPipelineResultReference"
	ReasonPipelineValidationFailed        = "PipelineValidationFailed"
	ReasonTaskRunValidationFailed         = "TaskRunValidationFailed"
	ReasonTaskRunResolutionFailed         = "TaskRunResolutionFailed"
	ReasonInvalidMatrixParameterTypes     = "InvalidMatrixParameterTypes"
	ReasonCELEvaluationFailed             = "CELEvaluationFailed"
	ReasonInvalidParamValue               = "InvalidParamValue"
	ReasonCreateRunFailed                 = "CreateRunFailed"
)

// InvalidRunError reports a run that cannot start. Reason is the upstream
// condition reason a caller sets as the run's failure reason (or shows as
// invalid input); Errs are the individual problems, in a stable order.
type InvalidRunError struct {
	Reason string
	Errs   []error
}

func (e *InvalidRunError) Error() string {
	msgs := make([]string, 0, len(e.Errs))
	for _, err := range e.Errs {
		msgs = append(msgs, err.Error())
	}
	return fmt.Sprintf("%s: %s", e.Reason, strings.Join(msgs, "; "))
}

// Unwrap returns the individual problems.
func (e *InvalidRunError) Unwrap() []error { return e.Errs }

// Message returns the problems joined the way a condition message shows them.
func (e *InvalidRunError) Message() string {
	msgs := make([]string, 0, len(e.Errs))
	for _, err := range e.Errs {
		msgs = append(msgs, err.Error())
	}
	return strings.Join(msgs, "; ")
}

// invalid returns an *InvalidRunError with one problem.
func invalid(reason, format string, args ...any) *InvalidRunError {
	return &InvalidRunError{Reason: reason, Errs: []error{fmt.Errorf(format, args...)}}
}

// invalidWrap returns an *InvalidRunError for err, keeping err's reason if it
// already is one.
func invalidWrap(reason string, err error) *InvalidRunError {
	var ire *InvalidRunError
	if errors.As(err, &ire) {
		return ire
	}
	return &InvalidRunError{Reason: reason, Errs: []error{err}}
}
