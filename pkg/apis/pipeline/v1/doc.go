// Package v1 holds the tekton.dev/v1 API types colo reads and writes: Task,
// TaskRun, Pipeline and PipelineRun, with upstream Tekton's JSON field names so
// that any upstream YAML decodes and encodes unchanged. Kubernetes types
// (containers, volumes, env, Pod settings) come from k8s.io/api.
package v1

// GroupName is the API group of every type here.
const GroupName = "tekton.dev"

// Version is this package's API version.
const Version = "v1"

// APIVersion is group/version as written in YAML.
const APIVersion = GroupName + "/" + Version
