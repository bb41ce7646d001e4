package controller

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/colo-ci/colo/internal/runstore"
)

// Report is one status document the orchestrator wrote: the run object
// with its status, as runstore.Document holds it. A progress report (Final
// false) may leave results out; the final report is complete, and the last.
type Report struct {
	Document *runstore.Document
	Final    bool
	// Seq numbers the orchestrator's reports from 1, in the order it wrote
	// them; 0 when the reader does not know it.
	Seq int
}

// after says whether rep may replace prev as the latest report of a run:
// a read that starts again from the top of a log replays reports already
// seen, and a run's status must not step back to them.
func (rep *Report) after(prev *Report) bool {
	switch {
	case prev == nil:
		return true
	case prev.Final:
		return false
	case rep.Seq > 0 && prev.Seq > 0:
		return rep.Seq > prev.Seq
	}
	return true
}

// StatusReader reads the status reports that the orchestrator in a run's
// Pod writes to its container's log.
type StatusReader interface {
	// Read calls report with each status the orchestrator of pod has
	// written, oldest first. With follow it then waits for more until the
	// orchestrator's container ends or ctx is done; without, it stops at the
	// end of what has been written. It returns nil once it read the log to
	// its end, and an error when it could not.
	Read(ctx context.Context, pod *corev1.Pod, follow bool, report func(Report)) error
}

// PodLogReader is the StatusReader that reads the orchestrator container's
// log through the API server (the pods/log subresource).
type PodLogReader struct {
	Client kubernetes.Interface
	// Container is the orchestrator's container (OrchestratorContainer when
	// empty).
	Container string
	// Decode reads the status reports framed in a log stream, calling
	// report with each whole one; it returns nil at the end of r.
	Decode func(r io.Reader, report func(Report)) error
}

// Read implements StatusReader.
func (l *PodLogReader) Read(ctx context.Context, pod *corev1.Pod, follow bool, report func(Report)) error {
	container := l.Container
	if container == "" {
		container = OrchestratorContainer
	}
	req := l.Client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: container, Follow: follow})
	rc, err := req.Stream(ctx)
	if err != nil {
		return fmt.Errorf("reading the log of %s/%s: %w", pod.Name, container, err)
	}
	defer rc.Close()
	if err := l.Decode(rc, report); err != nil {
		return fmt.Errorf("reading the status reports in the log of %s/%s: %w", pod.Name, container, err)
	}
	return nil
}

// tracker follows the status reports of the Pods of running runs: one
// reading goroutine per run, which keeps the latest report and queues the
// run each time one arrives. The reconciler alone writes status; the
// tracker only tells it what the orchestrator said last.
type tracker struct {
	reader StatusReader
	// retry is the least time between two reads of one Pod's log.
	retry time.Duration

	mu      sync.Mutex
	base    context.Context
	queue   workqueue.TypedRateLimitingInterface[reconcile.Request]
	streams map[types.NamespacedName]*stream
	wg      sync.WaitGroup
}

// stream is what one run's reading goroutine found.
type stream struct {
	pod     types.UID
	cancel  context.CancelFunc
	running bool
	follow  bool
	// latest is the newest report read.
	latest *Report
	// ended says the log was read to its end (err nil) or the read failed;
	// failures counts the reads of this Pod's log that failed.
	ended    bool
	err      error
	endedAt  time.Time
	failures int
}

func newTracker(reader StatusReader) *tracker {
	return &tracker{reader: reader, retry: time.Second, streams: map[types.NamespacedName]*stream{}}
}

// start hands the tracker the controller's queue and the context its
// goroutines live in; it is the controller's source for report events.
func (t *tracker) start(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.base, t.queue = ctx, q
	return nil
}

// wait waits for every reading goroutine to end.
func (t *tracker) wait() { t.wg.Wait() }

func (t *tracker) notify(key types.NamespacedName) {
	t.mu.Lock()
	q := t.queue
	t.mu.Unlock()
	if q != nil {
		q.Add(reconcile.Request{NamespacedName: key})
	}
}

// read makes sure the log of pod, the Pod of the run key, is being read
// (followed when follow is set), starting or restarting a goroutine when
// none is. It returns how long to wait before asking again when a failed
// read may not be retried yet (0 otherwise).
func (t *tracker) read(key types.NamespacedName, pod *corev1.Pod, follow bool) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.base == nil || t.base.Err() != nil {
		return 0
	}
	s := t.streams[key]
	if s != nil && s.pod == pod.UID {
		switch {
		case s.running:
			return 0
		case s.ended && s.err == nil && !follow:
			return 0 // read to its end, and the container has ended
		case time.Since(s.endedAt) < t.retry:
			return t.retry - time.Since(s.endedAt)
		}
	}
	if s != nil && s.cancel != nil {
		s.cancel()
	}
	ctx, cancel := context.WithCancel(t.base)
	ns := &stream{pod: pod.UID, cancel: cancel, running: true, follow: follow}
	if s != nil && s.pod == pod.UID {
		// Keep what an earlier read found until this one finds more.
		ns.latest, ns.failures = s.latest, s.failures
	}
	t.streams[key] = ns
	pod = pod.DeepCopy()
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		err := t.reader.Read(ctx, pod, follow, func(rep Report) {
			t.mu.Lock()
			fresh := t.streams[key] == ns && rep.after(ns.latest)
			if fresh {
				ns.latest = &rep
			}
			t.mu.Unlock()
			if fresh {
				t.notify(key)
			}
		})
		t.mu.Lock()
		ns.running, ns.ended, ns.err, ns.endedAt = false, true, err, time.Now()
		if err != nil {
			ns.failures++
		}
		current := t.streams[key] == ns
		t.mu.Unlock()
		if current && ctx.Err() == nil {
			t.notify(key)
		}
	}()
	return 0
}

// readState is what reading a Pod's log found so far.
type readState struct {
	// latest is the last report read, nil before the first.
	latest *Report
	// complete says the log was read to its end.
	complete bool
	// err is why the last read failed, failures how many reads did.
	err      error
	failures int
}

// state returns what reading pod's log found so far.
func (t *tracker) state(key types.NamespacedName, pod types.UID) readState {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.streams[key]
	if s == nil || s.pod != pod {
		return readState{}
	}
	return readState{latest: s.latest, complete: s.ended && !s.running && s.err == nil, err: s.err, failures: s.failures}
}

// forget stops reading the run's log and drops what was read.
func (t *tracker) forget(key types.NamespacedName) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.streams[key]; s != nil {
		if s.cancel != nil {
			s.cancel()
		}
		delete(t.streams, key)
	}
}
