package orchestrator_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/cli"
	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/orchestrator"
	"github.com/colo-ci/colo/internal/orchestrator/localpod"
	"github.com/colo-ci/colo/internal/podspec"
	"github.com/colo-ci/colo/internal/runstore"
	"github.com/colo-ci/colo/internal/sandbox"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// TestMain lets the test binary be colo: the sandbox's supervisor, and
// what colo's containers run (colo step, colo orchestrate).
func TestMain(m *testing.M) {
	if sandbox.IsSupervisor(os.Args) {
		os.Exit(sandbox.Main())
	}
	if len(os.Args) > 1 && (os.Args[1] == "step" || os.Args[1] == "orchestrate") {
		cli.Main()
	}
	os.Exit(m.Run())
}

// podRun is a run compiled into a Pod and played on this machine.
type podRun struct {
	pod    *corev1.Pod
	result *localpod.Result
	doc    runstore.Document
	took   time.Duration
}

// runInPod compiles the only run in doc and runs its Pod with real
// processes: an orchestrator and a step runner per container, over
// directories laid out as the Pod's volumes.
func runInPod(t *testing.T, doc string, opts podspec.Options) *podRun {
	t.Helper()
	l := load.Loader{Namer: load.NewNamer(rand.NewPCG(1, 2))}
	set, err := l.Bytes(t.Name()+".yaml", []byte(doc))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	var run metav1.Object
	switch {
	case len(set.PipelineRuns) == 1:
		run = set.PipelineRuns[0]
	case len(set.TaskRuns) == 1:
		run = set.TaskRuns[0]
	default:
		t.Fatal("want one run")
	}
	pod, err := podspec.Compile(context.Background(), run, set, opts)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := localpod.Run(ctx, pod, localpod.Options{Colo: self, Dir: t.TempDir(), Objects: set})
	took := time.Since(start)
	if err != nil {
		logs(t, res)
		t.Fatalf("run the Pod: %v", err)
	}
	st, err := orchestrator.ReadStatus(bytes.NewReader(res.Logs[podspec.OrchestratorContainer]))
	if err != nil {
		logs(t, res)
		t.Fatalf("ReadStatus: %v", err)
	}
	return &podRun{pod: pod, result: res, doc: st, took: took}
}

// logs shows every container's log, to debug a failing test.
func logs(t *testing.T, res *localpod.Result) {
	t.Helper()
	if res == nil {
		return
	}
	for name, b := range res.Logs {
		t.Logf("--- %s (exit %d)\n%s", name, res.Exit[name], b)
	}
}

// taskRun returns the TaskRun of a pipeline task.
func (r *podRun) taskRun(t *testing.T, pt string) *v1.TaskRun {
	t.Helper()
	for i := range r.doc.TaskRuns {
		tr := &r.doc.TaskRuns[i]
		if tr.Labels[runstore.LabelPipelineTask] == pt {
			return tr
		}
	}
	t.Fatalf("no TaskRun of %q in the status", pt)
	return nil
}

func (r *podRun) wantCondition(t *testing.T, status corev1.ConditionStatus, reason string) {
	t.Helper()
	c := r.doc.Condition()
	if c == nil || c.Status != status || c.Reason != reason {
		logs(t, r.result)
		t.Fatalf("run condition = %+v, want %s %s", c, status, reason)
	}
}

func taskCondition(t *testing.T, tr *v1.TaskRun) *v1.Condition {
	t.Helper()
	c := tr.Status.GetCondition()
	if c == nil {
		t.Fatalf("TaskRun %s has no condition", tr.Name)
	}
	return c
}

// allExited checks that every container ended, and the orchestrator with
// the run's outcome.
func (r *podRun) allExited(t *testing.T, wantOrchestrator int) {
	t.Helper()
	for _, c := range r.pod.Spec.Containers {
		code, ok := r.result.Exit[c.Name]
		want := 0
		if c.Name == podspec.OrchestratorContainer {
			want = wantOrchestrator
		}
		if !ok || code != want {
			logs(t, r.result)
			t.Fatalf("container %s exited with %d (ran: %v), want %d", c.Name, code, ok, want)
		}
	}
}

