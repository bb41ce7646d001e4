package podspec

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"

	"github.com/colo-ci/colo/internal/engine"
)

// BundleEnv is the orchestrator container's environment variable that
// holds the Bundle. An environment variable needs no init step to deliver
// it; its value is gzipped and base64-encoded because the kubelet would
// otherwise expand $(VAR) and $$ in it, and Tekton YAML is full of both.
const BundleEnv = "COLO_BUNDLE"

// BundleVersion is the version of the Bundle format this package writes.
const BundleVersion = 1

// Bundle is everything the orchestrator needs to drive a run inside its
// Pod.
type Bundle struct {
	Version int `json:"version"`
	// Objects is a YAML stream: the run, then every Pipeline, Task and
	// StepAction it uses. Secrets and ConfigMaps are never in it: the
	// kubelet gives them to the containers that need them.
	Objects string `json:"objects"`
	// Engine are the engine's limits (result sizes, default timeout).
	Engine engine.Options `json:"engine"`
	// Layout says which containers run which TaskRun's steps.
	Layout Layout `json:"layout"`
}

// Layout says which of a compiled Pod's containers run which TaskRun's
// steps and sidecars.
type Layout struct {
	// Kind and Name are the run's.
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Orchestrator is the orchestrator's container: its log carries the
	// run's status (see package orchestrator).
	Orchestrator string `json:"orchestrator"`
	// Tasks are the TaskRuns the run may create, in the order the
	// pipeline lists them (finally tasks last), matrix runs in order.
	Tasks []TaskLayout `json:"tasks"`
}

// TaskLayout is one TaskRun's part of the Pod.
type TaskLayout struct {
	// TaskRun is the TaskRun's name as the engine makes it.
	TaskRun string `json:"taskRun"`
	// PipelineTask is the pipeline task it runs ("" for a TaskRun).
	PipelineTask string `json:"pipelineTask,omitempty"`
	Finally      bool   `json:"finally,omitempty"`
	// Volume is the task's own volume: /tekton, /workspace and the
	// control directories of its containers. The orchestrator mounts it
	// at control.TasksDir/<Volume>.
	Volume string `json:"volume"`
	// Steps are the task's step containers, in step order; Sidecars its
	// sidecar containers.
	Steps    []ContainerLayout `json:"steps"`
	Sidecars []ContainerLayout `json:"sidecars,omitempty"`
}

// ContainerLayout is one step's or sidecar's container.
type ContainerLayout struct {
	// Container is the Pod's container name.
	Container string `json:"container"`
	// Name is the name Tekton gives it: step-<name>, step-unnamed-<i>
	// or sidecar-<name>.
	Name  string `json:"name"`
	Image string `json:"image"`
	// Entrypoint is the image's command (its ENTRYPOINT, else its CMD),
	// looked up when the step gives neither command nor script.
	Entrypoint []string `json:"entrypoint,omitempty"`
	// Ports are the container's named ports, for readiness probes that
	// name one.
	Ports map[string]int32 `json:"ports,omitempty"`
}

// Encode returns b as BundleEnv's value: JSON, gzipped, base64-encoded.
func (b *Bundle) Encode() (string, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return "", fmt.Errorf("encode bundle: %w", err)
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", fmt.Errorf("encode bundle: %w", err)
	}
	// A fixed header (no name, no time) keeps the Pod deterministic.
	if _, err := zw.Write(raw); err != nil {
		return "", fmt.Errorf("encode bundle: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("encode bundle: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// DecodeBundle reads a value Encode wrote.
func DecodeBundle(s string) (*Bundle, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode bundle: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("decode bundle: %w", err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decode bundle: %w", err)
	}
	var b Bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("decode bundle: %w", err)
	}
	if b.Version != BundleVersion {
		return nil, fmt.Errorf("decode bundle: version %d, this colo reads version %d", b.Version, BundleVersion)
	}
	return &b, nil
}

// BundleOf returns the Bundle of a Pod that Compile made.
func BundleOf(pod *corev1.Pod) (*Bundle, error) {
	for _, c := range pod.Spec.Containers {
		for _, e := range c.Env {
			if e.Name == BundleEnv {
				return DecodeBundle(e.Value)
			}
		}
	}
	return nil, fmt.Errorf("pod %s has no %s: it was not compiled by colo", pod.Name, BundleEnv)
}
