package cli

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/engine"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func trState(name, pt string, status corev1.ConditionStatus, reason string, start, end time.Duration) engine.TaskRunState {
	st := engine.TaskRunState{Name: name, PipelineTask: pt}
	st.Status.Conditions = []v1.Condition{{Type: v1.ConditionSucceeded, Status: status, Reason: reason}}
	s := metav1.NewTime(t0.Add(start))
	st.Status.StartTime = &s
	if end > 0 {
		e := metav1.NewTime(t0.Add(end))
		st.Status.CompletionTime = &e
	}
	return st
}

func TestProgressPlainLines(t *testing.T) {
	var out strings.Builder
	p := newProgress(&out, nil)
	clock := t0
	p.now = func() time.Time { return clock }

	running := engine.Status{
		PipelineRun: &v1.PipelineRunStatus{},
		TaskRuns:    []engine.TaskRunState{trState("pr-a", "a", corev1.ConditionUnknown, "Running", 0, 0)},
	}
	p.Status(running)
	p.Line("a", "build", "compiling")
	p.Status(running) // no change, no line
	done := engine.Status{
		PipelineRun: &v1.PipelineRunStatus{PipelineRunStatusFields: v1.PipelineRunStatusFields{
			SkippedTasks: []v1.SkippedTask{{Name: "c", Reason: "When Expressions evaluated to false"}},
		}},
		TaskRuns: []engine.TaskRunState{
			trState("pr-a", "a", corev1.ConditionTrue, "Succeeded", 0, 1500*time.Millisecond),
			trState("pr-b", "b", corev1.ConditionFalse, "StepFailed", time.Second, 3*time.Second),
		},
	}
	done.TaskRuns[1].Status.Conditions[0].Message = `"step-x" exited with code 1`
	clock = t0.Add(1234 * time.Millisecond)
	p.Status(done)
	p.Close()

	want := []string{
		"[a] Running",
		"[a : build] compiling",
		"[a] Succeeded in 1.2s", // as seen, not the status's whole seconds
		`[b] Failed (StepFailed) in 2.0s: "step-x" exited with code 1`,
		"[c] Skipped (When Expressions evaluated to false)",
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(out.String()), "\n")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	rows, took := p.Summary()
	if took != 1234*time.Millisecond {
		t.Errorf("Summary took %s, want 1.234s", took)
	}
	var durations []string
	for _, r := range rows {
		durations = append(durations, r.Label+" "+formatDuration(r.duration(clock)))
	}
	if diff := cmp.Diff([]string{"a 1.2s", "b 2.0s", "c 0s"}, durations); diff != "" {
		t.Errorf("Summary durations (-want +got):\n%s", diff)
	}
}

func TestProgressTerminalBlock(t *testing.T) {
	var out syncBuffer
	p := newProgress(&out, func() int { return 40 })
	p.now = func() time.Time { return t0.Add(2 * time.Second) }
	spec := &v1.PipelineSpec{Tasks: []v1.PipelineTask{{Name: "a"}, {Name: "b"}}}
	p.Status(engine.Status{
		PipelineRun: &v1.PipelineRunStatus{PipelineRunStatusFields: v1.PipelineRunStatusFields{PipelineSpec: spec}},
		TaskRuns:    []engine.TaskRunState{trState("pr-a", "a", corev1.ConditionUnknown, "Running", 0, 0)},
	})
	p.Line("a", "s", "hello")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "Waiting") {
		if time.Now().After(deadline) {
			t.Fatalf("block never drawn:\n%q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.Close()
	got := out.String()
	if !strings.Contains(got, "[a : s] hello\n") {
		t.Errorf("log line missing:\n%q", got)
	}
	// After Close the block is gone: the output ends with a clear of the
	// two block lines and nothing after it.
	if !strings.HasSuffix(got, "\x1b[2F\x1b[J") {
		t.Errorf("block not cleared at the end:\n%q", got)
	}
	for _, line := range strings.Split(got, "\n") {
		if visible := len([]rune(stripANSI(line))); visible > 40 {
			t.Errorf("line wider than the terminal (%d): %q", visible, line)
		}
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	esc := false
	for _, r := range s {
		switch {
		case esc:
			if r >= 'A' && r <= 'z' && r != '[' {
				esc = false
			}
		case r == '\x1b':
			esc = true
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{name: "short", in: "abc", n: 5, want: "abc"},
		{name: "cut", in: "abcdef", n: 3, want: "abc"},
		{name: "escapes take no room", in: "\x1b[32m✓\x1b[0m abcdef", n: 4, want: "\x1b[32m✓\x1b[0m ab"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, truncate(tc.in, tc.n)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{name: "zero", in: 0, want: "0s"},
		{name: "tenths", in: 1234 * time.Millisecond, want: "1.2s"},
		{name: "minutes", in: 90*time.Second + 400*time.Millisecond, want: "1m30s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatDuration(tc.in); got != tc.want {
				t.Errorf("formatDuration(%s) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// syncBuffer is a strings.Builder safe to write and read at once.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
