package controller

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// metrics are what the controller counts, served with controller-runtime's
// own (reconciles, work queues, API requests) on the manager's metrics
// endpoint.
type metrics struct {
	// started counts the runs whose Pod the controller made; finished the
	// runs that ended, by kind and the reason they ended with; duration
	// how long they took from start to end.
	started  *prometheus.CounterVec
	finished *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newMetrics registers the controller's metrics with reg, or finds them
// there if another controller of this process registered them first.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "colo_runs_started_total",
			Help: "Runs whose Pod the controller created, by kind.",
		}, []string{"kind"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "colo_runs_finished_total",
			Help: "Runs that ended, by kind, status (True or False) and reason.",
		}, []string{"kind", "status", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "colo_run_duration_seconds",
			Help:    "How long runs took from start to end, by kind and status.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14), // 1 s to 2.3 h
		}, []string{"kind", "status"}),
	}
	var err error
	m.started, err = register(reg, m.started)
	if err != nil {
		return nil, err
	}
	m.finished, err = register(reg, m.finished)
	if err != nil {
		return nil, err
	}
	m.duration, err = register(reg, m.duration)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// defaultRegistry is where controller-runtime's metrics server finds
// metrics.
func defaultRegistry() prometheus.Registerer { return crmetrics.Registry }

// runFinished counts a run that ended, and how long it took when known
// (took < 0 when not).
func (m *metrics) runFinished(kind, status, reason string, took time.Duration) {
	if m == nil {
		return
	}
	m.finished.WithLabelValues(kind, status, reason).Inc()
	if took >= 0 {
		m.duration.WithLabelValues(kind, status).Observe(took.Seconds())
	}
}

// runStarted counts a run whose Pod was made.
func (m *metrics) runStarted(kind string) {
	if m == nil {
		return
	}
	m.started.WithLabelValues(kind).Inc()
}
