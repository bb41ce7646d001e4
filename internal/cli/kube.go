package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/conformance"
	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/executor/local"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/runstore"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Kube is what colo's commands use of a Kubernetes cluster: `colo run --on
// pod`, `colo controller` and the cluster modes of `colo conformance`.
//
// A Kubernetes client doubles the start of any program that links it (its
// packages register every API type before main runs), and most of colo's
// commands never talk to a cluster. So colo links none: its Kube hands the
// command line to colo-kube, colo's second program, which is colo with the
// Kubernetes half in (package cli/kube). Each method is called before the
// command has changed anything, so that the handover repeats nothing.
type Kube interface {
	// Pods connects to the cluster that kubeconfig names (default
	// $KUBECONFIG, else ~/.kube/config) for runs in Pods in namespace
	// (default the kubeconfig context's, else "default").
	Pods(kubeconfig, namespace string) (Pods, error)
	// Controller runs colo's controller until ctx ends.
	Controller(ctx context.Context, streams IOStreams, o ControllerOptions) error
	// Conformance connects to the cluster that kubeconfig names for the
	// Pod and Controller modes of the conformance runner; image is colo's
	// image for the Pod mode.
	Conformance(kubeconfig, image string) (conformance.Cluster, error)
}

// Pods runs runs each in one Pod on a cluster.
type Pods interface {
	// Run runs obj (a *v1.PipelineRun or *v1.TaskRun, resolved against
	// set) in one Pod, keeping its logs and statuses in opts.Store. The
	// error says why the run has no final status.
	Run(ctx context.Context, obj metav1.Object, set *load.Set, opts PodRun) error
}

// PodRun is how one run in a Pod is run.
type PodRun struct {
	// Image is colo's image, which the Pod's init and orchestrator
	// containers run.
	Image string
	// Engine configures the engine inside the Pod.
	Engine engine.Options
	// Store is the run directory.
	Store *runstore.Run
	// Sink, when set, gets step lines and statuses as they come.
	Sink local.Sink
	// Notify, when set, is told what happens to the Pod.
	Notify func(msg string)
	// Cancel asks the run to stop, as spec.status would; a second value
	// deletes the Pod at once.
	Cancel <-chan v1.PipelineRunSpecStatus
	// Keep leaves the Pod in place when the run ends.
	Keep bool
}

// kubeProgram is colo-kube, the program with colo's Kubernetes half.
const kubeProgram = "colo-kube"

// handOver is the Kube of colo itself: each method replaces this process
// with colo-kube, run with the same arguments, so that colo-kube runs the
// command from its start. It returns only when it cannot.
type handOver struct {
	args []string
}

func (h handOver) Pods(string, string) (Pods, error) { return nil, h.exec() }

func (h handOver) Controller(context.Context, IOStreams, ControllerOptions) error {
	return h.exec()
}

func (h handOver) Conformance(string, string) (conformance.Cluster, error) { return nil, h.exec() }

func (h handOver) exec() error {
	path, err := findKube()
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	argv := append([]string{path}, h.args...)
	err = syscall.Exec(path, argv, os.Environ())
	return &ExitError{Code: ExitFailed, Err: fmt.Errorf("starting %s: %w", path, err)}
}

// findKube returns the path of colo-kube: beside the running program, as
// `go install ./cmd/...` and colo's image put it, else on $PATH.
func findKube() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), kubeProgram)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(kubeProgram)
	if err != nil {
		return "", errors.New("this command talks to a Kubernetes cluster, which colo leaves to " + kubeProgram +
			"; there is none beside colo or on $PATH (install both: go install github.com/colo-ci/colo/cmd/...)")
	}
	return p, nil
}