const diamond = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: diamond
spec:
  workspaces:
    - name: shared
      volumeClaimTemplate:
        spec:
          resources:
            requests:
              storage: 1Mi
  pipelineSpec:
    workspaces:
      - name: shared
    tasks:
      - name: a
        workspaces: [{name: w, workspace: shared}]
        taskSpec:
          workspaces: [{name: w}]
          results: [{name: word}]
          steps:
            - name: write
              image: busybox
              script: |
                echo from-a > $(workspaces.w.path)/a.txt
                printf hello > $(results.word.path)
      - name: b
        runAfter: [a]
        workspaces: [{name: w, workspace: shared}]
        taskSpec:
          workspaces: [{name: w}]
          steps:
            - name: work
              image: busybox
              script: |
                date +%s%N > $(workspaces.w.path)/b.start
                sleep 0.6
                date +%s%N > $(workspaces.w.path)/b.end
      - name: c
        runAfter: [a]
        workspaces: [{name: w, workspace: shared}]
        taskSpec:
          workspaces: [{name: w}]
          steps:
            - name: work
              image: busybox
              script: |
                date +%s%N > $(workspaces.w.path)/c.start
                sleep 0.6
                date +%s%N > $(workspaces.w.path)/c.end
      - name: d
        runAfter: [b, c]
        params:
          - name: word
            value: $(tasks.a.results.word)
        workspaces: [{name: w, workspace: shared}]
        taskSpec:
          params: [{name: word}]
          workspaces: [{name: w}]
          results: [{name: seen}]
          steps:
            - name: read
              image: busybox
              script: |
                cd $(workspaces.w.path)
                for f in b c; do
                  other=b; [ $f = b ] && other=c
                  # Each middle task started before the other ended.
                  [ $(cat $f.start) -lt $(cat $other.end) ] || { echo "$f did not overlap $other"; exit 1; }
                done
                printf '%s %s' "$(cat a.txt)" "$(params.word)" > $(results.seen.path)
`

func TestDiamondInOnePod(t *testing.T) {
	r := runInPod(t, diamond, podspec.Options{})
	r.wantCondition(t, corev1.ConditionTrue, "Succeeded")
	d := r.taskRun(t, "d")
	if got := d.Status.Results; len(got) != 1 || got[0].Value.StringVal != "from-a hello" {
		t.Errorf("d's results = %+v, want seen=%q", got, "from-a hello")
	}
	r.allExited(t, 0)
	t.Logf("the diamond took %v", r.took)
}

const skipAndFinally = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: skip-finally
spec:
  params:
    - name: go
      value: "no"
  pipelineSpec:
    params:
      - name: go
    tasks:
      - name: first
        taskSpec:
          steps:
            - name: ok
              image: busybox
              script: echo first
      - name: guarded
        runAfter: [first]
        when:
          - input: $(params.go)
            operator: in
            values: ["yes"]
        taskSpec:
          steps:
            - name: never
              image: busybox
              script: |
                echo this must not run
                exit 1
            - name: never-either
              image: busybox
              script: exit 1
    finally:
      - name: report
        params:
          - name: overall
            value: $(tasks.status)
          - name: guarded
            value: $(tasks.guarded.status)
        taskSpec:
          params: [{name: overall}, {name: guarded}]
          results: [{name: summary}]
          steps:
            - name: tell
              image: busybox
              script: printf '%s/%s' "$(params.overall)" "$(params.guarded)" > $(results.summary.path)
`

