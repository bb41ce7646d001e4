package conformance_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/colo-ci/colo/internal/conformance"
	"github.com/colo-ci/colo/internal/sandbox"
)

// TestMain lets this test binary act as the sandbox supervisor the local
// executor starts by running its own program again.
func TestMain(m *testing.M) {
	if sandbox.IsSupervisor(os.Args) {
		os.Exit(sandbox.Main())
	}
	os.Exit(m.Run())
}

// repoRoot is the directory holding go.mod, found from the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func TestExclusionsParse(t *testing.T) {
	for _, mode := range conformance.Modes() {
		ex, err := conformance.Exclusions(mode)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		for path, reason := range ex {
			if strings.HasPrefix(path, "/") || strings.Contains(path, `\`) {
				t.Errorf("%s: exclusion %q: want a relative path with forward slashes", mode, path)
			}
			if len(strings.Fields(reason)) < 3 {
				t.Errorf("%s: exclusion %q: reason %q does not say what is missing", mode, path, reason)
			}
		}
	}
}

func TestParseExclusionsModes(t *testing.T) {
	list := `
every.yaml: needs the network
some.yaml:
  pod: &image needs the python image
  controller: *image
local-only.yaml:
  local: needs a program of this machine
`
	tests := []struct {
		mode conformance.Mode
		want map[string]string
	}{
		{conformance.Local, map[string]string{"every.yaml": "needs the network", "local-only.yaml": "needs a program of this machine"}},
		{conformance.Pod, map[string]string{"every.yaml": "needs the network", "some.yaml": "needs the python image"}},
		{conformance.Controller, map[string]string{"every.yaml": "needs the network", "some.yaml": "needs the python image"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			got, err := conformance.ParseExclusions([]byte(list), tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("exclusions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseExclusionsRejects(t *testing.T) {
	tests := []struct {
		name, list, want string
	}{
		{"empty reason", "a.yaml: \"\"\n", "a.yaml has no reason"},
		{"empty reason for a mode", "a.yaml:\n  pod: \"\"\n", "a.yaml has no reason for mode pod"},
		{"unknown mode", "a.yaml:\n  cloud: no cloud here\n", `a.yaml: unknown mode "cloud"`},
		{"neither", "a.yaml: [1, 2]\n", "a.yaml: want a reason or a map from mode to reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := conformance.ParseExclusions([]byte(tt.list), conformance.Local)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestSummaryLine(t *testing.T) {
	tests := []struct {
		name string
		in   []conformance.Result
		want string
	}{
		{name: "none", want: "0 passed, 0 failed"},
		{
			name: "no skips",
			in:   []conformance.Result{{Outcome: conformance.Pass}, {Outcome: conformance.Fail}, {Outcome: conformance.Pass}},
			want: "2 passed, 1 failed",
		},
		{
			name: "with skips",
			in:   []conformance.Result{{Outcome: conformance.Pass}, {Outcome: conformance.Skip}},
			want: "1 passed, 0 failed, 1 skipped",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, conformance.Summarize(tc.in).String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestResultLine(t *testing.T) {
	tests := []struct {
		name string
		in   conformance.Result
		want string
	}{
		{name: "pass", in: conformance.Result{Path: "d/a.yaml", Outcome: conformance.Pass, Duration: 1234 * time.Millisecond}, want: "PASS d/a.yaml (1.2s)"},
		{name: "fail", in: conformance.Result{Path: "d/a.yaml", Outcome: conformance.Fail, Reason: "Failed", Message: "Tasks Completed: 1"}, want: "FAIL d/a.yaml: Failed Tasks Completed: 1"},
		{name: "skip", in: conformance.Result{Path: "d/a.yaml", Outcome: conformance.Skip, Reason: "network"}, want: "SKIP d/a.yaml: excluded: network"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.in.Line()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunSmallCorpus runs real files through the local executor: one that
// succeeds, one whose step fails, one that does not load, one excluded.
func TestRunSmallCorpus(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a-pass.yaml"), `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: hello
spec:
  taskSpec:
    steps:
    - name: echo
      image: busybox
      script: echo hello
`)
	writeFile(t, filepath.Join(dir, "b-fail.yaml"), `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: fails
spec:
  taskSpec:
    steps:
    - name: exit
      image: busybox
      script: exit 3
`)
	writeFile(t, filepath.Join(dir, "sub", "c-invalid.yaml"), `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: bad
spec:
  nonsense: true
`)
	writeFile(t, filepath.Join(dir, "sub", "d-excluded.yaml"), `not: even looked at`)

	var out strings.Builder
	results, err := conformance.Run(context.Background(), dir, conformance.Options{
		Exclusions: map[string]string{"sub/d-excluded.yaml": "needs the network"},
		Out:        &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	type short struct {
		Rel     string
		Outcome conformance.Outcome
	}
	var got []short
	for _, r := range results {
		got = append(got, short{r.Rel, r.Outcome})
	}
	want := []short{
		{"a-pass.yaml", conformance.Pass},
		{"b-fail.yaml", conformance.Fail},
		{"sub/c-invalid.yaml", conformance.Fail},
		{"sub/d-excluded.yaml", conformance.Skip},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s\noutput:\n%s", diff, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "PASS "+filepath.Join(dir, "a-pass.yaml")+" (") ||
		!strings.HasPrefix(lines[1], "FAIL "+filepath.Join(dir, "b-fail.yaml")+": ") ||
		lines[3] != "SKIP "+filepath.Join(dir, "sub", "d-excluded.yaml")+": excluded: needs the network" {
		t.Errorf("output:\n%s", out.String())
	}
	if got := conformance.Summarize(results).String(); got != "1 passed, 2 failed, 1 skipped" {
		t.Errorf("summary = %q", got)
	}
}

// TestIntegrationConformance runs the upstream examples kept beside the
// repository; every file not excluded must pass.
func TestIntegrationConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every upstream example; skipped with -short")
	}
	dir := filepath.Join(repoRoot(t), "..", "shared", "conformance", "tekton-examples")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no examples: %v", err)
	}
	ex, err := conformance.Exclusions(conformance.Local)
	if err != nil {
		t.Fatal(err)
	}
	results, err := conformance.Run(context.Background(), dir, conformance.Options{Exclusions: ex})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Outcome == conformance.Fail {
			t.Error(r.Line())
		}
	}
	t.Log(conformance.Summarize(results))
}
