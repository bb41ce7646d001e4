package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/colo-ci/colo/internal/controller"
	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/podspec"
)

type controllerOptions struct {
	kubeconfig  string
	metrics     string
	probes      string
	leader      bool
	leaderNS    string
	concurrency int
	grace       time.Duration
	logLevel    string
	pod         podspec.Options
	maxResult   int
	qps         float32
	burst       int
}

// newControllerCommand is `colo controller`: the controller a cluster runs
// (see config/).
func newControllerCommand(streams IOStreams) *cobra.Command {
	o := &controllerOptions{}
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Run the cluster's PipelineRuns and TaskRuns that ask for colo, each in one Pod",
		Long: `Run as a Kubernetes controller: every tekton.dev/v1 PipelineRun and TaskRun
whose spec.managedBy is ` + controller.ManagedBy + ` runs in one Pod, and its status
is reported as Tekton reports it. Other runs are left alone.

Inside a cluster it uses the Pod's service account; elsewhere --kubeconfig
or $KUBECONFIG. Stops on SIGTERM or SIGINT.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runController(cmd, o, streams)
		},
	}
	ns := os.Getenv("POD_NAMESPACE")
	if ns == "" {
		ns = "colo-system"
	}
	f := cmd.Flags()
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig to use outside a cluster (default $KUBECONFIG)")
	f.StringVar(&o.metrics, "metrics-bind-address", "127.0.0.1:8080", `where to serve Prometheus metrics ("0": nowhere)`)
	f.StringVar(&o.probes, "health-probe-bind-address", "127.0.0.1:8081", `where to serve /healthz and /readyz ("0": nowhere)`)
	f.BoolVar(&o.leader, "leader-elect", false, "elect a leader among replicas; only the leader runs the controllers")
	f.StringVar(&o.leaderNS, "leader-election-namespace", ns, "namespace of the leader-election Lease ($POD_NAMESPACE when set)")
	f.IntVar(&o.concurrency, "concurrency", 8, "runs of each kind reconciled at once")
	f.DurationVar(&o.grace, "timeout-grace", 30*time.Second, "how long past a run's timeout to wait for its Pod to end it before the controller does")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.Float32Var(&o.qps, "kube-api-qps", 0, "most API requests per second (0: no limit but the API server's own priority and fairness)")
	f.IntVar(&o.burst, "kube-api-burst", 0, "requests allowed at once above --kube-api-qps")
	f.StringVar(&o.pod.Image, "image", podspec.DefaultImage, "colo's image, for the init container and the orchestrator of every run's Pod")
	f.StringVar(&o.pod.ImagePath, "image-path", podspec.DefaultImagePath, "path of the colo binary in --image")
	f.BoolVar(&o.pod.PodLevelResources, "pod-level-resources", false, "request a run's peak in its Pod's spec.resources (needs the PodLevelResources feature)")
	f.IntVar(&o.maxResult, "max-result-size", engine.DefaultMaxResultSize, "largest result a task may write, in bytes")
	return cmd
}

func runController(cmd *cobra.Command, o *controllerOptions, streams IOStreams) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return invalid(fmt.Errorf("--log-level %q: want debug, info, warn or error", o.logLevel))
	}
	log := logr.FromSlogHandler(slog.NewTextHandler(streams.ErrOut, &slog.HandlerOptions{Level: level}))
	ctrl.SetLogger(log)

	cfg, err := restConfig(o.kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = o.qps, o.burst
	if o.qps <= 0 {
		cfg.QPS = -1 // client-go's default of 5 would throttle every run
	}
	mgr, err := controller.NewManager(cfg, controller.ManagerOptions{
		MetricsAddr:             o.metrics,
		ProbeAddr:               o.probes,
		LeaderElection:          o.leader,
		LeaderElectionNamespace: o.leaderNS,
		Logger:                  log,
	})
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	opts := engine.Options{MaxResultSize: o.maxResult}
	o.pod.Engine = opts
	err = controller.Setup(mgr, controller.Config{
		Compiler:     controller.NewPodCompiler(o.pod),
		Reader:       controller.NewPodLogReader(cs),
		Concurrency:  o.concurrency,
		TimeoutGrace: o.grace,
		Engine:       opts,
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log.Info("starting colo's controller", "managedBy", controller.ManagedBy, "image", o.pod.Image)
	return mgr.Start(ctx)
}

// restConfig is the API server configuration: kubeconfig when given, else
// in-cluster or $KUBECONFIG.
func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, invalid(fmt.Errorf("--kubeconfig: %w", err))
		}
		return cfg, nil
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, errors.Join(errors.New("no cluster to talk to: run in a Pod, set $KUBECONFIG or give --kubeconfig"), err)
	}
	return cfg, nil
}