func TestWhenSkipsAndFinallyReadsStatus(t *testing.T) {
	r := runInPod(t, skipAndFinally, podspec.Options{})
	r.wantCondition(t, corev1.ConditionTrue, "Completed")
	if n := len(r.doc.PipelineRun.Status.SkippedTasks); n != 1 || r.doc.PipelineRun.Status.SkippedTasks[0].Name != "guarded" {
		t.Errorf("skipped tasks = %+v, want guarded", r.doc.PipelineRun.Status.SkippedTasks)
	}
	report := r.taskRun(t, "report")
	if got := report.Status.Results; len(got) != 1 || got[0].Value.StringVal != "Completed/None" {
		t.Errorf("report's results = %+v, want Completed/None", got)
	}
	// The skipped task's containers never ran a step and exited.
	for _, c := range []string{"guarded-never", "guarded-never-either"} {
		if log := string(r.result.Logs[c]); strings.Contains(log, "must not run") {
			t.Errorf("%s ran: %s", c, log)
		}
	}
	r.allExited(t, 0)
}

const retry = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: retry
spec:
  pipelineSpec:
    tasks:
      - name: flaky
        retries: 2
        taskSpec:
          results: [{name: attempt}]
          steps:
            - name: try
              image: busybox
              script: |
                printf '$(context.task.retry-count)' > $(results.attempt.path)
                echo "attempt $(context.task.retry-count)"
                # Each attempt starts from fresh /tekton and /workspace.
                [ ! -e /workspace/left-over ] || { echo "stale files"; exit 2; }
                touch /workspace/left-over
                [ "$(context.task.retry-count)" = 1 ]
`

func TestRetrySucceedsOnSecondAttempt(t *testing.T) {
	r := runInPod(t, retry, podspec.Options{})
	r.wantCondition(t, corev1.ConditionTrue, "Succeeded")
	tr := r.taskRun(t, "flaky")
	if n := len(tr.Status.RetriesStatus); n != 1 {
		t.Fatalf("retriesStatus has %d entries, want 1", n)
	}
	if c := tr.Status.RetriesStatus[0].GetCondition(); c == nil || c.Reason != "StepFailed" {
		t.Errorf("first attempt's condition = %+v, want StepFailed", c)
	}
	if got := tr.Status.Results; len(got) != 1 || got[0].Value.StringVal != "1" {
		t.Errorf("results = %+v, want attempt=1", got)
	}
	log := string(r.result.Logs["flaky-try"])
	if !strings.Contains(log, "attempt 0") || !strings.Contains(log, "attempt 1") {
		t.Errorf("the step container's log does not show both attempts:\n%s", log)
	}
	r.allExited(t, 0)
}

const timeout = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: timeout
spec:
  pipelineSpec:
    tasks:
      - name: slow
        timeout: 1s
        taskSpec:
          steps:
            - name: sleep
              image: busybox
              script: |
                echo sleeping
                sleep 30
            - name: after
              image: busybox
              script: echo never
      - name: step-limit
        taskSpec:
          steps:
            - name: sleep
              image: busybox
              timeout: 500ms
              script: sleep 30
`

func TestTimeouts(t *testing.T) {
	r := runInPod(t, timeout, podspec.Options{})
	r.wantCondition(t, corev1.ConditionFalse, "Failed")
	slow := r.taskRun(t, "slow")
	if c := taskCondition(t, slow); c.Reason != "TaskRunTimeout" || !strings.Contains(c.Message, `failed to finish within "1s"`) {
		t.Errorf("slow: condition %+v, want TaskRunTimeout", c)
	}
	if st := slow.Status.Steps[0]; st.Terminated == nil || st.Terminated.Reason != "TaskRunTimeout" {
		t.Errorf("slow's first step = %+v, want terminated TaskRunTimeout", st)
	}
	limited := r.taskRun(t, "step-limit")
	if c := taskCondition(t, limited); c.Reason != "StepFailed" {
		t.Errorf("step-limit: condition %+v, want StepFailed", c)
	}
	if st := limited.Status.Steps[0]; st.TerminationReason != "TimeoutExceeded" {
		t.Errorf("step-limit's step = %+v, want TimeoutExceeded", st)
	}
	if r.took > 20*time.Second {
		t.Errorf("the run took %v: the sleeping steps were not stopped", r.took)
	}
	r.allExited(t, 1)
}

