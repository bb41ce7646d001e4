// Package validate checks Tekton objects the way upstream's admission
// webhook and reconcilers do before anything runs, and reports every
// problem at once.
//
// Each problem is an *Error: a Kubernetes field error whose path is rooted
// at the object (spec.pipelineSpec.tasks[2].params[0].value), the object it
// belongs to, and, where upstream fails a run for it with a specific reason
// (ParameterMissing, PipelineInvalidGraph, InvalidWorkspaceBindings, ...),
// that reason, which a controller can put on the run's condition.
//
// Run validates everything in a loaded set; Task, Pipeline, StepAction,
// PipelineRun and TaskRun validate one object and what it refers to.
package validate
