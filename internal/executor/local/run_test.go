package local_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/executor/local"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/runstore"
	"github.com/colo-ci/colo/internal/sandbox"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// TestMain lets the test binary act as the sandbox supervisor, as the colo
// binary does.
func TestMain(m *testing.M) {
	if sandbox.IsSupervisor(os.Args) {
		os.Exit(sandbox.Main())
	}
	os.Exit(m.Run())
}

// lines collects what a run prints.
type lines struct {
	mu  sync.Mutex
	got []string
}

func (l *lines) Line(task, step, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, fmt.Sprintf("[%s : %s] %s", task, step, line))
}

func (l *lines) Status(engine.Status) {}

func (l *lines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string{}, l.got...)
}

// run loads yaml, runs its only run to the end and returns its status and
// printed lines.
func run(t *testing.T, yaml string, cancel <-chan v1.PipelineRunSpecStatus) (engine.Status, []string, string) {
	t.Helper()
	set, err := load.Bytes("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	var eng *engine.Engine
	var doc runstore.Document
	switch {
	case len(set.PipelineRuns) == 1:
		eng, err = engine.NewPipelineRun(set.PipelineRuns[0], set, engine.Options{})
		doc = runstore.Document{PipelineRun: set.PipelineRuns[0]}
	case len(set.TaskRuns) == 1:
		eng, err = engine.NewTaskRun(set.TaskRuns[0], set, engine.Options{})
		doc = runstore.Document{TaskRun: set.TaskRuns[0]}
	default:
		t.Fatalf("want one run in the fixture")
	}
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	root := runstore.DefaultRoot(t.TempDir())
	store, err := root.Create(doc)
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	defer store.Close()
	out := &lines{}
	ctx, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	st, err := local.Run(ctx, eng, local.Options{Objects: set, Store: store, Sink: out, Namespace: "default", Cancel: cancel})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return st, out.all(), store.Dir()
}

func condition(st engine.Status) v1.Condition {
	var c *v1.Condition
	if st.PipelineRun != nil {
		c = st.PipelineRun.GetCondition()
	} else if st.TaskRun != nil {
		c = st.TaskRun.GetCondition()
	}
	if c == nil {
		return v1.Condition{}
	}
	return v1.Condition{Type: c.Type, Status: c.Status, Reason: c.Reason}
}

func TestTaskRunStepsSeeTektonPaths(t *testing.T) {
	st, out, _ := run(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: paths
spec:
  params:
    - name: who
      value: colo
  taskSpec:
    params:
      - name: who
    results:
      - name: greeting
    steps:
      - name: write
        image: alpine
        workingDir: /a/path/too/far
        script: |
          [ "$PWD" = /a/path/too/far ]
          printf 'hello %s' "$(params.who)" > $(results.greeting.path)
          echo wrote
      - name: read
        image: bash
        script: |
          #!/usr/bin/env bash
          [[ -d /workspace && -d /tekton/home ]]
          echo "saw $(cat /tekton/results/greeting)"
`, nil)
	if diff := cmp.Diff(v1.Condition{Type: "Succeeded", Status: corev1.ConditionTrue, Reason: "Succeeded"}, condition(st)); diff != "" {
		t.Fatalf("condition (-want +got):\n%s\nlogs: %q", diff, out)
	}
	want := []string{"[paths : write] wrote", "[paths : read] saw hello colo"}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
	var got []v1.TaskRunResult
	got = st.TaskRun.Results
	if diff := cmp.Diff([]v1.TaskRunResult{{Name: "greeting", Type: "string", Value: v1.NewString("hello colo")}}, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

const isolationPipeline = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: iso
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
          - name: ws
        taskSpec:
          workspaces:
            - name: ws
          steps:
            - image: alpine
              script: |
                ls /workspace/ws
                cat /proc/sys/kernel/random/uuid > /workspace/ws/mine
                sleep 0.3
      - name: check
        runAfter: [write]
        workspaces:
          - name: ws
        taskSpec:
          workspaces:
            - name: ws
          steps:
            - image: alpine
              script: |
                cat /workspace/ws/mine
`

func TestConcurrentRunsDoNotShareWorkspaces(t *testing.T) {
	var wg sync.WaitGroup
	outs := make([][]string, 2)
	conds := make([]v1.Condition, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, out, _ := run(t, isolationPipeline, nil)
			outs[i], conds[i] = out, condition(st)
		}()
	}
	wg.Wait()
	for i := range 2 {
		if conds[i].Status != corev1.ConditionTrue {
			t.Fatalf("run %d: %+v, logs %q", i, conds[i], outs[i])
		}
		// The write task's ls saw an empty workspace: nothing of the
		// other run.
		for _, l := range outs[i] {
			if strings.HasPrefix(l, "[write") {
				t.Errorf("run %d saw files in its fresh workspace: %q", i, l)
			}
		}
	}
	if outs[0][len(outs[0])-1] == outs[1][len(outs[1])-1] {
		t.Errorf("both runs read the same file: %q", outs[0])
	}
}

func TestGracefulCancelStopsStepAndRunsFinally(t *testing.T) {
	cancel := make(chan v1.PipelineRunSpecStatus, 1)
	go func() {
		time.Sleep(500 * time.Millisecond)
		cancel <- v1.PipelineRunSpecStatusCancelledRunFinally
	}()
	marker := fmt.Sprintf("sleep 1000.%d", time.Now().UnixNano()%100000)
	start := time.Now()
	st, out, _ := run(t, `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: cancel
spec:
  pipelineSpec:
    tasks:
      - name: long
        taskSpec:
          steps:
            - image: alpine
              script: |
                `+marker+`
    finally:
      - name: cleanup
        taskSpec:
          steps:
            - image: alpine
              script: echo cleaned up
`, cancel)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("cancel took %v", took)
	}
	if got := condition(st); got.Status != corev1.ConditionFalse || got.Reason != "Cancelled" {
		t.Errorf("condition = %+v, want False Cancelled", got)
	}
	if diff := cmp.Diff([]string{"[cleanup : unnamed-0] cleaned up"}, out); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
	if ps, _ := exec.Command("pgrep", "-f", marker).Output(); len(ps) > 0 {
		t.Errorf("step process outlived the run: pids %s", ps)
	}
}

func TestSecretsReachEnvAndVolumes(t *testing.T) {
	st, out, _ := run(t, `
apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  user: admin
  token: s3cr3t
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: secrets
spec:
  taskSpec:
    volumes:
      - name: creds
        secret:
          secretName: creds
    steps:
      - image: alpine
        env:
          - name: USER_NAME
            valueFrom:
              secretKeyRef:
                name: creds
                key: user
        volumeMounts:
          - name: creds
            mountPath: /etc/creds
        script: |
          echo "$USER_NAME $(cat /etc/creds/token)"
`, nil)
	if got := condition(st); got.Status != corev1.ConditionTrue {
		t.Fatalf("condition = %+v; logs %q", got, out)
	}
	if diff := cmp.Diff([]string{"[secrets : unnamed-0] admin s3cr3t"}, out); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
}

func TestStepLogsAreKept(t *testing.T) {
	_, _, dir := run(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: logs
spec:
  taskSpec:
    steps:
      - name: say
        image: alpine
        script: echo one; echo two >&2
`, nil)
	b, err := os.ReadFile(filepath.Join(dir, "logs", "logs", "0", "step-say.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Errorf("log = %q, want both lines", b)
	}
}

// A sidecar and a step see a workspace through their own volumeMounts of
// $(workspaces.w.volume), and a sidecar's exec probe runs with the
// sidecar's mounts and working directory, as in its container.
func TestSidecarsAndContainerMounts(t *testing.T) {
	st, out, _ := run(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: mounts
spec:
  workspaces:
    - name: ws
      emptyDir: {}
  taskSpec:
    workspaces:
      - name: ws
    sidecars:
      - name: server
        image: alpine
        workingDir: /shared
        volumeMounts:
          - name: $(workspaces.ws.volume)
            mountPath: /shared
        readinessProbe:
          exec:
            command: [sh, -c, "test -f ready"]
        script: |
          echo up > /shared/ready
          sleep 60
    steps:
      - name: direct
        image: alpine
        script: cat $(workspaces.ws.path)/ready
      - name: mounted
        image: alpine
        volumeMounts:
          - name: $(workspaces.ws.volume)
            mountPath: /elsewhere
        script: cat /elsewhere/ready
`, nil)
	if got := condition(st); got.Status != corev1.ConditionTrue {
		t.Fatalf("condition = %+v; logs %q", got, out)
	}
	want := []string{"[mounts : direct] up", "[mounts : mounted] up"}
	var got []string
	for _, l := range out {
		if !strings.Contains(l, "sidecar-") {
			got = append(got, l)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
}

// Steps that run as other users, by their securityContext or the pod
// template's, share the task's workspaces, volumes and results as
// containers of one Pod do.
func TestStepsAsOtherUsersShareTheirDirectories(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can run steps as other users")
	}
	st, out, _ := run(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: users
spec:
  podTemplate:
    securityContext:
      runAsUser: 1001
  workspaces:
    - name: ws
      emptyDir: {}
  taskSpec:
    workspaces:
      - name: ws
    results:
      - name: r
    volumes:
      - name: scratch
        emptyDir: {}
    steps:
      - name: pod-user
        image: alpine
        volumeMounts:
          - name: scratch
            mountPath: /scratch
        script: |
          echo "$(id -u)" > $(workspaces.ws.path)/f
          echo x > /scratch/f
          echo x > /workspace/f
          printf ok > $(results.r.path)
          id -u
      - name: own-user
        image: alpine
        securityContext:
          runAsUser: 2000
        script: |
          echo "$(id -u) read $(cat $(workspaces.ws.path)/f)"
      - name: home
        image: alpine
        securityContext:
          runAsUser: 54321
        script: |
          echo "HOME=$HOME"
`, nil)
	if got := condition(st); got.Status != corev1.ConditionTrue {
		t.Fatalf("condition = %+v; logs %q", got, out)
	}
	// 54321 has no entry in the passwd file: its HOME is "/", as a
	// container runtime sets it.
	want := []string{"[users : pod-user] 1001", "[users : own-user] 2000 read 1001", "[users : home] HOME=/"}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
}

// The Secrets a run's ServiceAccount lists become credential files in
// /tekton/creds and in each step's $HOME, as upstream's creds-init makes
// them, without touching the host's home directory.
func TestCredentialsFromTheServiceAccount(t *testing.T) {
	home, _ := os.UserHomeDir()
	_, hostHad := os.Stat(filepath.Join(home, ".git-credentials"))
	st, out, _ := run(t, `
apiVersion: v1
kind: Secret
type: kubernetes.io/basic-auth
metadata:
  name: git-login
  annotations:
    tekton.dev/git-0: https://git.example.com
stringData:
  username: ann
  password: s3cr3t
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
secrets:
- name: git-login
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: creds
spec:
  serviceAccountName: builder
  taskSpec:
    steps:
      - name: home
        image: alpine
        script: |
          cat $HOME/.git-credentials
          cat $(credentials.path)/.git-credentials
          test ! -e $HOME/.docker
`, nil)
	if got := condition(st); got.Status != corev1.ConditionTrue {
		t.Fatalf("condition = %+v; logs %q", got, out)
	}
	want := []string{"[creds : home] https://ann:s3cr3t@git.example.com", "[creds : home] https://ann:s3cr3t@git.example.com"}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(home, ".git-credentials")); os.IsNotExist(hostHad) && err == nil {
		t.Errorf("the run wrote %s on the host", filepath.Join(home, ".git-credentials"))
	}
}

// The step after a running one is handed to the sandbox ahead, to start
// the moment the running one exits 0 (see engine.StartStep.Next). It must
// still run only when upstream would run it.
func TestStepsStartedAheadRunOnlyWhenDue(t *testing.T) {
	tests := []struct {
		name    string
		first   string // the first step's script and fields
		cancel  bool
		wantRan bool
		code    string // the first step's exit code, as the second reads it
		want    v1.Condition
	}{
		{name: "after a step that exits 0", first: "script: exit 0", wantRan: true, code: "0", want: v1.Condition{Type: "Succeeded", Status: corev1.ConditionTrue, Reason: "Succeeded"}},
		{name: "not after a step that fails", first: "script: sleep 0.2; exit 1", want: v1.Condition{Type: "Succeeded", Status: corev1.ConditionFalse, Reason: "StepFailed"}},
		{name: "after a failure that is allowed", first: "{onError: continue, script: exit 3}", wantRan: true, code: "3", want: v1.Condition{Type: "Succeeded", Status: corev1.ConditionTrue, Reason: "Succeeded"}},
		{name: "not after a step that times out", first: "{timeout: 200ms, script: sleep 5}", want: v1.Condition{Type: "Succeeded", Status: corev1.ConditionFalse, Reason: "StepFailed"}},
		{name: "not after a cancelled step", first: "script: sleep 5", cancel: true, want: v1.Condition{Type: "Succeeded", Status: corev1.ConditionFalse, Reason: "TaskRunCancelled"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			marks := t.TempDir()
			var cancel chan v1.PipelineRunSpecStatus
			if tc.cancel {
				cancel = make(chan v1.PipelineRunSpecStatus, 1)
				go func() {
					time.Sleep(500 * time.Millisecond)
					cancel <- v1.PipelineRunSpecStatusCancelled
				}()
			}
			first := strings.TrimPrefix(tc.first, "{")
			first = strings.TrimSuffix(first, "}")
			st, out, dir := run(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: ahead
spec:
  taskSpec:
    steps:
      - {name: first, image: alpine, `+first+`}
      - name: second
        image: alpine
        script: ": > `+marks+`/second; echo second ran after $(cat /tekton/steps/step-first/exitCode)"
`, cancel)
			if got := condition(st); got != tc.want {
				t.Errorf("condition = %+v, want %+v; logs %q", got, tc.want, out)
			}
			_, err := os.Stat(filepath.Join(marks, "second"))
			if ran := err == nil; ran != tc.wantRan {
				t.Errorf("second step ran: %v, want %v", ran, tc.wantRan)
			}
			wantOut := []string{}
			if tc.wantRan {
				wantOut = []string{"[ahead : second] second ran after " + tc.code}
			}
			out = append([]string{}, out...)
			if diff := cmp.Diff(wantOut, out); diff != "" {
				t.Errorf("logs (-want +got):\n%s", diff)
			}
			_, err = os.Stat(filepath.Join(dir, "logs", "ahead", "0", "step-second.log"))
			if kept := err == nil; kept != tc.wantRan {
				t.Errorf("second step's log kept: %v, want %v", kept, tc.wantRan)
			}
		})
	}
}