const bigResult = `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: big
spec:
  taskSpec:
    results: [{name: blob}]
    steps:
      - name: write
        image: busybox
        script: |
          head -c 1048576 /dev/zero | tr '\0' 'x' > $(results.blob.path)
`

func TestLargeResultReachesTheStatus(t *testing.T) {
	t.Run("limit raised", func(t *testing.T) {
		r := runInPod(t, bigResult, podspec.Options{Engine: engine.Options{MaxResultSize: 2 << 20}})
		r.wantCondition(t, corev1.ConditionTrue, "Succeeded")
		res := r.doc.TaskRun.Status.Results
		if len(res) != 1 || len(res[0].Value.StringVal) != 1<<20 || strings.Trim(res[0].Value.StringVal, "x") != "" {
			t.Fatalf("results: want one of 1 MiB of x, got %d results", len(res))
		}
		r.allExited(t, 0)
	})
	t.Run("default limit", func(t *testing.T) {
		r := runInPod(t, bigResult, podspec.Options{})
		r.wantCondition(t, corev1.ConditionFalse, "TaskRunResultLargerThanAllowedLimit")
		if c := r.doc.Condition(); !strings.Contains(c.Message, "exceeds the max allowed size of 4096 bytes") {
			t.Errorf("message %q does not say which limit", c.Message)
		}
		r.allExited(t, 1)
	})
}

// TestStatusFramesInTheLog checks the orchestrator's log as a reader
// follows it: progress frames while the run goes on, then one final frame,
// and nothing taken from a log cut short.
func TestStatusFramesInTheLog(t *testing.T) {
	r := runInPod(t, skipAndFinally, podspec.Options{})
	log := r.result.Logs[podspec.OrchestratorContainer]
	fr := orchestrator.NewReader(bytes.NewReader(log))
	var kinds []string
	for {
		f, err := fr.Next()
		if err != nil {
			break
		}
		kinds = append(kinds, f.Kind)
		if f.Document.Name() != "skip-finally" {
			t.Errorf("frame %d is about %q", f.Seq, f.Document.Name())
		}
	}
	if len(kinds) < 2 || kinds[len(kinds)-1] != orchestrator.KindFinal {
		t.Fatalf("frames = %v, want progress frames then a final one", kinds)
	}
	for _, k := range kinds[:len(kinds)-1] {
		if k != orchestrator.KindProgress {
			t.Errorf("frames = %v: a final frame before the end", kinds)
		}
	}
	// Cut anywhere inside the final frame, the log has no final status.
	end := bytes.LastIndex(log, []byte("COLO-STATUS-END"))
	begin := bytes.LastIndex(log, []byte("COLO-STATUS-BEGIN"))
	for _, cut := range []int{begin + 10, (begin + end) / 2, end - 1, end + 5} {
		_, err := orchestrator.ReadStatus(bytes.NewReader(log[:cut]))
		if !errors.Is(err, orchestrator.ErrNoStatus) {
			t.Errorf("log cut at %d of %d: err = %v, want ErrNoStatus", cut, len(log), err)
		}
	}
}

const sidecarAndSecrets = `
apiVersion: v1
kind: Secret
metadata:
  name: token
stringData:
  value: s3cret
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: with-sidecar
spec:
  taskSpec:
    results: [{name: got}, {name: through}]
    sidecars:
      - name: server
        image: busybox
        script: |
          sleep 0.3
          echo up > /workspace/server-ready
          sleep 60
        readinessProbe:
          exec:
            command: [test, -e, /workspace/server-ready]
    steps:
      - name: first
        image: busybox
        env:
          - name: TOKEN
            valueFrom:
              secretKeyRef: {name: token, key: value}
        results: [{name: word}]
        script: |
          # The sidecar was ready before the first step started.
          test -e /workspace/server-ready
          printf '%s' "$TOKEN" > $(results.got.path)
          printf 'relayed' > $(step.results.word.path)
      - name: second
        image: busybox
        env:
          - name: WORD
            value: $(steps.first.results.word)
        onError: continue
        script: |
          printf '%s' "$WORD" > $(results.through.path)
          exit 7
`

