package cli

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/podspec"
)

// ControllerOptions are the flags of `colo controller`.
type ControllerOptions struct {
	Kubeconfig  string
	Metrics     string
	Probes      string
	Leader      bool
	LeaderNS    string
	Concurrency int
	Grace       time.Duration
	LogLevel    slog.Level
	Pod         podspec.Options
	MaxResult   int
	QPS         float32
	Burst       int
}

// newControllerCommand is `colo controller`: the controller a cluster runs
// (see config/).
func newControllerCommand(streams IOStreams, k Kube) *cobra.Command {
	o := &ControllerOptions{}
	var logLevel string
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Run the cluster's PipelineRuns and TaskRuns that ask for colo, each in one Pod",
		Long: `Run as a Kubernetes controller: every tekton.dev/v1 PipelineRun and TaskRun
whose spec.managedBy is ` + podspec.RunManagedBy + ` runs in one Pod, and its status
is reported as Tekton reports it. Other runs are left alone.

Inside a cluster it uses the Pod's service account; elsewhere --kubeconfig
or $KUBECONFIG. Stops on SIGTERM or SIGINT.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
				return invalid(fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel))
			}
			o.Pod.Engine = engine.Options{MaxResultSize: o.MaxResult}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return k.Controller(ctx, streams, *o)
		},
	}
	ns := os.Getenv("POD_NAMESPACE")
	if ns == "" {
		ns = "colo-system"
	}
	f := cmd.Flags()
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig to use outside a cluster (default $KUBECONFIG)")
	f.StringVar(&o.Metrics, "metrics-bind-address", "127.0.0.1:8080", `where to serve Prometheus metrics ("0": nowhere)`)
	f.StringVar(&o.Probes, "health-probe-bind-address", "127.0.0.1:8081", `where to serve /healthz and /readyz ("0": nowhere)`)
	f.BoolVar(&o.Leader, "leader-elect", false, "elect a leader among replicas; only the leader runs the controllers")
	f.StringVar(&o.LeaderNS, "leader-election-namespace", ns, "namespace of the leader-election Lease ($POD_NAMESPACE when set)")
	f.IntVar(&o.Concurrency, "concurrency", 8, "runs of each kind reconciled at once")
	f.DurationVar(&o.Grace, "timeout-grace", 30*time.Second, "how long past a run's timeout to wait for its Pod to end it before the controller does")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.Float32Var(&o.QPS, "kube-api-qps", 0, "most API requests per second (0: no limit but the API server's own priority and fairness)")
	f.IntVar(&o.Burst, "kube-api-burst", 0, "requests allowed at once above --kube-api-qps")
	f.StringVar(&o.Pod.Image, "image", podspec.DefaultImage, "colo's image, for the init container and the orchestrator of every run's Pod")
	f.StringVar(&o.Pod.ImagePath, "image-path", podspec.DefaultImagePath, "path of the colo binary in --image")
	f.BoolVar(&o.Pod.PodLevelResources, "pod-level-resources", false, "request a run's peak in its Pod's spec.resources (needs the PodLevelResources feature)")
	f.IntVar(&o.MaxResult, "max-result-size", engine.DefaultMaxResultSize, "largest result a task may write, in bytes")
	return cmd
}
