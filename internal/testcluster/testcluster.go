package testcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/colo-ci/colo/internal/testcluster/cluster"
)

// Cluster is a cluster a test talks to.
type Cluster struct {
	// Kubeconfig is the path of an admin kubeconfig.
	Kubeconfig string
	Config     *rest.Config
	Client     kubernetes.Interface
	// Registry is the host:port where test images can be pushed, or "" if
	// the cluster has none.
	Registry string
}

// Start returns the shared test cluster, bringing it up with
// `go run ./hack/cluster up` when it is not running. A cold start builds
// Kubernetes and takes many minutes: run hack/e2e.sh, or bring the cluster
// up first, to keep that out of a test's timeout.
func Start(t testing.TB) *Cluster {
	t.Helper()
	if kc := os.Getenv("COLO_TEST_KUBECONFIG"); kc != "" {
		return newCluster(t, kc, os.Getenv("COLO_REGISTRY"))
	}
	dir, err := cluster.DefaultStateDir()
	if err != nil {
		t.Fatal(err)
	}
	st, err := cluster.ReadState(dir)
	if errors.Is(err, cluster.ErrNotRunning) || (err == nil && st.ControlPlaneOnly) {
		if os.Getenv("COLO_TEST_CLUSTER_UP") == "0" {
			t.Fatalf("no test cluster is running in %s (COLO_TEST_CLUSTER_UP=0)", dir)
		}
		if err == nil {
			t.Fatalf("the cluster in %s runs control-plane-only; these tests need a node: run `go run ./hack/cluster down` and `up`", dir)
		}
		up(t, dir)
		st, err = cluster.ReadState(dir)
	}
	if err != nil {
		t.Fatalf("reading the test cluster's state: %v", err)
	}
	return newCluster(t, st.Kubeconfig, st.Registry)
}

// StartControlPlane starts an etcd and a kube-apiserver for this test alone
// (no node: Pods are never scheduled) and stops them when the test ends.
// It needs no root. The binaries are built on first use.
func StartControlPlane(t testing.TB) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	cp, err := cluster.StartControlPlane(ctx, log, t.TempDir(), "")
	if err != nil {
		t.Fatalf("starting a control plane: %v", err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Errorf("stopping the control plane: %v", err)
		}
	})
	return newCluster(t, cp.Kubeconfig, "")
}

func newCluster(t testing.TB, kubeconfig, registry string) *Cluster {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("loading %s: %v", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &Cluster{Kubeconfig: kubeconfig, Config: cfg, Client: cs, Registry: registry}
}

// up runs `go run ./hack/cluster up` from the repository root.
func up(t testing.TB, dir string) {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bringing the test cluster up in %s (a cold start builds Kubernetes: minutes)", dir)
	cmd := exec.Command("go", "run", "./hack/cluster", "up", "--dir", dir)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run ./hack/cluster up: %v\n%s", err, out.String())
	}
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack", "cluster", "main.go")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the repository root (hack/cluster) above the working directory")
		}
		dir = parent
	}
}

// Namespace creates a namespace for the test and deletes it when the test
// ends. If the test failed, the namespace's events and every Pod's status
// and logs are logged first.
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "test-",
			Labels:       map[string]string{"colo.dev/test": sanitizeLabel(t.Name())},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	name := ns.Name
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if t.Failed() {
			c.Dump(ctx, t, name)
		}
		err := c.Client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting namespace %s: %v", name, err)
		}
	})
	// Pods cannot be created before the namespace's default ServiceAccount
	// exists; the controller manager creates it shortly after the namespace.
	for {
		_, err := c.Client.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsNotFound(err) {
			t.Fatalf("waiting for the default ServiceAccount in %s: %v", name, err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no default ServiceAccount in %s (is the controller manager running?): %v", name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return name
}

// Dump logs the events of namespace ns and the status and logs of its Pods.
func (c *Cluster) Dump(ctx context.Context, t testing.TB, ns string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "=== namespace %s ===\n", ns)
	events, err := c.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		fmt.Fprintf(&b, "listing events: %v\n", err)
	} else {
		items := events.Items
		sort.Slice(items, func(i, j int) bool { return eventTime(items[i]).Before(eventTime(items[j])) })
		fmt.Fprintf(&b, "--- events ---\n")
		for _, e := range items {
			fmt.Fprintf(&b, "%s %s %s/%s %s: %s\n", eventTime(e).Format("15:04:05.000"), e.Type,
				e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message)
		}
	}
	pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		fmt.Fprintf(&b, "listing pods: %v\n", err)
	} else {
		for _, p := range pods.Items {
			fmt.Fprintf(&b, "--- pod %s: phase %s %s ---\n", p.Name, p.Status.Phase, p.Status.Message)
			statuses := append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
			for _, s := range statuses {
				fmt.Fprintf(&b, "container %s: %s\n", s.Name, containerState(s.State))
				logs, err := c.Client.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{Container: s.Name}).DoRaw(ctx)
				if err != nil {
					fmt.Fprintf(&b, "  (no logs: %v)\n", err)
					continue
				}
				for _, line := range strings.Split(strings.TrimRight(string(logs), "\n"), "\n") {
					fmt.Fprintf(&b, "  | %s\n", line)
				}
			}
		}
	}
	t.Log(b.String())
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

func containerState(s corev1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "running since " + s.Running.StartedAt.Format(time.RFC3339)
	case s.Terminated != nil:
		return fmt.Sprintf("terminated: exit %d, reason %s %s", s.Terminated.ExitCode, s.Terminated.Reason, s.Terminated.Message)
	case s.Waiting != nil:
		return fmt.Sprintf("waiting: %s %s", s.Waiting.Reason, s.Waiting.Message)
	}
	return "unknown"
}

// WaitForPod waits until the Pod is Succeeded or Failed and returns it.
func (c *Cluster) WaitForPod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	for {
		p, err := c.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return p, fmt.Errorf("pod %s/%s still %s: %w", ns, name, p.Status.Phase, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PushImage pushes img to the cluster's registry as repoTag (e.g.
// "e2e/tool:v1") and returns the reference a Pod uses to run it.
func (c *Cluster) PushImage(t testing.TB, repoTag string, img v1.Image) string {
	t.Helper()
	if c.Registry == "" {
		t.Fatal("the cluster has no registry")
	}
	ref, err := name.ParseReference(c.Registry+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return cluster.InClusterRegistry + "/" + repoTag
}

// Image returns an image from the cluster's registry, e.g.
// "library/busybox:latest", to build a test image on.
func (c *Cluster) Image(t testing.TB, repoTag string) v1.Image {
	t.Helper()
	ref, err := name.ParseReference(c.Registry+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(ref, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatalf("pulling %s: %v", ref, err)
	}
	return img
}

// sanitizeLabel makes a test name a valid label value.
func sanitizeLabel(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), "-._")
	if len(out) > 63 {
		out = strings.Trim(out[:63], "-._")
	}
	return out
}

// testWriter sends log output to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
