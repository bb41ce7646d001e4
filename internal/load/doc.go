// Package load reads Tekton and Kubernetes YAML (or JSON) from files,
// directories and byte slices into typed objects.
//
// Decoding is strict: an unknown or duplicated field is an error that names
// the file, the object and the field's full path. A key that matches a field
// only when case is ignored (mountpath for mountPath) is accepted, as
// upstream's webhook accepts it, and reported as a warning. Every problem of
// every document is collected before Files or Bytes return.
//
// The result is a Set: Tasks, Pipelines and StepActions by name (it
// implements the engine's Refs), PipelineRuns and TaskRuns in the order they
// were read, the core/v1 objects a run can use (Secrets, ConfigMaps,
// PersistentVolumeClaims, ServiceAccounts), and everything else kept
// unstructured. Objects are returned as written; defaulting and validation
// happen elsewhere.
package load
