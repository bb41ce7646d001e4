package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/colo-ci/colo/internal/controller"
	"github.com/colo-ci/colo/internal/testcluster/cluster"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "controllerbench:", err)
		os.Exit(1)
	}
}

func run() error {
	runs := flag.Int("runs", 500, "PipelineRuns to create")
	tasks := flag.Int("tasks", 3, "tasks in each run's pipeline")
	byRef := flag.Bool("ref", false, "name a Pipeline with pipelineRef instead of embedding pipelineSpec")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout+5*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	dir, err := os.MkdirTemp("", "colo-controllerbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	colo := filepath.Join(dir, "colo")
	build := exec.CommandContext(ctx, "go", "build", "-o", dir, "./cmd/colo", "./cmd/colo-kube")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build colo: %w", err)
	}

	cp, err := cluster.StartControlPlane(ctx, log, filepath.Join(dir, "cluster"), "")
	if err != nil {
		return err
	}
	defer cp.Stop()
	cfg, err := clientcmd.BuildConfigFromFlags("", cp.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = -1, 0
	scheme, err := controller.NewScheme()
	if err != nil {
		return err
	}
	cl, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	if err := installCRDs(ctx, cl); err != nil {
		return err
	}
	const ns = "bench"
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}},
	} {
		if err := cl.Create(ctx, obj); err != nil {
			return err
		}
	}
	spec := pipelineSpec(*tasks)
	if *byRef {
		p := &v1.Pipeline{ObjectMeta: metav1.ObjectMeta{Name: "bench", Namespace: ns}, Spec: *spec}
		if err := cl.Create(ctx, p); err != nil {
			return err
		}
	}

	ctrl := exec.CommandContext(ctx, colo, "controller", "--kubeconfig", cp.Kubeconfig,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0", "--log-level", "error")
	var ctrlErr bytes.Buffer
	ctrl.Stderr = &ctrlErr
	if err := ctrl.Start(); err != nil {
		return err
	}
	rss := &peakRSS{pid: ctrl.Process.Pid}
	stopSampling := rss.sample(20 * time.Millisecond)
	defer func() {
		_ = ctrl.Process.Signal(os.Interrupt)
		_ = ctrl.Wait()
	}()
	// Let it start and sync its (empty) caches before the clock starts.
	time.Sleep(2 * time.Second)
	idle := rss.peak()

	start := time.Now()
	if err := createRuns(ctx, cl, ns, *runs, spec, *byRef); err != nil {
		return err
	}
	created := time.Since(start)

	var allPods, allStarted time.Duration
	deadline := time.Now().Add(*timeout)
	for allPods == 0 || allStarted == 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %v; the controller said:\n%s", *timeout, tail(ctrlErr.String(), 20))
		}
		if ctrl.ProcessState != nil {
			return fmt.Errorf("the controller exited: %s", tail(ctrlErr.String(), 20))
		}
		if allPods == 0 {
			pods := &metav1.PartialObjectMetadataList{}
			pods.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
			if err := cl.List(ctx, pods, client.InNamespace(ns)); err != nil {
				return err
			}
			if len(pods.Items) >= *runs {
				allPods = time.Since(start)
			}
		}
		if allStarted == 0 {
			prs := &v1.PipelineRunList{}
			if err := cl.List(ctx, prs, client.InNamespace(ns)); err != nil {
				return err
			}
			n := 0
			for _, pr := range prs.Items {
				if c := pr.Status.GetCondition(); c != nil && c.Reason == "Started" {
					n++
				}
			}
			if n >= *runs {
				allStarted = time.Since(start)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopSampling()
	if err := ensureOnePodEach(ctx, cl, ns, *runs); err != nil {
		return err
	}
	kind := "pipelineSpec"
	if *byRef {
		kind = "pipelineRef"
	}
	fmt.Printf("%d PipelineRuns (%d tasks each, %s), one control plane, 2 cores\n", *runs, *tasks, kind)
	fmt.Printf("  created in                 %v\n", created.Round(time.Millisecond))
	fmt.Printf("  every run has its Pod      %v\n", allPods.Round(time.Millisecond))
	fmt.Printf("  every run reports Started  %v\n", allStarted.Round(time.Millisecond))
	fmt.Printf("  controller peak RSS        %.1f MB (%.1f MB before the runs)\n", float64(rss.peak())/1e6, float64(idle)/1e6)
	return nil
}

func pipelineSpec(tasks int) *v1.PipelineSpec {
	spec := &v1.PipelineSpec{}
	for i := range tasks {
		pt := v1.PipelineTask{Name: fmt.Sprintf("t%d", i), TaskSpec: &v1.EmbeddedTask{TaskSpec: v1.TaskSpec{
			Steps: []v1.Step{{Name: "run", Image: "alpine", Script: fmt.Sprintf("echo task %d", i)}},
		}}}
		if i > 0 {
			pt.RunAfter = []string{fmt.Sprintf("t%d", i-1)}
		}
		spec.Tasks = append(spec.Tasks, pt)
	}
	return spec
}

// createRuns creates n PipelineRuns, 16 at a time.
func createRuns(ctx context.Context, cl client.Client, ns string, n int, spec *v1.PipelineSpec, byRef bool) error {
	managedBy := controller.ManagedBy
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				pr := &v1.PipelineRun{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("run-%04d", i), Namespace: ns},
					Spec:       v1.PipelineRunSpec{ManagedBy: &managedBy},
				}
				if byRef {
					pr.Spec.PipelineRef = &v1.PipelineRef{Name: "bench"}
				} else {
					pr.Spec.PipelineSpec = spec
				}
				if err := cl.Create(ctx, pr); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	return errors.Join(slicesOf(errs)...)
}