// A step whose image is busybox-based has busybox's sh, which takes
// `[ a == b ]`, whether all of the task's images have it (one mount for the
// attempt) or only some (one for each such step); the others keep the
// machine's.
func TestStepShellFollowsItsImage(t *testing.T) {
	if _, err := exec.LookPath("busybox"); err != nil {
		t.Skip("no busybox on this machine")
	}
	sh, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(sh) == "busybox" || filepath.Base(sh) == "bash" {
		t.Skipf("this machine's sh (%s) takes == too", sh)
	}
	tests := []struct {
		name   string
		images []string
		want   []string
	}{
		{name: "all busybox-based", images: []string{"alpine", "busybox:1.36", "alpine"}, want: []string{"s0 busybox", "s1 busybox", "s2 busybox"}},
		{name: "mixed", images: []string{"alpine", "ubuntu", "alpine:3"}, want: []string{"s0 busybox", "s1 other", "s2 busybox"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var steps strings.Builder
			for i, image := range tc.images {
				fmt.Fprintf(&steps, "      - {name: s%d, image: %q, script: 'if [ a == a ] 2>/dev/null; then echo s%d busybox; else echo s%d other; fi'}\n", i, image, i, i)
			}
			st, out, _ := run(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: shells
spec:
  taskSpec:
    steps:
`+steps.String(), nil)
			if got := condition(st); got.Status != corev1.ConditionTrue {
				t.Fatalf("condition = %+v; logs %q", got, out)
			}
			var got []string
			for _, l := range out {
				_, line, _ := strings.Cut(l, "] ")
				got = append(got, line)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("shells (-want +got):\n%s", diff)
			}
		})
	}
}
