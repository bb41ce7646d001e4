//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/runstore"
	"github.com/colo-ci/colo/internal/testcluster"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// The Pod mode tests run the colo binary, `colo run --on pod`, against the
// test cluster. The Pod runs the colo image from the cluster's registry:
// after changing colo, push it with `go run ./hack/cluster images`.

func TestPodModeDiamond(t *testing.T) {
	const doc = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: diamond
spec:
  pipelineSpec:
    tasks:
      - name: top
        taskSpec:
          steps:
            - image: busybox
              script: echo top
      - name: left
        runAfter: [top]
        taskSpec:
          steps:
            - image: busybox
              script: sleep 4; echo left
      - name: right
        runAfter: [top]
        taskSpec:
          steps:
            - image: busybox
              script: sleep 4; echo right
      - name: bottom
        runAfter: [left, right]
        taskSpec:
          steps:
            - name: last
              image: busybox
              script: echo bottom
`
	res := runOnPod(t, doc)
	if res.code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", res.code, res.out)
	}
	if want := "[bottom : last] bottom"; !strings.Contains(res.out, want) {
		t.Errorf("output has no line %q:\n%s", want, res.out)
	}
	left, right := podModeTask(t, res.doc, "left"), podModeTask(t, res.doc, "right")
	for _, tr := range []*v1.TaskRun{left, right} {
		if tr.Status.StartTime == nil || tr.Status.CompletionTime == nil {
			t.Fatalf("TaskRun %s has no start or completion time: %+v", tr.Name, tr.Status)
		}
	}
	if !left.Status.StartTime.Before(right.Status.CompletionTime) || !right.Status.StartTime.Before(left.Status.CompletionTime) {
		t.Errorf("left (%s to %s) and right (%s to %s) did not overlap",
			left.Status.StartTime, left.Status.CompletionTime, right.Status.StartTime, right.Status.CompletionTime)
	}
	got := map[string]string{}
	for _, tr := range res.doc.AllTaskRuns() {
		got[tr.Labels[runstore.LabelPipelineTask]] = podModeReason(tr.Status.Conditions)
	}
	want := map[string]string{"top": "Succeeded", "left": "Succeeded", "right": "Succeeded", "bottom": "Succeeded"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("task reasons (-want +got):\n%s", diff)
	}
}

func TestPodModeSharedWorkspace(t *testing.T) {
	const doc = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  generateName: shared-
spec:
  workspaces:
    - name: ws
      emptyDir: {}
  pipelineSpec:
    workspaces:
      - name: ws
    tasks:
      - name: write
        workspaces:
          - name: out
            workspace: ws
        taskSpec:
          workspaces:
            - name: out
          steps:
            - image: busybox
              script: echo hello from write > $(workspaces.out.path)/msg
      - name: read
        runAfter: [write]
        workspaces:
          - name: in
            workspace: ws
        taskSpec:
          workspaces:
            - name: in
          steps:
            - name: cat
              image: busybox
              script: cat $(workspaces.in.path)/msg
`
	res := runOnPod(t, doc)
	if res.code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", res.code, res.out)
	}
	if want := "[read : cat] hello from write"; !strings.Contains(res.out, want) {
		t.Errorf("output has no line %q:\n%s", want, res.out)
	}
	logs := podModeLog(t, res, "read", "step-cat")
	if diff := cmp.Diff("hello from write\n", logs); diff != "" {
		t.Errorf("log of read's step cat (-want +got):\n%s", diff)
	}
}

func TestPodModeWhenAndFinally(t *testing.T) {
	const doc = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: when-finally
spec:
  params:
    - name: go
      value: "no"
  pipelineSpec:
    params:
      - name: go
    tasks:
      - name: run
        taskSpec:
          steps:
            - image: busybox
              script: echo ran
      - name: skipped
        when:
          - input: $(params.go)
            operator: in
            values: ["yes"]
        taskSpec:
          steps:
            - image: busybox
              script: echo should not run
    finally:
      - name: report
        params:
          - name: st
            value: $(tasks.status)
        taskSpec:
          params:
            - name: st
          steps:
            - name: show
              image: busybox
              script: echo "status=$(params.st)"
`
	res := runOnPod(t, doc)
	if res.code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", res.code, res.out)
	}
	if want := "[report : show] status=Completed"; !strings.Contains(res.out, want) {
		t.Errorf("output has no line %q:\n%s", want, res.out)
	}
	if strings.Contains(res.out, "should not run") {
		t.Errorf("the skipped task ran:\n%s", res.out)
	}
	var skipped []string
	for _, s := range res.doc.PipelineRun.Status.SkippedTasks {
		skipped = append(skipped, s.Name)
	}
	if diff := cmp.Diff([]string{"skipped"}, skipped); diff != "" {
		t.Errorf("skipped tasks (-want +got):\n%s", diff)
	}
}

func TestPodModeInterrupt(t *testing.T) {
	const doc = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: interrupted
spec:
  pipelineSpec:
    tasks:
      - name: slow
        taskSpec:
          steps:
            - image: busybox
              script: echo started; sleep 120; echo never
    finally:
      - name: fin
        taskSpec:
          steps:
            - image: busybox
              script: echo finally ran
`
	r := startOnPod(t, doc)
	r.waitFor(t, "[slow : unnamed-0] started")
	if err := r.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	res := r.wait(t)
	if res.code != 130 {
		t.Errorf("exit code %d, want 130", res.code)
	}
	if want := "[fin : unnamed-0] finally ran"; !strings.Contains(res.out, want) {
		t.Errorf("output has no line %q", want)
	}
	if strings.Contains(res.out, "never") {
		t.Errorf("the slow task was not stopped")
	}
	if c := res.doc.Condition(); c == nil || c.Reason != "Cancelled" {
		t.Errorf("run condition = %+v, want reason Cancelled", c)
	}
}

