package controller

import (
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

// LeaderElectionID names the Lease the controller's replicas elect a
// leader with.
const LeaderElectionID = "colo-controller.colo.dev"

// ManagerOptions configure the process that hosts the controllers.
type ManagerOptions struct {
	// MetricsAddr is where Prometheus metrics are served ("0": nowhere).
	MetricsAddr string
	// ProbeAddr is where /healthz and /readyz are served ("" or "0":
	// nowhere).
	ProbeAddr string
	// LeaderElection makes replicas elect one leader, which alone runs the
	// controllers; LeaderElectionNamespace holds its Lease.
	LeaderElection          bool
	LeaderElectionNamespace string
	// Logger is the manager's logger, which every reconcile's context
	// carries (default: controller-runtime's global one).
	Logger logr.Logger
	// SkipNameValidation lets one process run several managers with the
	// same controllers (tests do).
	SkipNameValidation bool
}

// NewScheme returns a scheme with Kubernetes' built-in kinds and Tekton's
// tekton.dev/v1 and v1beta1 kinds.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1.AddToScheme, v1beta1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("building the scheme: %w", err)
		}
	}
	return s, nil
}

// NewManager returns a manager for the controllers: its cache holds
// PipelineRuns, TaskRuns and only the Pods the controller made.
func NewManager(cfg *rest.Config, o ManagerOptions) (manager.Manager, error) {
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	probe := o.ProbeAddr
	if probe == "" {
		probe = "0"
	}
	mo := manager.Options{
		Scheme:                        scheme,
		Logger:                        o.Logger,
		Metrics:                       metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:        probe,
		LeaderElection:                o.LeaderElection,
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Cache: cache.Options{
			DefaultTransform: cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{
				&corev1.Pod{}: {
					Label:     labels.SelectorFromSet(labels.Set{LabelManagedBy: ManagedByValue}),
					Transform: slimPod,
				},
			},
		},
		GracefulShutdownTimeout: ptr(30 * time.Second),
	}
	if o.SkipNameValidation {
		mo.Controller.SkipNameValidation = ptr(true)
	}
	mgr, err := manager.New(cfg, mo)
	if err != nil {
		return nil, fmt.Errorf("creating the controller manager: %w", err)
	}
	if probe != "0" {
		if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
			return nil, err
		}
		if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
			return nil, err
		}
	}
	return mgr, nil
}

func ptr[T any](v T) *T { return &v }

// slimPod keeps of a Pod what the controller reads: its metadata and how
// it and its orchestrator are doing. A run's Pod carries the whole run in
// its spec; caching hundreds of them whole would cost more memory than
// everything else the controller holds.
func slimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	slim := &corev1.Pod{
		TypeMeta:   pod.TypeMeta,
		ObjectMeta: pod.ObjectMeta,
		Status: corev1.PodStatus{
			Phase:   pod.Status.Phase,
			Reason:  pod.Status.Reason,
			Message: pod.Status.Message,
		},
	}
	slim.ManagedFields = nil
	// The orchestrator's state in full; of the others, only why one
	// cannot start.
	keep := func(statuses []corev1.ContainerStatus) []corev1.ContainerStatus {
		var out []corev1.ContainerStatus
		for _, cs := range statuses {
			switch {
			case cs.Name == OrchestratorContainer:
				out = append(out, cs)
			case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "ContainerCreating" && cs.State.Waiting.Reason != "PodInitializing":
				out = append(out, corev1.ContainerStatus{Name: cs.Name, Image: cs.Image, State: corev1.ContainerState{Waiting: cs.State.Waiting}})
			}
		}
		return out
	}
	slim.Status.ContainerStatuses = keep(pod.Status.ContainerStatuses)
	slim.Status.InitContainerStatuses = keep(pod.Status.InitContainerStatuses)
	return slim, nil
}