func TestSidecarSecretsAndStepResults(t *testing.T) {
	r := runInPod(t, sidecarAndSecrets, podspec.Options{})
	r.wantCondition(t, corev1.ConditionTrue, "Succeeded")
	got := map[string]string{}
	for _, res := range r.doc.TaskRun.Status.Results {
		got[res.Name] = res.Value.StringVal
	}
	if got["got"] != "s3cret" || got["through"] != "relayed" {
		t.Errorf("results = %v, want got=s3cret through=relayed", got)
	}
	second := r.doc.TaskRun.Status.Steps[1]
	if second.Terminated == nil || second.Terminated.ExitCode != 7 || second.TerminationReason != "Continued" {
		t.Errorf("second step = %+v, want exit code 7, Continued", second)
	}
	// The orchestrator never sees the Secret.
	for _, e := range r.pod.Spec.Containers[0].Env {
		if e.ValueFrom != nil {
			t.Errorf("the orchestrator gets %s from elsewhere", e.Name)
		}
	}
	r.allExited(t, 0)
}

const matrixAndCancel = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: fan
spec:
  params:
    - name: words
      value: [one, two, three]
  workspaces:
    - name: shared
      emptyDir: {}
  pipelineSpec:
    params:
      - name: words
        type: array
    workspaces:
      - name: shared
    tasks:
      - name: say
        workspaces: [{name: w, workspace: shared}]
        matrix:
          params:
            - name: word
              value: $(params.words[*])
        taskSpec:
          params: [{name: word}]
          workspaces: [{name: w}]
          results: [{name: echo}]
          steps:
            - name: echo
              image: busybox
              script: |
                touch $(workspaces.w.path)/$(params.word)
                # Wait until every combination runs: they run together.
                for i in $(seq 100); do
                  [ -e $(workspaces.w.path)/one ] && [ -e $(workspaces.w.path)/two ] && [ -e $(workspaces.w.path)/three ] && break
                  sleep 0.05
                done
                printf '%s' "$(params.word)" > $(results.echo.path)
      - name: long
        runAfter: [say]
        params:
          - name: all
            value: $(tasks.say.results.echo[*])
        taskSpec:
          params: [{name: all, type: array}]
          steps:
            - name: wait
              image: busybox
              args: ["$(params.all[*])"]
              script: |
                echo "$@" > /workspace/all
                echo waiting
                sleep 60
      - name: never
        runAfter: [long]
        taskSpec:
          steps: [{name: s, image: busybox, script: "echo never"}]
    finally:
      - name: cleanup
        taskSpec:
          steps: [{name: s, image: busybox, script: "echo cleaning up"}]
