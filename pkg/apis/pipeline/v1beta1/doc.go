// Package v1beta1 holds StepAction, a reusable step that a Task's step names
// with `ref`. Upstream serves it as tekton.dev/v1beta1 and tekton.dev/v1alpha1
// with the same fields; there is no v1 StepAction.
package v1beta1
