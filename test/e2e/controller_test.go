//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/colo-ci/colo/internal/controller"
	"github.com/colo-ci/colo/internal/testcluster"
	"github.com/colo-ci/colo/internal/testcluster/cluster"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// TestController installs colo's controller with config/ (and Tekton's
// kinds with config/crd: the test cluster has no Tekton) and runs
// PipelineRuns through it. The controller runs the colo image from the
// cluster's registry: after changing colo, push it with
// `go run ./hack/cluster images`.
func TestController(t *testing.T) {
	c := testcluster.Start(t)
	cl := newClient(t, c)
	installColo(t, c, cl)

	t.Run("a managed PipelineRun runs to Succeeded, with results and events", func(t *testing.T) {
		ns := c.Namespace(t)
		pr := createPipelineRun(t, cl, ns, `
metadata:
  name: hello
spec:
  managedBy: colo.dev/pod
  pipelineSpec:
    results:
    - name: greeting
      value: $(tasks.make.results.word)
    tasks:
    - name: make
      taskSpec:
        results:
        - name: word
        steps:
        - image: alpine
          script: echo -n hello > $(results.word.path)
    - name: use
      params:
      - name: w
        value: $(tasks.make.results.word)
      taskSpec:
        params:
        - name: w
        steps:
        - image: busybox
          script: test "$(params.w)" = hello`)
		got := waitForPipelineRun(t, cl, pr, 2*time.Minute, runDone)
		cond := got.Status.GetCondition()
		if cond.Status != corev1.ConditionTrue || cond.Reason != "Succeeded" {
			t.Fatalf("condition %s %s: %s", cond.Status, cond.Reason, cond.Message)
		}
		if want := "Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 0"; cond.Message != want {
			t.Errorf("message %q, want %q", cond.Message, want)
		}
		if len(got.Status.Results) != 1 || got.Status.Results[0].Value.StringVal != "hello" {
			t.Errorf("results %+v, want greeting=hello", got.Status.Results)
		}
		var children []string
		for _, ref := range got.Status.ChildReferences {
			children = append(children, ref.Kind+"/"+ref.Name+"/"+ref.PipelineTaskName)
		}
		if want := []string{"TaskRun/hello-make/make", "TaskRun/hello-use/use"}; fmt.Sprint(children) != fmt.Sprint(want) {
			t.Errorf("childReferences %v, want %v", children, want)
		}
		if got.Status.StartTime == nil || got.Status.CompletionTime == nil {
			t.Errorf("startTime %v, completionTime %v: want both", got.Status.StartTime, got.Status.CompletionTime)
		} else {
			t.Logf("created → Succeeded: %v (startTime → completionTime %v)",
				got.Status.CompletionTime.Sub(got.CreationTimestamp.Time), got.Status.CompletionTime.Sub(got.Status.StartTime.Time))
		}
		pod := &corev1.Pod{}
		fatalIf(t, cl.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "hello-colo"}, pod))
		if !metav1.IsControlledBy(pod, got) {
			t.Errorf("the Pod's owners %v do not name the run as controller", pod.OwnerReferences)
		}
		for _, reason := range []string{"Started", "Succeeded"} {
			waitForEvent(t, cl, ns, pr.Name, reason)
		}
	})

	t.Run("a PipelineRun without managedBy is left alone", func(t *testing.T) {
		ns := c.Namespace(t)
		alone := createPipelineRun(t, cl, ns, `
metadata:
  name: tektons
spec:
  pipelineSpec:
    tasks:
    - name: a
      taskSpec:
        steps:
        - image: alpine
          script: "true"`)
		// A managed run next to it shows the controller is at work.
		mine := createPipelineRun(t, cl, ns, `
metadata:
  name: colos
spec:
  managedBy: colo.dev/pod
  pipelineSpec:
    tasks:
    - name: a
      taskSpec:
        steps:
        - image: alpine
          script: "true"`)
		waitForPipelineRun(t, cl, mine, 2*time.Minute, runDone)
		got := &v1.PipelineRun{}
		fatalIf(t, cl.Get(t.Context(), client.ObjectKeyFromObject(alone), got))
		if got.ResourceVersion != alone.ResourceVersion || got.Status.GetCondition() != nil {
			t.Errorf("the run without managedBy was changed: status %+v", got.Status)
		}
		pods := &corev1.PodList{}
		fatalIf(t, cl.List(t.Context(), pods, client.InNamespace(ns)))
		for _, p := range pods.Items {
			if p.Name != "colos-colo" {
				t.Errorf("unexpected Pod %s", p.Name)
			}
		}
	})

	t.Run("CancelledRunFinally stops the running task and runs finally", func(t *testing.T) {
		ns := c.Namespace(t)
		pr := createPipelineRun(t, cl, ns, `
metadata:
  name: stopme
spec:
  managedBy: colo.dev/pod
  pipelineSpec:
    tasks:
    - name: long
      taskSpec:
        steps:
        - image: alpine
          script: sleep 120
    finally:
    - name: cleanup
      taskSpec:
        steps:
        - image: alpine
          script: echo cleaning up`)
		waitForPipelineRun(t, cl, pr, 2*time.Minute, func(c *v1.Condition) bool { return c.Reason == "Running" })
		setSpecStatus(t, cl, pr, v1.PipelineRunSpecStatusCancelledRunFinally)
		start := time.Now()
		got := waitForPipelineRun(t, cl, pr, time.Minute, runDone)
		t.Logf("cancel → done: %v", time.Since(start))
		cond := got.Status.GetCondition()
		if cond.Status != corev1.ConditionFalse || cond.Reason != "Cancelled" {
			t.Errorf("condition %s %s (%s), want False Cancelled", cond.Status, cond.Reason, cond.Message)
		}
		var ran []string
		for _, ref := range got.Status.ChildReferences {
			ran = append(ran, ref.PipelineTaskName)
		}
		if fmt.Sprint(ran) != "[long cleanup]" {
			t.Errorf("child runs %v, want [long cleanup]: finally must run", ran)
		}
		if want := `PipelineRun "stopme" was cancelled`; cond.Message != want {
			t.Errorf("message %q, want %q", cond.Message, want)
		}
		// Each task shows as a TaskRun, as upstream shows it.
		for name, want := range map[string]string{"stopme-long": "TaskRunCancelled", "stopme-cleanup": "Succeeded"} {
			tr := &v1.TaskRun{}
			fatalIf(t, cl.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, tr))
			if c := tr.Status.GetCondition(); c == nil || c.Reason != want {
				t.Errorf("TaskRun %s: condition %+v, want reason %s", name, c, want)
			}
			if tr.Labels["tekton.dev/pipelineRun"] != "stopme" {
				t.Errorf("TaskRun %s labels %v: want tekton.dev/pipelineRun=stopme", name, tr.Labels)
			}
		}
	})

	t.Run("deleting the Pod fails the run", func(t *testing.T) {
		ns := c.Namespace(t)
		pr := createPipelineRun(t, cl, ns, `
metadata:
  name: podless
spec:
  managedBy: colo.dev/pod
  pipelineSpec:
    tasks:
    - name: long
      taskSpec:
        steps:
        - image: alpine
          script: sleep 120`)
		waitForPipelineRun(t, cl, pr, 2*time.Minute, func(c *v1.Condition) bool { return c.Reason == "Running" })
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "podless-colo"}}
		start := time.Now()
		fatalIf(t, cl.Delete(t.Context(), pod))
		got := waitForPipelineRun(t, cl, pr, 10*time.Second, runDone)
		t.Logf("Pod deleted → run failed: %v", time.Since(start))
		cond := got.Status.GetCondition()
		if cond.Status != corev1.ConditionFalse || cond.Reason != "Failed" || !strings.Contains(cond.Message, "was deleted") {
			t.Errorf("condition %s %s %q, want False Failed saying the Pod was deleted", cond.Status, cond.Reason, cond.Message)
		}
	})

	t.Run("references are read from the cluster; a failed step fails the run", func(t *testing.T) {
		ns := c.Namespace(t)
		for _, doc := range []string{`
apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata:
  name: check
spec:
  params:
  - name: want
  image: alpine
  env:
  - name: WANT
    value: $(params.want)
  script: test "$WANT" = yes`, `
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: checker
spec:
  params:
  - name: answer
  steps:
  - ref:
      name: check
    params:
    - name: want
      value: $(params.answer)`, `
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: checks
spec:
  params:
  - name: answer
  tasks:
  - name: check
    taskRef:
      resolver: cluster
      params:
      - name: kind
        value: task
      - name: name
        value: checker
      - name: namespace
        value: ` + ns + `
    params:
    - name: answer
      value: $(params.answer)`} {
			u := &unstructured.Unstructured{}
			decodeYAML(t, doc, &u.Object)
			u.SetNamespace(ns)
			fatalIf(t, cl.Create(t.Context(), u))
		}
		for answer, want := range map[string]corev1.ConditionStatus{"yes": corev1.ConditionTrue, "no": corev1.ConditionFalse} {
			pr := createPipelineRun(t, cl, ns, `
metadata:
  name: answer-`+answer+`
spec:
  managedBy: colo.dev/pod
  params:
  - name: answer
    value: "`+answer+`"
  pipelineRef:
    name: checks`)
			got := waitForPipelineRun(t, cl, pr, 2*time.Minute, runDone)
			cond := got.Status.GetCondition()
			if cond.Status != want {
				t.Errorf("answer %s: condition %s %s (%s), want %s", answer, cond.Status, cond.Reason, cond.Message, want)
			}
			tr := &v1.TaskRun{}
			fatalIf(t, cl.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: pr.Name + "-check"}, tr))
			if c := tr.Status.GetCondition(); want == corev1.ConditionFalse && (c == nil || c.Reason != "StepFailed") {
				t.Errorf("answer %s: TaskRun condition %+v, want reason StepFailed", answer, c)
			}
		}
	})

	t.Run("a managed TaskRun runs to Succeeded", func(t *testing.T) {
		ns := c.Namespace(t)
		tr := &v1.TaskRun{}
		decodeYAML(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: single
spec:
  managedBy: colo.dev/pod
  taskSpec:
    results:
    - name: out
    steps:
    - name: write
      image: alpine
      script: echo -n done > $(results.out.path)`, tr)
		tr.Namespace = ns
		fatalIf(t, cl.Create(t.Context(), tr))
		got := &v1.TaskRun{}
		pollUntil(t, 2*time.Minute, "TaskRun single to finish", func() bool {
			fatalIf(t, cl.Get(t.Context(), client.ObjectKeyFromObject(tr), got))
			c := got.Status.GetCondition()
			return c != nil && runDone(c)
		})
		cond := got.Status.GetCondition()
		if cond.Status != corev1.ConditionTrue {
			t.Errorf("condition %s %s: %s", cond.Status, cond.Reason, cond.Message)
		}
		if len(got.Status.Results) != 1 || got.Status.Results[0].Value.StringVal != "done" {
			t.Errorf("results %+v, want out=done", got.Status.Results)
		}
		if got.Status.PodName != "single-colo" {
			t.Errorf("podName %q, want single-colo", got.Status.PodName)
		}
	})
}

func newClient(t *testing.T, c *testcluster.Cluster) client.Client {
	t.Helper()
	scheme, err := controller.NewScheme()
	fatalIf(t, err)
	cl, err := client.New(c.Config, client.Options{Scheme: scheme})
	fatalIf(t, err)
	return cl
}

// installColo applies config/crd and config/, adapted to the test cluster,
// waits for the controller to run, and removes the controller (not the
// kinds) when the test ends.
//
// The test cluster has no kube-proxy and its API server listens on the
// node's loopback only, so the controller runs in the node's network
// namespace and is pointed at that loopback; Pod Security must allow
// that. Metrics and probes are off: they would listen on the node.
func installColo(t *testing.T, c *testcluster.Cluster, cl client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	kubectl := kubectlFor(t, c)
	root := moduleRoot(t)

	kubectl(nil, "apply", "-k", filepath.Join(root, "config", "crd"))
	for _, crd := range []string{"pipelineruns", "taskruns", "pipelines", "tasks", "stepactions"} {
		kubectl(nil, "wait", "--for=condition=Established", "--timeout=60s", "crd/"+crd+".tekton.dev")
	}

	slices := &discoveryv1.EndpointSliceList{}
	fatalIf(t, cl.List(ctx, slices, client.InNamespace("default"), client.MatchingLabels{discoveryv1.LabelServiceName: "kubernetes"}))
	port := ""
	for _, s := range slices.Items {
		for _, p := range s.Ports {
			if p.Port != nil {
				port = fmt.Sprint(*p.Port)
			}
		}
	}
	if port == "" {
		t.Fatal("the kubernetes Service has no endpoint port")
	}

	// An earlier test's clean-up deletes colo-system without waiting:
	// nothing can be created in it until it is gone.
	for {
		ns := &corev1.Namespace{}
		err := cl.Get(ctx, client.ObjectKey{Name: "colo-system"}, ns)
		if err != nil || ns.DeletionTimestamp == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("namespace colo-system is still being deleted")
		case <-time.After(500 * time.Millisecond):
		}
	}

	manifests := kubectl(nil, "kustomize", filepath.Join(root, "config"))
	var out bytes.Buffer
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		switch u.GetKind() {
		case "Namespace":
			labels := u.GetLabels()
			labels["pod-security.kubernetes.io/enforce"] = "privileged"
			u.SetLabels(labels)
		case "Deployment":
			adaptDeployment(t, u, port)
		}
		b, err := yaml.Marshal(u.Object)
		fatalIf(t, err)
		out.WriteString("---\n")
		out.Write(b)
	}
	kubectl(out.Bytes(), "apply", "-f", "-")
	t.Cleanup(func() {
		kubectl(out.Bytes(), "delete", "--ignore-not-found", "--wait=false", "-f", "-")
	})
	// A rollout of the image the registry holds now.
	kubectl(nil, "-n", "colo-system", "rollout", "restart", "deployment/colo-controller")
	if _, err := runKubectl(c, nil, "-n", "colo-system", "rollout", "status", "--timeout=120s", "deployment/colo-controller"); err != nil {
		logs, _ := runKubectl(c, nil, "-n", "colo-system", "logs", "deployment/colo-controller", "--tail=50")
		t.Fatalf("the controller did not start (push a colo image with the controller: go run ./hack/cluster images): %v\n%s", err, logs)
	}
}

// adaptDeployment runs the controller on the node's network, talking to the
// API server at the node's loopback.
func adaptDeployment(t *testing.T, u *unstructured.Unstructured, apiPort string) {
	t.Helper()
	fatalIf(t, unstructured.SetNestedField(u.Object, true, "spec", "template", "spec", "hostNetwork"))
	// On the node's network two replicas' ports would clash: replace the
	// old Pod before starting the new.
	fatalIf(t, unstructured.SetNestedField(u.Object, map[string]any{"type": "Recreate"}, "spec", "strategy"))
	containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	for i := range containers {
		ctr := containers[i].(map[string]any)
		var args []any
		for _, a := range ctr["args"].([]any) {
			s := a.(string)
			if !strings.HasPrefix(s, "--metrics-bind-address") && !strings.HasPrefix(s, "--health-probe-bind-address") {
				args = append(args, s)
			}
		}
		ctr["args"] = append(args, "--metrics-bind-address=0", "--health-probe-bind-address=0", "--log-level=debug")
		if img := coloImage(); img != "" {
			ctr["image"] = img
			ctr["args"] = append(ctr["args"].([]any), "--image="+img)
		}
		delete(ctr, "ports")
		delete(ctr, "livenessProbe")
		delete(ctr, "readinessProbe")
		env, _ := ctr["env"].([]any)
		ctr["env"] = append(env,
			map[string]any{"name": "KUBERNETES_SERVICE_HOST", "value": "127.0.0.1"},
			map[string]any{"name": "KUBERNETES_SERVICE_PORT", "value": apiPort})
	}
	fatalIf(t, unstructured.SetNestedSlice(u.Object, containers, "spec", "template", "spec", "containers"))
}

// kubectlFor returns a function that runs the cluster's kubectl and fails
// the test when it fails.
func kubectlFor(t *testing.T, c *testcluster.Cluster) func(stdin []byte, args ...string) []byte {
	return func(stdin []byte, args ...string) []byte {
		t.Helper()
		out, err := runKubectl(c, stdin, args...)
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
}

func runKubectl(c *testcluster.Cluster, stdin []byte, args ...string) ([]byte, error) {
	bin := "kubectl"
	if dir, err := cluster.DefaultCacheDir(); err == nil {
		if p := (cluster.Binaries{CacheDir: dir}).Path("kubectl"); exists(p) {
			bin = p
		}
	}
	cmd := exec.Command(bin, append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return append(out, stderr.Bytes()...), err
	}
	return out, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	fatalIf(t, err)
	for !exists(filepath.Join(dir, "go.mod")) {
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
	return dir
}

func createPipelineRun(t *testing.T, cl client.Client, ns, doc string) *v1.PipelineRun {
	t.Helper()
	pr := &v1.PipelineRun{}
	decodeYAML(t, "apiVersion: tekton.dev/v1\nkind: PipelineRun"+doc, pr)
	pr.Namespace = ns
	fatalIf(t, cl.Create(t.Context(), pr))
	return pr
}

func decodeYAML(t *testing.T, doc string, into any) {
	t.Helper()
	if err := yaml.Unmarshal([]byte(doc), into); err != nil {
		t.Fatalf("decoding:\n%s\n%v", doc, err)
	}
}

func setSpecStatus(t *testing.T, cl client.Client, pr *v1.PipelineRun, s v1.PipelineRunSpecStatus) {
	t.Helper()
	patch := []byte(fmt.Sprintf(`{"spec":{"status":%q}}`, s))
	fatalIf(t, cl.Patch(t.Context(), pr.DeepCopy(), client.RawPatch("application/merge-patch+json", patch)))
}

func runDone(c *v1.Condition) bool { return c.Status != corev1.ConditionUnknown }

func waitForPipelineRun(t *testing.T, cl client.Client, pr *v1.PipelineRun, timeout time.Duration, ok func(*v1.Condition) bool) *v1.PipelineRun {
	t.Helper()
	got := &v1.PipelineRun{}
	pollUntil(t, timeout, "PipelineRun "+pr.Name, func() bool {
		fatalIf(t, cl.Get(t.Context(), client.ObjectKeyFromObject(pr), got))
		c := got.Status.GetCondition()
		return c != nil && ok(c)
	})
	return got
}

func waitForEvent(t *testing.T, cl client.Client, ns, name, reason string) {
	t.Helper()
	pollUntil(t, 30*time.Second, reason+" Event for "+name, func() bool {
		list := &eventsv1.EventList{}
		fatalIf(t, cl.List(t.Context(), list, client.InNamespace(ns)))
		for _, e := range list.Items {
			if e.Regarding.Name == name && e.Reason == reason {
				return true
			}
		}
		return false
	})
}

// pollUntil calls cond every 100 ms until it holds, failing the test after
// timeout.
func pollUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting %v for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func fatalIf(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
