// Package pod runs a PipelineRun or TaskRun on Kubernetes as one Pod: it
// compiles the run with package podspec, creates the Pod and the run's
// Secrets, ConfigMaps and PersistentVolumeClaims (owned by the Pod), follows
// every step's log and the orchestrator's status frames into a run
// directory, and deletes the Pod when the run ends.
//
// It is what `colo run --on pod` and the conformance runner's Pod mode
// drive; the engine itself runs inside the Pod (see package orchestrator).
package pod
