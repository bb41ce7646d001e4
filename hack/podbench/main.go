package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "podbench:", err)
		os.Exit(1)
	}
}

// bench holds what every round needs.
type bench struct {
	colo       string
	coloImage  string
	kubeconfig string
	namespace  string
	image      string
	tasks      int
	dir        string
	cs         kubernetes.Interface
}

func run() error {
	tasks := flag.Int("tasks", 10, "tasks in the chain")
	rounds := flag.Int("n", 5, "rounds to take the median of")
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster to measure on")
	image := flag.String("image", "busybox", "image every step runs in")
	coloImage := flag.String("colo-image", "", "colo's image for the Pods (default: colo run's default)")
	timeout := flag.Duration("timeout", 20*time.Minute, "give up after this long")
	flag.Parse()
	if *kubeconfig == "" {
		return errors.New("no kubeconfig: set -kubeconfig or $KUBECONFIG")
	}
	if *tasks < 1 || *rounds < 1 {
		return errors.New("-tasks and -n must be at least 1")
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	dir, err := os.MkdirTemp("", "colo-podbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{kubeconfig: *kubeconfig, image: *image, tasks: *tasks, coloImage: *coloImage, dir: dir, colo: filepath.Join(dir, "colo")}
	build := exec.CommandContext(ctx, "go", "build", "-o", dir, "./cmd/colo", "./cmd/colo-kube")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build colo (run this from colo's source tree): %w", err)
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return err
	}
	if b.cs, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	ns, err := b.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "colo-podbench-"}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create namespace: %w", err)
	}
	b.namespace = ns.Name
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = b.cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
	}()

	kinds := []struct {
		name string
		run  func(context.Context, int) (time.Duration, error)
	}{
		{"one Pod (colo run --on pod)", b.onePod},
		{"one Pod per task (colo, in sequence)", b.podPerTask},
		{"bare Pod, one container", b.barePod},
		{"bare Pod, colo's containers", b.bareShape},
	}
	times := make([][]time.Duration, len(kinds))
	for round := 0; round <= *rounds; round++ {
		for i, k := range kinds {
			d, err := k.run(ctx, round)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", k.name, round, err)
			}
			if round == 0 {
				continue // warms the image cache; not counted
			}
			times[i] = append(times[i], d)
			fmt.Fprintf(os.Stderr, "round %d: %s: %.2f s\n", round, k.name, d.Seconds())
		}
	}

	fmt.Printf("%d trivial tasks in sequence, median of %d rounds (min-max):\n", *tasks, *rounds)
	med := make([]time.Duration, len(kinds))
	for i, k := range kinds {
		med[i] = median(times[i])
		fmt.Printf("  %-38s %6.2f s  (%.2f-%.2f)\n", k.name, med[i].Seconds(), slices.Min(times[i]).Seconds(), slices.Max(times[i]).Seconds())
	}
	fmt.Printf("  %-38s %6.2fx  (goal >= 5x)\n", "one Pod per task / one Pod", float64(med[1])/float64(med[0]))
	fmt.Printf("  %-38s %6.2fx  (goal <= 1.5x)\n", "one Pod / bare Pod", float64(med[0])/float64(med[2]))
	fmt.Printf("  %-38s %6.2fx  (what starting that many containers costs)\n", "one Pod / bare Pod of colo's containers", float64(med[0])/float64(med[3]))
	return nil
}

// onePod runs the chain as one PipelineRun in one Pod.
func (b *bench) onePod(ctx context.Context, round int) (time.Duration, error) {
	var doc strings.Builder
	fmt.Fprintf(&doc, "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n  name: chain-%d\nspec:\n  pipelineSpec:\n    tasks:\n", round)
	for i := 1; i <= b.tasks; i++ {
		fmt.Fprintf(&doc, "    - name: t%d\n", i)
		if i > 1 {
			fmt.Fprintf(&doc, "      runAfter: [t%d]\n", i-1)
		}
		fmt.Fprintf(&doc, "      taskSpec:\n        steps:\n        - name: echo\n          image: %s\n          script: echo task %d\n", b.image, i)
	}
	file := filepath.Join(b.dir, fmt.Sprintf("chain-%d.yaml", round))
	if err := os.WriteFile(file, []byte(doc.String()), 0o644); err != nil {
		return 0, err
	}
	return b.colorun(ctx, file)
}

