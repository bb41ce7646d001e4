package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/colo-ci/colo/internal/cli"
	"github.com/colo-ci/colo/internal/conformance"
	"github.com/colo-ci/colo/internal/conformance/cluster"
	"github.com/colo-ci/colo/internal/controller"
	"github.com/colo-ci/colo/internal/executor/pod"
	"github.com/colo-ci/colo/internal/load"
)

// Main runs colo-kube with the process's arguments and streams and exits.
func Main() { cli.MainWith(Kube{}) }

// Kube is the cli.Kube that talks to clusters through client-go.
type Kube struct{}

var _ cli.Kube = Kube{}

// Pods implements cli.Kube.
func (Kube) Pods(kubeconfig, namespace string) (cli.Pods, error) {
	cs, ns, err := pod.Client(kubeconfig, namespace)
	if err != nil {
		return nil, err
	}
	return pods{cs: cs, ns: ns}, nil
}

type pods struct {
	cs kubernetes.Interface
	ns string
}

func (p pods) Run(ctx context.Context, obj metav1.Object, set *load.Set, o cli.PodRun) error {
	opts := pod.Options{
		Client:    p.cs,
		Namespace: p.ns,
		Image:     o.Image,
		Engine:    o.Engine,
		Store:     o.Store,
		Sink:      o.Sink,
		Notify:    o.Notify,
		Cancel:    o.Cancel,
		Keep:      o.Keep,
	}
	_, err := pod.Run(ctx, obj, set, opts)
	return err
}

// Conformance implements cli.Kube.
func (Kube) Conformance(kubeconfig, image string) (conformance.Cluster, error) {
	cfg, _, err := pod.Config(kubeconfig)
	if err != nil {
		return nil, err
	}
	return cluster.New(cluster.Config{Config: cfg, Image: image})
}

// Controller implements cli.Kube.
func (Kube) Controller(ctx context.Context, streams cli.IOStreams, o cli.ControllerOptions) error {
	log := logr.FromSlogHandler(slog.NewTextHandler(streams.ErrOut, &slog.HandlerOptions{Level: o.LogLevel}))
	ctrl.SetLogger(log)

	cfg, err := restConfig(o.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = o.QPS, o.Burst
	if o.QPS <= 0 {
		cfg.QPS = -1 // client-go's default of 5 would throttle every run
	}
	mgr, err := controller.NewManager(cfg, controller.ManagerOptions{
		MetricsAddr:             o.Metrics,
		ProbeAddr:               o.Probes,
		LeaderElection:          o.Leader,
		LeaderElectionNamespace: o.LeaderNS,
		Logger:                  log,
	})
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	err = controller.Setup(mgr, controller.Config{
		Compiler:     controller.NewPodCompiler(o.Pod),
		Reader:       controller.NewPodLogReader(cs),
		Concurrency:  o.Concurrency,
		TimeoutGrace: o.Grace,
		Engine:       o.Pod.Engine,
	})
	if err != nil {
		return err
	}
	log.Info("starting colo's controller", "managedBy", controller.ManagedBy, "image", o.Pod.Image)
	return mgr.Start(ctx)
}

// restConfig is the API server configuration: kubeconfig when given, else
// in-cluster or $KUBECONFIG.
func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, cli.Invalid(fmt.Errorf("--kubeconfig: %w", err))
		}
		return cfg, nil
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, errors.Join(errors.New("no cluster to talk to: run in a Pod, set $KUBECONFIG or give --kubeconfig"), err)
	}
	return cfg, nil
}
