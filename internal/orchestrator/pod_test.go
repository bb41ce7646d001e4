package orchestrator_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
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
