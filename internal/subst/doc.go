// Package subst replaces Tekton's $(...) variables.
//
// It knows the syntax of every v1 variable form and which fields of a Task,
// step, sidecar and PipelineTask upstream substitutes, but not where values
// come from: callers (the engine) build a Values for a scope and apply it.
// Substitution is one literal pass: a replaced value is never scanned again,
// and a reference with no value stays as written.
//
// Refs parses the references in a string so that validation and the DAG can
// see which params, results and tasks a field uses.
package subst