// podModeResult is how one `colo run --on pod` ended.
type podModeResult struct {
	code   int
	out    string
	runDir string
	doc    runstore.Document
	ns     string        // the run's namespace
	took   time.Duration // from start to colo's exit
}

// runOnPod runs doc with `colo run --on pod` in a namespace of its own and
// reads the run's status.json.
func runOnPod(t *testing.T, doc string, args ...string) podModeResult {
	t.Helper()
	r := startOnPod(t, doc, args...)
	return r.wait(t)
}

// podModeRun is a `colo run --on pod` going on.
type podModeRun struct {
	c     *testcluster.Cluster
	ns    string
	runs  string
	cmd   *exec.Cmd
	out   *podModeBuffer
	start time.Time
	keep  bool // --keep: the Pod stays after the run
}

// startOnPod starts doc with `colo run --on pod` in a namespace of its own,
// with more flags of colo run in args.
func startOnPod(t *testing.T, doc string, args ...string) *podModeRun {
	t.Helper()
	c := testcluster.Start(t)
	ns := c.Namespace(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "run.yaml")
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &podModeRun{c: c, ns: ns, runs: filepath.Join(dir, "runs"), out: &podModeBuffer{}}
	args = append([]string{"run", "-f", file, "--on", "pod",
		"--kubeconfig", c.Kubeconfig, "--namespace", ns, "--run-dir", r.runs}, args...)
	for _, a := range args {
		r.keep = r.keep || a == "--keep"
	}
	if img := coloImage(); img != "" {
		args = append(args, "--image", img)
	}
	r.cmd = exec.CommandContext(t.Context(), podModeColo(t), args...)
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	r.start = time.Now()
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return r
}

// waitFor waits until the output holds s.
func (r *podModeRun) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(r.out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the output:\n%s", s, r.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wait waits for colo to end and reads the run's status.json.
func (r *podModeRun) wait(t *testing.T) podModeResult {
	t.Helper()
	err := r.cmd.Wait()
	res := podModeResult{out: r.out.String(), ns: r.ns, took: time.Since(r.start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("colo run: %v\n%s", err, res.out)
	}
	t.Logf("colo run --on pod (%s):\n%s", res.took.Round(time.Millisecond), res.out)
	entries, err := os.ReadDir(r.runs)
	if err != nil || len(entries) != 1 {
		t.Fatalf("want one run directory in %s: %v %v", r.runs, entries, err)
	}
	res.runDir = filepath.Join(r.runs, entries[0].Name())
	b, err := os.ReadFile(filepath.Join(res.runDir, "status.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res.doc); err != nil {
		t.Fatalf("status.json: %v", err)
	}
	if res.doc.PipelineRun == nil {
		t.Fatalf("status.json holds no PipelineRun:\n%s", b)
	}
	pods, err := r.c.Client.CoreV1().Pods(r.ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if !r.keep && p.DeletionTimestamp == nil {
			t.Errorf("pod %s was not deleted", p.Name)
		}
	}
	return res
}

// podModeBuffer is a buffer safe for concurrent use.
type podModeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *podModeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *podModeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// podModeColo builds the colo binary, with colo-kube beside it, once per
// test.
func podModeColo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "colo")
	cmd := exec.Command("go", "build", "-o", dir, "github.com/colo-ci/colo/cmd/colo", "github.com/colo-ci/colo/cmd/colo-kube")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// coloImage is the colo image the tests' Pods run when COLO_E2E_IMAGE names
// one (pushed with `go run ./hack/cluster images -colo-tag TAG` and named
// ghcr.io/colo-ci/colo:TAG); empty means colo's default image.
func coloImage() string {
	return os.Getenv("COLO_E2E_IMAGE")
}

// podModeTask returns the TaskRun of a pipeline task.
func podModeTask(t *testing.T, doc runstore.Document, task string) *v1.TaskRun {
	t.Helper()
	trs := doc.AllTaskRuns()
	for i := range trs {
		if trs[i].Labels[runstore.LabelPipelineTask] == task {
			return &trs[i]
		}
	}
	t.Fatalf("no TaskRun of pipeline task %s", task)
	return nil
}

func podModeReason(conds []v1.Condition) string {
	for _, c := range conds {
		if c.Type == "Succeeded" {
			return c.Reason
		}
	}
	return ""
}

// podModeLog returns a step's log as the run directory keeps it.
func podModeLog(t *testing.T, res podModeResult, task, container string) string {
	t.Helper()
	tr := podModeTask(t, res.doc, task)
	b, err := os.ReadFile(filepath.Join(res.runDir, runstore.LogsDir, tr.Name, "0", container+".log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
