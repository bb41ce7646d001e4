package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/colo-ci/colo/internal/sandbox"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// coloBin is the colo binary built for these tests.
var coloBin string

func TestMain(m *testing.M) {
	// Should a test run colo in-process, the sandbox it starts runs this
	// binary again as its supervisor.
	if sandbox.IsSupervisor(os.Args) {
		os.Exit(sandbox.Main())
	}
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "colo-cli-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		coloBin = filepath.Join(dir, "colo")
		// colo-kube beside it, as installed: colo hands it what talks to
		// a cluster.
		build := exec.Command("go", "build", "-o", dir, "github.com/colo-ci/colo/cmd/colo", "github.com/colo-ci/colo/cmd/colo-kube")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building colo:", err)
			return 1
		}
		return m.Run()
	}())
}

// result is what one colo command did.
type result struct {
	stdout, stderr string
	code           int
}

// colo runs the colo binary in dir and waits for it.
func colo(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(coloBin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("colo %v: %v", args, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// workdir makes a directory holding the given files.
func workdir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestInvalidInputStartsNothing(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		// want are strings stderr must hold, one per problem.
		want []string
	}{
		{
			name: "bad YAML",
			yaml: "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: x\nspec: [unclosed\n",
			want: []string{"run.yaml"},
		},
		{
			name: "unknown fields, all of them",
			yaml: `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: tr
spec:
  taskSpec:
    steps:
    - name: a
      image: busybox
      scritp: echo hi
  timout: 1m
`,
			want: []string{`spec.taskSpec.steps[0].scritp`, `spec.timout`},
		},
		{
			name: "undefined param",
			yaml: `
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: greet
spec:
  steps:
  - name: a
    image: busybox
    script: echo $(params.nope)
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: tr
spec:
  taskRef:
    name: greet
`,
			want: []string{`Task "greet": spec.steps[0].script`, `"nope"`},
		},
		{
			name: "cycle",
			yaml: `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: pr
spec:
  pipelineSpec:
    tasks:
    - name: a
      runAfter: [b]
      taskSpec:
        steps:
        - image: busybox
          script: "true"
    - name: b
      runAfter: [a]
      taskSpec:
        steps:
        - image: busybox
          script: "true"
`,
			want: []string{`cycle`},
		},
		{
			name: "one good run does not start when another is bad",
			yaml: `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: good
spec:
  taskSpec:
    steps:
    - image: busybox
      script: echo good
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: bad
spec:
  taskRef:
    name: missing
`,
			want: []string{`TaskRun "bad"`, `missing`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, command := range []string{"run", "validate"} {
				dir := workdir(t, map[string]string{"run.yaml": tc.yaml})
				res := colo(t, dir, command, "-f", "run.yaml")
				if res.code != 2 {
					t.Errorf("colo %s: exit code %d, want 2\nstdout:\n%s\nstderr:\n%s", command, res.code, res.stdout, res.stderr)
				}
				for _, w := range tc.want {
					if !strings.Contains(res.stderr, w) {
						t.Errorf("colo %s: stderr lacks %q:\n%s", command, w, res.stderr)
					}
				}
				if _, err := os.Stat(filepath.Join(dir, ".colo")); err == nil {
					t.Errorf("colo %s made .colo for invalid input", command)
				}
				if strings.Contains(res.stdout, "[") {
					t.Errorf("colo %s ran something:\n%s", command, res.stdout)
				}
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{name: "unknown command", args: []string{"frobnicate"}},
		{name: "unknown flag", args: []string{"run", "--frob"}},
		{name: "run without files", args: []string{"run"}},
		{name: "params without a pipeline", args: []string{"run", "-f", "x.yaml", "-p", "a=b"}},
		{name: "missing file", args: []string{"run", "-f", "missing.yaml"}},
		{name: "logs of a missing run", args: []string{"logs", "nope"}},
		{name: "conformance on an unknown mode", args: []string{"conformance", "--on", "cloud", "."}},
		{name: "conformance on a cluster without a kubeconfig", args: []string{"conformance", "--on", "pod", "--kubeconfig", "missing-kubeconfig", "."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := colo(t, t.TempDir(), tc.args...)
			if res.code != 2 {
				t.Errorf("exit code %d, want 2\nstderr:\n%s", res.code, res.stderr)
			}
			if res.stderr == "" {
				t.Error("nothing on stderr")
			}
		})
	}
}

const taskRunYAML = `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: hello
spec:
  params:
  - name: who
    value: world
  taskSpec:
    params:
    - name: who
    results:
    - name: greeting
    steps:
    - name: echo
      image: busybox
      script: |
        echo "hello $(params.who)"
        printf "hi" > $(results.greeting.path)
    - name: second
      image: busybox
      script: echo "second step"
`

func TestRunTaskRunThenInspect(t *testing.T) {
	dir := workdir(t, map[string]string{"tr.yaml": taskRunYAML})
	res := colo(t, dir, "run", "-f", "tr.yaml")
	if res.code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{"[hello : echo] hello world\n", "[hello : second] second step\n", "TaskRun hello Succeeded"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("run output lacks %q:\n%s", want, res.stdout)
		}
	}
	if i, j := strings.Index(res.stdout, "[hello : echo]"), strings.Index(res.stdout, "[hello : second]"); i > j {
		t.Errorf("steps out of order:\n%s", res.stdout)
	}

	status := filepath.Join(dir, ".colo", "runs", "hello", "status.json")
	var doc struct {
		Kind   string `json:"kind"`
		Status struct {
			Conditions []struct{ Status, Reason string } `json:"conditions"`
			Results    []struct{ Name, Value string }    `json:"results"`
		} `json:"status"`
	}
	b, err := os.ReadFile(status)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Kind != "TaskRun" || len(doc.Status.Conditions) != 1 || doc.Status.Conditions[0].Status != "True" {
		t.Errorf("status.json: %s", b)
	}
	if diff := cmp.Diff([]struct{ Name, Value string }{{"greeting", "hi"}}, doc.Status.Results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, ".colo", "runs", "hello", "logs", "hello", "0", "step-echo.log")); err != nil {
		t.Errorf("step log: %v", err)
	}

	logs := colo(t, dir, "logs", "hello")
	if want := "[hello : echo] hello world\n[hello : second] second step\n"; logs.code != 0 || logs.stdout != want {
		t.Errorf("logs: exit %d\n%s\nwant:\n%s\nstderr: %s", logs.code, logs.stdout, want, logs.stderr)
	}
	follow := colo(t, dir, "logs", "-f", "hello")
	if follow.code != 0 || follow.stdout != logs.stdout {
		t.Errorf("logs -f of a finished run: exit %d\n%s", follow.code, follow.stdout)
	}

	desc := colo(t, dir, "describe", "hello")
	for _, want := range []string{"Name:", "hello", "Status:", "Succeeded", "Duration:", "Steps:", "echo", "Results:", "greeting", "hi"} {
		if !strings.Contains(desc.stdout, want) {
			t.Errorf("describe lacks %q:\n%s", want, desc.stdout)
		}
	}

	list := colo(t, dir, "list")
	lines := strings.Split(strings.TrimSpace(list.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "hello") || !strings.Contains(lines[1], "Succeeded") {
		t.Errorf("list:\n%s", list.stdout)
	}
}

const pipelineYAML = `
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: build
spec:
  params:
  - name: words
    type: array
  - name: greeting
    default: hello
  workspaces:
  - name: out
  tasks:
  - name: first
    params:
    - name: words
      value: ["$(params.words[*])"]
    taskSpec:
      params:
      - name: words
        type: array
      results:
      - name: count
      steps:
      - name: count
        image: busybox
        args: ["$(params.words[*])"]
        script: |
          #!/bin/sh
          echo "words: $@"
          printf "%s" "$#" > $(results.count.path)
  - name: second
    params:
    - name: count
      value: $(tasks.first.results.count)
    workspaces:
    - name: out
      workspace: out
    taskSpec:
      params:
      - name: count
      workspaces:
      - name: out
      steps:
      - name: write
        image: busybox
        script: |
          echo "$(params.count) words"
          echo "$(params.count)" > $(workspaces.out.path)/count.txt
  - name: skipped
    when:
    - input: "$(params.greeting)"
      operator: in
      values: ["never"]
    taskSpec:
      steps:
      - image: busybox
        script: echo never
  finally:
  - name: report
    taskSpec:
      steps:
      - name: done
        image: busybox
        script: echo "all done"
`

func TestStartPipelineWithParamsAndHostWorkspace(t *testing.T) {
	dir := workdir(t, map[string]string{"pipeline.yaml": pipelineYAML})
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	res := colo(t, dir, "run", "-f", "pipeline.yaml", "--pipeline", "build", "-p", "words=a,b,c", "-w", "out=out")
	if res.code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{
		"[first : count] words: a b c\n",
		"[second : write] 3 words\n",
		"[report : done] all done\n",
		"PipelineRun build-run-",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "count.txt"))
	if err != nil || string(b) != "3\n" {
		t.Errorf("host workspace file: %q, %v; want \"3\\n\"", b, err)
	}

	list := colo(t, dir, "list")
	lines := strings.Split(strings.TrimSpace(list.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("list:\n%s", list.stdout)
	}
	name := strings.Fields(lines[1])[0]
	if !strings.HasPrefix(name, "build-run-") || !strings.Contains(lines[1], "Completed") {
		t.Errorf("list:\n%s", list.stdout)
	}

	desc := colo(t, dir, "describe", name)
	for _, want := range []string{"Pipeline:", "build", "Completed", "first", "second", "report (finally)", "Skipped tasks:", "skipped", "When Expressions evaluated to false"} {
		if !strings.Contains(desc.stdout, want) {
			t.Errorf("describe lacks %q:\n%s", want, desc.stdout)
		}
	}

	logs := colo(t, dir, "logs", name, "-t", "second")
	if logs.stdout != "[second : write] 3 words\n" {
		t.Errorf("logs -t second:\n%s\nstderr: %s", logs.stdout, logs.stderr)
	}
	all := colo(t, dir, "logs")
	if !strings.HasPrefix(all.stdout, "[first : count]") || !strings.HasSuffix(all.stdout, "[report : done] all done\n") {
		t.Errorf("logs of the newest run:\n%s", all.stdout)
	}
}

func TestRunFailureExitsOne(t *testing.T) {
	dir := workdir(t, map[string]string{"fail.yaml": `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: failing
spec:
  pipelineSpec:
    tasks:
    - name: boom
      taskSpec:
        steps:
        - name: exit
          image: busybox
          script: |
            echo "about to fail"
            exit 3
`})
	res := colo(t, dir, "run", "-f", "fail.yaml", "--run-dir", "runs")
	if res.code != 1 {
		t.Fatalf("exit code %d, want 1\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "[boom : exit] about to fail") || !strings.Contains(res.stdout, "PipelineRun failing Failed") {
		t.Errorf("output:\n%s", res.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs", "failing", "status.json")); err != nil {
		t.Errorf("--run-dir: %v", err)
	}
	list := colo(t, dir, "list", "--run-dir", "runs")
	if !strings.Contains(list.stdout, "failing") || !strings.Contains(list.stdout, "Failed") {
		t.Errorf("list --run-dir:\n%s", list.stdout)
	}
}

func TestOutputJSON(t *testing.T) {
	dir := workdir(t, map[string]string{"tr.yaml": taskRunYAML})
	res := colo(t, dir, "run", "-f", "tr.yaml", "-o", "json")
	if res.code != 0 {
		t.Fatalf("exit code %d\nstderr:\n%s", res.code, res.stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, res.stdout)
	}
	written, err := os.ReadFile(filepath.Join(dir, ".colo", "runs", "hello", "status.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(written, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("-o json differs from status.json (-file +stdout):\n%s", diff)
	}
}

func TestInterruptRunsFinallyAndExits130(t *testing.T) {
	// A sleep no other process on the machine runs, to look for after.
	nap := fmt.Sprintf("sleep 1000.%d", time.Now().UnixNano()%1000000)
	dir := workdir(t, map[string]string{"slow.yaml": `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: slow
spec:
  pipelineSpec:
    tasks:
    - name: wait
      taskSpec:
        steps:
        - name: sleep
          image: busybox
          script: |
            echo "sleeping"
            ` + nap + `
    finally:
    - name: cleanup
      taskSpec:
        steps:
        - name: clean
          image: busybox
          script: echo "cleaning up"
`})
	cmd := exec.Command(coloBin, "run", "-f", "slow.yaml")
	cmd.Dir = dir
	var stdout, stderr syncWriter
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stdout.String(), "[wait : sleep] sleeping") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the step never started:\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want code 130\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s to stop", d)
	}
	if pids, _ := exec.Command("pgrep", "-f", nap).Output(); len(pids) > 0 {
		t.Errorf("the step's process outlived colo: pids %s", pids)
	}
	b, err := os.ReadFile(filepath.Join(dir, ".colo", "runs", "slow", "status.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Status v1.PipelineRunStatus `json:"status"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if c := doc.Status.GetCondition(); c == nil || c.Status != corev1.ConditionFalse || c.Reason != "Cancelled" {
		t.Errorf("status.json condition = %+v, want False Cancelled", c)
	}
	if !strings.Contains(stdout.String(), "[cleanup : clean] cleaning up") {
		t.Errorf("finally did not run after a graceful interrupt:\n%s", stdout.String())
	}
	desc := colo(t, dir, "describe", "slow")
	if !strings.Contains(desc.stdout, "Cancelled") {
		t.Errorf("describe after interrupt:\n%s", desc.stdout)
	}
}

// syncWriter is a buffer a process writes while the test reads it.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestTimeoutFlag(t *testing.T) {
	dir := workdir(t, map[string]string{"sleep.yaml": `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: sleepy
spec:
  taskSpec:
    steps:
    - name: sleep
      image: busybox
      script: sleep 30
`})
	start := time.Now()
	res := colo(t, dir, "run", "-f", "sleep.yaml", "--timeout", "1s")
	if res.code != 1 {
		t.Fatalf("exit code %d, want 1\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s with --timeout 1s", d)
	}
	if !strings.Contains(res.stdout, "TaskRunTimeout") {
		t.Errorf("output lacks TaskRunTimeout:\n%s", res.stdout)
	}
}

func TestSeveralRunsInOrderAsJSONList(t *testing.T) {
	dir := workdir(t, map[string]string{
		"b.yaml": `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: second
spec:
  taskSpec:
    steps:
    - name: s
      image: busybox
      script: echo second
`,
		"a.yaml": `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: first
spec:
  taskSpec:
    steps:
    - name: s
      image: busybox
      script: echo first
`,
	})
	text := colo(t, dir, "run", "-f", ".")
	if text.code != 0 {
		t.Fatalf("exit code %d\n%s\n%s", text.code, text.stdout, text.stderr)
	}
	if i, j := strings.Index(text.stdout, "[first : s] first"), strings.Index(text.stdout, "[second : s] second"); i < 0 || j < 0 || i > j {
		t.Errorf("runs not run one after another in file order:\n%s", text.stdout)
	}

	res := colo(t, dir, "run", "-f", ".", "-o", "json")
	if res.code != 0 {
		t.Fatalf("exit code %d\n%s", res.code, res.stderr)
	}
	var list struct {
		Kind  string `json:"kind"`
		Items []struct {
			Kind     string                `json:"kind"`
			Metadata struct{ Name string } `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &list); err != nil {
		t.Fatalf("%v\n%s", err, res.stdout)
	}
	var got []string
	for _, it := range list.Items {
		got = append(got, it.Kind+"/"+it.Metadata.Name)
	}
	if diff := cmp.Diff([]string{"TaskRun/first", "TaskRun/second"}, got); list.Kind != "List" || diff != "" {
		t.Errorf("kind %q, items (-want +got):\n%s", list.Kind, diff)
	}
}

func TestLogsFollowWhileRunning(t *testing.T) {
	dir := workdir(t, map[string]string{"tr.yaml": `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: talk
spec:
  taskSpec:
    steps:
    - name: one
      image: busybox
      script: |
        echo before
        sleep 1
        echo after
    - name: two
      image: busybox
      script: echo last
`})
	run := exec.Command(coloBin, "run", "-f", "tr.yaml")
	run.Dir = dir
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, ".colo", "runs", "talk", "status.json")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			run.Process.Kill()
			t.Fatal("the run never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	res := colo(t, dir, "logs", "-f", "talk")
	want := "[talk : one] before\n[talk : one] after\n[talk : two] last\n"
	if res.code != 0 || res.stdout != want {
		t.Errorf("logs -f: exit %d\n%s\nwant:\n%s\nstderr: %s", res.code, res.stdout, want, res.stderr)
	}
	if err := run.Wait(); err != nil {
		t.Errorf("run: %v", err)
	}
}