// ensureOnePodEach checks that every run has exactly its one Pod.
func ensureOnePodEach(ctx context.Context, cl client.Client, ns string, n int) error {
	pods := &corev1.PodList{}
	if err := cl.List(ctx, pods, client.InNamespace(ns)); err != nil {
		return err
	}
	if len(pods.Items) != n {
		return fmt.Errorf("%d Pods for %d runs", len(pods.Items), n)
	}
	for _, p := range pods.Items {
		ref := metav1.GetControllerOf(&p)
		if ref == nil || controller.PodName(ref.Name) != p.Name {
			return fmt.Errorf("Pod %s is not its run's", p.Name)
		}
	}
	return nil
}

func installCRDs(ctx context.Context, cl client.Client) error {
	files, err := filepath.Glob(filepath.Join("config", "crd", "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs in config/crd (run from the repository's root): %v", err)
	}
	var names []string
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(data, &u.Object); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if err := cl.Create(ctx, u); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		names = append(names, u.GetName())
	}
	for _, name := range names {
		for {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion("apiextensions.k8s.io/v1")
			u.SetKind("CustomResourceDefinition")
			if err := cl.Get(ctx, types.NamespacedName{Name: name}, u); err != nil {
				return err
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			established := false
			for _, c := range conds {
				if m, _ := c.(map[string]any); m["type"] == "Established" && m["status"] == "True" {
					established = true
				}
			}
			if established {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// peakRSS samples a process's peak resident set size (VmHWM).
type peakRSS struct {
	pid int
	mu  sync.Mutex
	max int64
}

func (p *peakRSS) sample(every time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			p.read()
			select {
			case <-done:
				return
			case <-time.After(every):
			}
		}
	}()
	return func() { close(done); wg.Wait(); p.read() }
}

func (p *peakRSS) read() {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				p.mu.Lock()
				p.max = max(p.max, kb*1024)
				p.mu.Unlock()
			}
		}
	}
}

func (p *peakRSS) peak() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.max
}

func slicesOf[T any](c <-chan T) []T {
	var out []T
	for v := range c {
		out = append(out, v)
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
