package controller

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// replayReader serves one log per read: reads[i] is what the i-th read of
// the log finds before its stream breaks off (it returns nil, as a closed
// stream does). The last read then waits for its context to end.
type replayReader struct {
	reads [][]Report
	// delivered gets the number of each read once it reported all it has.
	delivered chan int
	n         int
}

func (r *replayReader) Read(ctx context.Context, _ *corev1.Pod, _ bool, report func(Report)) error {
	i := r.n
	r.n++
	for _, rep := range r.reads[i] {
		report(rep)
	}
	r.delivered <- i
	if i == len(r.reads)-1 {
		<-ctx.Done()
	}
	return nil
}

// TestTrackerNeverStepsBack checks that a run's latest report stays the
// newest one read when a broken log stream is read again from its top:
// the replayed older reports must not take its place, or the run's status
// (and its TaskRuns') would go back to what they were.
func TestTrackerNeverStepsBack(t *testing.T) {
	progress := func(seq int) Report { return Report{Seq: seq} }
	final := func(seq int) Report { return Report{Seq: seq, Final: true} }
	tests := []struct {
		name  string
		reads [][]Report
		want  Report
	}{
		{
			name:  "replay of progress",
			reads: [][]Report{{progress(1), progress(2), progress(3)}, {progress(1)}},
			want:  progress(3),
		},
		{
			name:  "replay goes on past what was read",
			reads: [][]Report{{progress(1), progress(2)}, {progress(1), progress(2), progress(3), final(4)}},
			want:  final(4),
		},
		{
			name:  "replay after the final report",
			reads: [][]Report{{progress(1), final(2)}, {progress(1)}},
			want:  final(2),
		},
		{
			name:  "reports without numbers follow each other",
			reads: [][]Report{{progress(0), progress(0)}, {{Seq: 0, Final: true}}},
			want:  Report{Final: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			reader := &replayReader{reads: tt.reads, delivered: make(chan int, len(tt.reads))}
			tr := newTracker(reader)
			tr.retry = 0
			q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
			defer q.ShutDown()
			if err := tr.start(ctx, q); err != nil {
				t.Fatal(err)
			}
			defer tr.wait()
			defer cancel()

			key := types.NamespacedName{Namespace: "ns", Name: "run"}
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "run-colo", UID: "pod-1"}}
			for i := range tt.reads {
				// A read has ended (the first) or none has run yet: read
				// again, as the reconciler does when it is queued.
				eventuallyRead(t, tr, key, pod)
				select {
				case got := <-reader.delivered:
					if got != i {
						t.Fatalf("read %d reported, want %d", got, i)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("read %d did not report", i)
				}
			}
			got := tr.state(key, pod.UID).latest
			if got == nil || got.Seq != tt.want.Seq || got.Final != tt.want.Final {
				t.Errorf("latest report %+v, want %+v", got, tt.want)
			}
		})
	}
}

// eventuallyRead asks the tracker to read pod's log until it starts a new
// read: it does not while the one before still runs.
func eventuallyRead(t *testing.T, tr *tracker, key types.NamespacedName, pod *corev1.Pod) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tr.mu.Lock()
		s := tr.streams[key]
		busy := s != nil && s.running
		tr.mu.Unlock()
		if !busy {
			tr.read(key, pod, true)
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the read before did not end")
		}
		time.Sleep(time.Millisecond)
	}
}
