package controller_test

import (
	"cmp"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/yaml"

	"github.com/colo-ci/colo/internal/controller"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/runstore"
	"github.com/colo-ci/colo/internal/testcluster"
)

// env is a private API server with Tekton's kinds installed from
// config/crd, and a client to it.
type env struct {
	cluster *testcluster.Cluster
	client  client.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := testcluster.StartControlPlane(t)
	scheme, err := controller.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(c.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	installCRDs(t, cl)
	return &env{cluster: c, client: cl}
}

// installCRDs applies config/crd and waits until the API server serves
// every kind.
func installCRDs(t *testing.T, cl client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "crd", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(data, &u.Object); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := cl.Create(ctx, u); err != nil {
			t.Fatalf("creating %s: %v", f, err)
		}
		names = append(names, u.GetName())
	}
	for _, name := range names {
		eventually(t, ctx, "CRD "+name+" established", func() (bool, error) {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion("apiextensions.k8s.io/v1")
			u.SetKind("CustomResourceDefinition")
			if err := cl.Get(ctx, types.NamespacedName{Name: name}, u); err != nil {
				return false, err
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
	}
}

// namespace creates a namespace with its default ServiceAccount (a
// control plane alone has no controller manager to make it), deleted when
// the test ends.
func (e *env) namespace(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	if err := e.client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns.Name}}
	if err := e.client.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.client.Delete(context.Background(), ns) })
	return ns.Name
}

// controllerOptions say how a test's controller differs from the default.
type controllerOptions struct {
	grace time.Duration
	// leaderNamespace, when set, makes the controller elect a leader
	// with a Lease there.
	leaderNamespace string
	// metricsAddr is where metrics are served ("": nowhere).
	metricsAddr string
}

// runningController is a controller a test started.
type runningController struct {
	mgr  manager.Manager
	stop func()
}

// startController runs the controllers with a fake compiler and status
// reader until stop is called (or the test ends).
func (e *env) startController(t *testing.T, comp *fakeCompiler, reader *fakeReader, o controllerOptions) (stop func()) {
	t.Helper()
	return e.start(t, comp, reader, o).stop
}

func (e *env) start(t *testing.T, comp *fakeCompiler, reader *fakeReader, o controllerOptions) *runningController {
	t.Helper()
	cfg := rest.CopyConfig(e.cluster.Config)
	cfg.QPS, cfg.Burst = -1, 0
	mgr, err := controller.NewManager(cfg, controller.ManagerOptions{
		MetricsAddr:             cmp.Or(o.metricsAddr, "0"),
		SkipNameValidation:      true,
		Logger:                  testr.NewWithOptions(t, testr.Options{Verbosity: 1}),
		LeaderElection:          o.leaderNamespace != "",
		LeaderElectionNamespace: o.leaderNamespace,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := controller.Setup(mgr, controller.Config{Compiler: comp, Reader: reader, TimeoutGrace: o.grace}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("controller manager: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &runningController{mgr: mgr, stop: stop}
}

// fakeCompiler makes a Pod with just an orchestrator container, and
// remembers what it was asked to compile.
type fakeCompiler struct {
	mu    sync.Mutex
	calls map[string]compileCall // by run name
}

type compileCall struct {
	run client.Object
	set *load.Set
}

func (f *fakeCompiler) Compile(_ context.Context, run client.Object, set *load.Set) (*corev1.Pod, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]compileCall{}
	}
	f.calls[run.GetNamespace()+"/"+run.GetName()] = compileCall{run: run, set: set}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"from-compiler": "yes"}},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: controller.OrchestratorContainer, Image: "ghcr.io/colo-ci/colo"}},
		},
	}, nil
}

func (f *fakeCompiler) call(ns, name string) (compileCall, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.calls[ns+"/"+name]
	return c, ok
}

// fakeReader serves status reports that a test writes, as if an
// orchestrator had logged them.
type fakeReader struct {
	mu   sync.Mutex
	logs map[string]*fakeLog // by namespace/pod
}

type fakeLog struct {
	reports []controller.Report
	ended   bool
	changed chan struct{}
	// err, when set, is what every read of the log returns.
	err error
}

func (f *fakeReader) log(ns, pod string) *fakeLog {
	if f.logs == nil {
		f.logs = map[string]*fakeLog{}
	}
	l := f.logs[ns+"/"+pod]
	if l == nil {
		l = &fakeLog{changed: make(chan struct{})}
		f.logs[ns+"/"+pod] = l
	}
	return l
}

// write adds a report to the Pod's log: a final one, or progress.
func (f *fakeReader) write(ns, pod string, doc *runstore.Document, final bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.log(ns, pod)
	l.reports = append(l.reports, controller.Report{Document: doc, Final: final})
	close(l.changed)
	l.changed = make(chan struct{})
}

// end ends the Pod's log, as the orchestrator's exit does.
func (f *fakeReader) end(ns, pod string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.log(ns, pod)
	l.ended = true
	close(l.changed)
	l.changed = make(chan struct{})
}

// fail makes every read of the Pod's log fail with err.
func (f *fakeReader) fail(ns, pod string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log(ns, pod).err = err
}

func (f *fakeReader) Read(ctx context.Context, pod *corev1.Pod, follow bool, report func(controller.Report)) error {
	i := 0
	for {
		f.mu.Lock()
		l := f.log(pod.Namespace, pod.Name)
		reports, ended, changed, err := l.reports[i:], l.ended, l.changed, l.err
		f.mu.Unlock()
		if err != nil {
			return err
		}
		for _, r := range reports {
			report(r)
			i++
		}
		if ended || !follow {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// eventually polls cond until it holds, failing the test after a while.
func eventually(t *testing.T, ctx context.Context, what string, cond func() (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, errors.Join(ctx.Err(), last))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func key(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// freeAddr returns a 127.0.0.1 address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