// podPerTask runs each task as a TaskRun of its own, one after another.
func (b *bench) podPerTask(ctx context.Context, round int) (time.Duration, error) {
	var files []string
	for i := 1; i <= b.tasks; i++ {
		doc := fmt.Sprintf("apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: task-%d-%d\nspec:\n  taskSpec:\n    steps:\n    - name: echo\n      image: %s\n      script: echo task %d\n", round, i, b.image, i)
		file := filepath.Join(b.dir, fmt.Sprintf("task-%d-%d.yaml", round, i))
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			return 0, err
		}
		files = append(files, file)
	}
	var total time.Duration
	for _, f := range files {
		d, err := b.colorun(ctx, f)
		if err != nil {
			return 0, err
		}
		total += d
	}
	return total, nil
}

// colorun runs one file with `colo run --on pod` and times it.
func (b *bench) colorun(ctx context.Context, file string) (time.Duration, error) {
	args := []string{"run", "-f", file, "--on", "pod",
		"--kubeconfig", b.kubeconfig, "--namespace", b.namespace, "--run-dir", filepath.Join(b.dir, "runs")}
	if b.coloImage != "" {
		args = append(args, "--image", b.coloImage)
	}
	cmd := exec.CommandContext(ctx, b.colo, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("colo run -f %s: %w\n%s", filepath.Base(file), err, out.String())
	}
	return d, nil
}

// barePod runs the same scripts in one container of one Pod.
func (b *bench) barePod(ctx context.Context, round int) (time.Duration, error) {
	var script []string
	for i := 1; i <= b.tasks; i++ {
		script = append(script, fmt.Sprintf("echo task %d", i))
	}
	return b.runPod(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bare-%d", round)},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name:    "steps",
				Image:   b.image,
				Command: []string{"sh", "-c", strings.Join(script, "\n")},
			}},
		},
	})
}

// bareShape runs a Pod of the shape colo compiles the chain into, one init
// container and a container per task plus one, each running one echo and
// nothing ordering them: the floor of a Pod with that many containers, as
// the kubelet creates and starts them one after another.
func (b *bench) bareShape(ctx context.Context, round int) (time.Duration, error) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("shape-%d", round)},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			InitContainers: []corev1.Container{{
				Name: "init", Image: b.image, Command: []string{"sh", "-c", "echo init"},
			}},
		},
	}
	for i := 0; i <= b.tasks; i++ {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{
			Name: fmt.Sprintf("c%d", i), Image: b.image, Command: []string{"sh", "-c", fmt.Sprintf("echo task %d", i)},
		})
	}
	return b.runPod(ctx, pod)
}

// runPod creates pod and times it until it has succeeded.
func (b *bench) runPod(ctx context.Context, pod *corev1.Pod) (time.Duration, error) {
	pods := b.cs.CoreV1().Pods(b.namespace)
	w, err := pods.Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", pod.Name).String()})
	if err != nil {
		return 0, err
	}
	defer w.Stop()
	start := time.Now()
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return 0, err
	}
	for ev := range w.ResultChan() {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok {
			continue
		}
		switch p.Status.Phase {
		case corev1.PodSucceeded:
			d := time.Since(start)
			return d, pods.Delete(ctx, pod.Name, metav1.DeleteOptions{})
		case corev1.PodFailed:
			return 0, fmt.Errorf("pod %s failed: %s", pod.Name, p.Status.Message)
		}
	}
	return 0, fmt.Errorf("watch of pod %s ended: %w", pod.Name, ctx.Err())
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
