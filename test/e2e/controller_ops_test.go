//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/colo-ci/colo/internal/testcluster"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// TestControllerOperations checks what operators rely on: a controller
// that is killed again and again mid-run still makes one Pod per run and
// ends it with the right status, and many runs applied at once all run.
func TestControllerOperations(t *testing.T) {
	c := testcluster.Start(t)
	cl := newClient(t, c)
	installColo(t, c, cl)
	cs, err := kubernetes.NewForConfig(c.Config)
	fatalIf(t, err)

	t.Run("killing the controller ten times mid-run leaves one Pod and the right status", func(t *testing.T) {
		ns := c.Namespace(t)
		// Every Pod created in the namespace, from before the run exists.
		w, err := cs.CoreV1().Pods(ns).Watch(t.Context(), metav1.ListOptions{})
		fatalIf(t, err)
		defer w.Stop()
		var mu sync.Mutex
		created := map[string]int{}
		go func() {
			for ev := range w.ResultChan() {
				if p, ok := ev.Object.(*corev1.Pod); ok && ev.Type == watch.Added {
					mu.Lock()
					created[p.Name]++
					mu.Unlock()
				}
			}
		}()

		var tasks strings.Builder
		for i := 1; i <= 4; i++ {
			fmt.Fprintf(&tasks, "\n    - name: t%d", i)
			if i > 1 {
				fmt.Fprintf(&tasks, "\n      runAfter: [t%d]", i-1)
			}
			fmt.Fprintf(&tasks, "\n      taskSpec:\n        results:\n        - name: num\n        steps:\n        - image: alpine\n          script: sleep 15; echo -n %d > $(results.num.path)", i)
		}
		pr := createPipelineRun(t, cl, ns, `
metadata:
  name: survivor
spec:
  managedBy: colo.dev/pod
  pipelineSpec:
    results:
    - name: last
      value: $(tasks.t4.results.num)
    tasks:`+tasks.String())

		start := time.Now()
		for kill := 1; kill <= 10; kill++ {
			time.Sleep(time.Duration(500+kill*300) * time.Millisecond)
			got := &v1.PipelineRun{}
			fatalIf(t, cl.Get(t.Context(), client.ObjectKeyFromObject(pr), got))
			if c := got.Status.GetCondition(); c != nil && runDone(c) {
				t.Fatalf("the run ended (%s) after %d kills: it must outlast all ten", c.Reason, kill-1)
			}
			killController(t, cs)
			t.Logf("kill %d at %v", kill, time.Since(start).Round(100*time.Millisecond))
		}

		got := waitForPipelineRun(t, cl, pr, 4*time.Minute, runDone)
		cond := got.Status.GetCondition()
		if cond.Status != corev1.ConditionTrue || cond.Reason != "Succeeded" {
			t.Fatalf("condition %s %s: %s", cond.Status, cond.Reason, cond.Message)
		}
		if len(got.Status.Results) != 1 || got.Status.Results[0].Value.StringVal != "4" {
			t.Errorf("results %+v, want last=4", got.Status.Results)
		}
		if n := len(got.Status.ChildReferences); n != 4 {
			t.Errorf("%d child references, want 4", n)
		}
		mu.Lock()
		defer mu.Unlock()
		if want := map[string]int{"survivor-colo": 1}; fmt.Sprint(created) != fmt.Sprint(want) {
			t.Errorf("Pods created %v, want %v", created, want)
		}
	})

	t.Run("fifty PipelineRuns applied at once all succeed", func(t *testing.T) {
		ns := c.Namespace(t)
		const n = 50
		start := time.Now()
		runs := make([]*v1.PipelineRun, n)
		var wg sync.WaitGroup
		for i := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pr := &v1.PipelineRun{}
				decodeYAML(t, fmt.Sprintf(`
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: many-%02d
spec:
  managedBy: colo.dev/pod
  pipelineSpec:
    results:
    - name: echoed
      value: $(tasks.second.results.out)
    tasks:
    - name: first
      taskSpec:
        results:
        - name: out
        steps:
        - image: alpine
          script: echo -n %d > $(results.out.path)
    - name: second
      params:
      - name: in
        value: $(tasks.first.results.out)
      taskSpec:
        params:
        - name: in
        results:
        - name: out
        steps:
        - image: busybox
          script: echo -n "$(params.in)" > $(results.out.path)`, i, i), pr)
				pr.Namespace = ns
				if err := cl.Create(t.Context(), pr); err != nil {
					t.Error(err)
				}
				runs[i] = pr
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		for i, pr := range runs {
			got := waitForPipelineRun(t, cl, pr, 10*time.Minute-time.Since(start), runDone)
			cond := got.Status.GetCondition()
			if cond.Status != corev1.ConditionTrue {
				t.Errorf("%s: condition %s %s: %s", pr.Name, cond.Status, cond.Reason, cond.Message)
				continue
			}
			if len(got.Status.Results) != 1 || got.Status.Results[0].Value.StringVal != fmt.Sprint(i) {
				t.Errorf("%s: results %+v, want echoed=%d", pr.Name, got.Status.Results, i)
			}
		}
		t.Logf("%d PipelineRuns applied → all done: %v", n, time.Since(start).Round(100*time.Millisecond))
	})
}

// killController deletes the controller's Pods and waits until a new one
// is ready. The Deployment's strategy is Recreate (see installColo), so a
// new Pod starts as soon as the old one is gone.
func killController(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	pods := cs.CoreV1().Pods("colo-system")
	sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=colo-controller"}
	list, err := pods.List(ctx, sel)
	fatalIf(t, err)
	old := map[string]bool{}
	for _, p := range list.Items {
		old[p.Name] = true
		if err := pods.Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatalf("deleting controller Pod %s: %v", p.Name, err)
		}
	}
	for {
		list, err := pods.List(ctx, sel)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range list.Items {
			if old[p.Name] || p.DeletionTimestamp != nil {
				continue
			}
			for _, st := range p.Status.ContainerStatuses {
				if st.State.Running != nil {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no new controller Pod ran after a kill: %v", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
