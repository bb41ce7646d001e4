package controller

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/colo-ci/colo/internal/engine"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Config is what the controllers need besides their manager.
type Config struct {
	// Compiler builds each run's Pod. Required.
	Compiler PodCompiler
	// Reader reads the status reports in a run's Pod. Required.
	Reader StatusReader
	// Concurrency is how many runs of each kind are reconciled at once
	// (default 8).
	Concurrency int
	// TimeoutGrace is how long past a run's timeout the controller waits
	// for the Pod to report it before it deletes the Pod and fails the run
	// itself (default 30s).
	TimeoutGrace time.Duration
	// Engine holds the limits runs are validated with.
	Engine engine.Options
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Setup adds the PipelineRun and TaskRun controllers to mgr. Their status
// readers stop when mgr does.
func Setup(mgr manager.Manager, cfg Config) error {
	if cfg.Compiler == nil || cfg.Reader == nil {
		return errors.New("the controller needs a Pod compiler and a status reader")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.TimeoutGrace <= 0 {
		cfg.TimeoutGrace = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m, err := newMetrics(defaultRegistry())
	if err != nil {
		return err
	}
	kinds := []struct {
		name   string
		newRun func() client.Object
	}{
		{"pipelinerun", func() client.Object { return &v1.PipelineRun{} }},
		{"taskrun", func() client.Object { return &v1.TaskRun{} }},
	}
	for _, k := range kinds {
		r := &Reconciler{
			client:    mgr.GetClient(),
			apiReader: mgr.GetAPIReader(),
			scheme:    mgr.GetScheme(),
			recorder:  mgr.GetEventRecorder("colo-controller"),
			compiler:  cfg.Compiler,
			tracker:   newTracker(cfg.Reader),
			now:       cfg.Now,
			engine:    cfg.Engine,
			grace:     cfg.TimeoutGrace,
			newRun:    k.newRun,
			metrics:   m,
		}
		if err := mgr.Add(trackerRunnable{r.tracker}); err != nil {
			return err
		}
		err := ctrl.NewControllerManagedBy(mgr).
			Named(k.name).
			For(k.newRun(), builder.WithPredicates(claimedPredicate(), predicate.Or[client.Object](
				predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
			Owns(&corev1.Pod{}).
			WatchesRawSource(source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
				return r.tracker.start(ctx, q)
			})).
			WithOptions(controller.Options{MaxConcurrentReconciles: cfg.Concurrency}).
			Complete(r)
		if err != nil {
			return err
		}
	}
	return nil
}

// trackerRunnable waits, when the manager stops, for the tracker's reading
// goroutines to end.
type trackerRunnable struct{ t *tracker }

func (tr trackerRunnable) Start(ctx context.Context) error {
	<-ctx.Done()
	tr.t.wait()
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: the
// tracker works for the controllers, which only run as leader.
func (tr trackerRunnable) NeedLeaderElection() bool { return true }
