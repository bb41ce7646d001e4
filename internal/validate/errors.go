package validate

import (
	"errors"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Upstream failure reasons a problem can carry.
const (
	ReasonPipelineValidationFailed        = "PipelineValidationFailed"
	ReasonTaskRunValidationFailed         = "TaskRunValidationFailed"
	ReasonCouldntGetPipeline              = "CouldntGetPipeline"
	ReasonCouldntGetTask                  = "CouldntGetTask"
	ReasonTaskRunResolutionFailed         = "TaskRunResolutionFailed"
	ReasonParameterMissing                = "ParameterMissing"
	ReasonParameterTypeMismatch           = "ParameterTypeMismatch"
	ReasonObjectParameterMissKeys         = "ObjectParameterMissKeys"
	ReasonInvalidParamValue               = "InvalidParamValue"
	ReasonInvalidWorkspaceBindings        = "InvalidWorkspaceBindings"
	ReasonInvalidTaskRunSpecs             = "InvalidTaskRunSpecs"
	ReasonInvalidTaskResultReference      = "InvalidTaskResultReference"
	ReasonInvalidPipelineResultReference  = "InvalidPipelineResultReference"
	ReasonRequiredWorkspaceMarkedOptional = "RequiredWorkspaceMarkedOptional"
	ReasonPipelineInvalidGraph            = "PipelineInvalidGraph"
	ReasonInvalidMatrixParameterTypes     = "InvalidMatrixParameterTypes"
)

// Error is one problem with one object.
type Error struct {
	// Kind and Name identify the object the field path is rooted at.
	Kind, Name string
	// File is where the object was read from, when known.
	File string
	// Field is the problem, with its path from the object's root.
	Field *field.Error
	// Reason is the upstream failure reason for this problem, or "" when
	// only the generic one for the object's kind applies (see Reason).
	Reason string
	// Cause is the underlying error, if any (such as a
	// *load.ResolverError or *load.NotFoundError).
	Cause error
}

// Object names the object: Kind "name".
func (e *Error) Object() string { return e.Kind + ` "` + e.Name + `"` }

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	b.WriteString(e.Object())
	b.WriteString(": ")
	b.WriteString(e.Field.Error())
	if e.Reason != "" {
		b.WriteString(" [")
		b.WriteString(e.Reason)
		b.WriteString("]")
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Cause }

// UpstreamReason is the reason upstream reports for this problem: Reason
// when set, else PipelineValidationFailed for a Pipeline or PipelineRun and
// TaskRunValidationFailed for a Task, TaskRun or StepAction.
func (e *Error) UpstreamReason() string {
	if e.Reason != "" {
		return e.Reason
	}
	switch e.Kind {
	case "Pipeline", "PipelineRun":
		return ReasonPipelineValidationFailed
	}
	return ReasonTaskRunValidationFailed
}

// List is every problem found, in order.
type List []*Error

func (l List) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems.
func (l List) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Err returns l as an error, or nil when it is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// FieldErrors returns the field errors alone.
func (l List) FieldErrors() field.ErrorList {
	out := make(field.ErrorList, len(l))
	for i, e := range l {
		out[i] = e.Field
	}
	return out
}

// Reason returns the upstream failure reason of the first problem in err
// (an *Error or a List), or "" when err holds none.
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.UpstreamReason()
	}
	return ""
}