`

// TestMatrixThenGracefulCancel runs three matrix combinations together,
// then asks the run, through the orchestrator's cancel file, to stop while
// a task sleeps: the task is stopped, the next one never runs, finally
// does.
func TestMatrixThenGracefulCancel(t *testing.T) {
	// The test's own kubelet does not know when to cancel, so a goroutine
	// watches the orchestrator's state directory appear and writes the
	// cancel file once the long task says it waits.
	l := load.Loader{Namer: load.NewNamer(rand.NewPCG(1, 2))}
	set, err := l.Bytes("fan.yaml", []byte(matrixAndCancel))
	if err != nil {
		t.Fatal(err)
	}
	pod, err := podspec.Compile(context.Background(), set.PipelineRuns[0], set, podspec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	self, _ := os.Executable()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	go func() {
		// The long task's /workspace/all appears once it runs.
		for ctx.Err() == nil {
			matches, _ := filepath.Glob(filepath.Join(dir, "tekton-long", "workspace", "all"))
			if len(matches) > 0 {
				time.Sleep(100 * time.Millisecond)
				_ = os.WriteFile(filepath.Join(dir, "colo-state", orchestrator.CancelFile), []byte("CancelledRunFinally"), 0o644)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	start := time.Now()
	res, err := localpod.Run(ctx, pod, localpod.Options{Colo: self, Dir: dir, Objects: set})
	if err != nil {
		logs(t, res)
		t.Fatal(err)
	}
	r := &podRun{pod: pod, result: res, took: time.Since(start)}
	r.doc, err = orchestrator.ReadStatus(bytes.NewReader(res.Logs[podspec.OrchestratorContainer]))
	if err != nil {
		logs(t, res)
		t.Fatal(err)
	}
	r.wantCondition(t, corev1.ConditionFalse, "Cancelled")
	var says []string
	for _, tr := range r.doc.TaskRuns {
		if tr.Labels[runstore.LabelPipelineTask] == "say" {
			says = append(says, tr.Name)
			if c := taskCondition(t, &tr); c.Reason != "Succeeded" {
				t.Errorf("%s: %+v", tr.Name, c)
			}
		}
	}
	if len(says) != 3 {
		t.Errorf("matrix TaskRuns = %v, want 3", says)
	}
	all, _ := os.ReadFile(filepath.Join(dir, "tekton-long", "workspace", "all"))
	if got := strings.TrimSpace(string(all)); got != "one two three" {
		t.Errorf("long got %q, want the matrix results in order", got)
	}
	if c := taskCondition(t, r.taskRun(t, "long")); c.Reason != "TaskRunCancelled" {
		t.Errorf("long: %+v, want TaskRunCancelled", c)
	}
	if c := taskCondition(t, r.taskRun(t, "cleanup")); c.Reason != "Succeeded" {
		t.Errorf("cleanup: %+v, want Succeeded", c)
	}
	for _, tr := range r.doc.TaskRuns {
		if tr.Labels[runstore.LabelPipelineTask] == "never" {
			t.Error("never ran")
		}
	}
	if r.took > 30*time.Second {
		t.Errorf("took %v: the sleeping step was not stopped", r.took)
	}
	r.allExited(t, 1)
}

const imageEntrypoint = `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: entry
spec:
  taskSpec:
    steps:
      - name: tool
        image: example.com/tool:1
        args: [with, args]
`

// TestStepRunsItsImageEntrypoint: a step with neither command nor script
// runs the ENTRYPOINT the compiler looked up, with the step's args.
func TestStepRunsItsImageEntrypoint(t *testing.T) {
	remote := registryWith(t, map[string][]string{"example.com/tool:1": {"/bin/echo", "entrypoint"}})
	r := runInPod(t, imageEntrypoint, podspec.Options{Remote: remote})
	r.wantCondition(t, corev1.ConditionTrue, "Succeeded")
	if got := string(r.result.Logs["step-tool"]); got != "entrypoint with args\n" {
		t.Errorf("step log = %q", got)
	}
	r.allExited(t, 0)
}

// TestChainOverhead runs ten one-step tasks one after another: in one Pod
// a task's turn comes in milliseconds, not the seconds a Pod per task
// costs.
func TestChainOverhead(t *testing.T) {
	var b strings.Builder
	b.WriteString(`
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: chain
spec:
  pipelineSpec:
    tasks:
`)
	for i := 0; i < 10; i++ {
		b.WriteString("      - name: t" + strconv.Itoa(i) + "\n")
		if i > 0 {
			b.WriteString("        runAfter: [t" + strconv.Itoa(i-1) + "]\n")
		}
		b.WriteString("        taskSpec:\n          steps: [{name: s, image: busybox, script: \"echo " + strconv.Itoa(i) + "\"}]\n")
	}
	r := runInPod(t, b.String(), podspec.Options{})
	r.wantCondition(t, corev1.ConditionTrue, "Succeeded")
	st, end := r.doc.Times()
	t.Logf("10 chained tasks: %v from the run's start to its end, %v for the whole Pod", end.Sub(st), r.took)
	if d := end.Sub(st); d > 10*time.Second {
		t.Errorf("10 chained one-line tasks took %v", d)
	}
	r.allExited(t, 0)
}
