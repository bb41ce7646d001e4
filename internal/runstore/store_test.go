package runstore_test

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/runstore"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// store is the executor's Store contract; the command that wires the two
// checks it against the executor's own interface.
type store interface {
	Dir() string
	ClaimDir(namespace, name string) (string, error)
	StepLog(taskRun string, retry int, container string) (io.WriteCloser, error)
	WriteStatus(engine.Status) error
}

var _ store = (*runstore.Run)(nil)

func newRoot(t *testing.T) runstore.Root {
	t.Helper()
	return runstore.DefaultRoot(t.TempDir())
}

func pipelineRun(name string) *v1.PipelineRun {
	return &v1.PipelineRun{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.KindPipelineRun},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "x"}},
		Spec:       v1.PipelineRunSpec{PipelineRef: &v1.PipelineRef{Name: "build"}},
	}
}

func taskRun(name string) *v1.TaskRun {
	return &v1.TaskRun{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.KindTaskRun},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       v1.TaskRunSpec{TaskRef: &v1.TaskRef{Name: "t"}},
	}
}

func cond(status corev1.ConditionStatus, reason string) v1.Status {
	return v1.Status{Conditions: []v1.Condition{{Type: v1.ConditionSucceeded, Status: status, Reason: reason}}}
}

func TestPipelineRunStatusDocument(t *testing.T) {
	root := newRoot(t)
	run, err := root.Create(runstore.Document{PipelineRun: pipelineRun("pr-1")})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	if got, want := run.Dir(), filepath.Join(root.Runs, "pr-1"); got != want {
		t.Errorf("Dir() = %q, want %q", got, want)
	}
	st := engine.Status{
		PipelineRun: &v1.PipelineRunStatus{Status: cond(corev1.ConditionTrue, "Succeeded")},
		TaskRuns: []engine.TaskRunState{
			{Name: "pr-1-a", PipelineTask: "a", Status: v1.TaskRunStatus{Status: cond(corev1.ConditionTrue, "Succeeded")}},
			{Name: "pr-1-f", PipelineTask: "f", Finally: true, Status: v1.TaskRunStatus{Status: cond(corev1.ConditionFalse, "Failed")}},
		},
	}
	if err := run.WriteStatus(st); err != nil {
		t.Fatal(err)
	}

	b, err := os.ReadFile(filepath.Join(run.Dir(), runstore.StatusFile))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name              string `json:"name"`
			UID               string `json:"uid"`
			CreationTimestamp string `json:"creationTimestamp"`
		} `json:"metadata"`
		Spec     v1.PipelineRunSpec   `json:"spec"`
		Status   v1.PipelineRunStatus `json:"status"`
		TaskRuns []struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Status v1.TaskRunStatus `json:"status"`
		} `json:"taskRuns"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.APIVersion != "tekton.dev/v1" || raw.Kind != "PipelineRun" || raw.Metadata.Name != "pr-1" {
		t.Errorf("object = %s %s %s, want tekton.dev/v1 PipelineRun pr-1", raw.APIVersion, raw.Kind, raw.Metadata.Name)
	}
	if raw.Metadata.UID == "" || raw.Metadata.CreationTimestamp == "" {
		t.Errorf("uid %q creationTimestamp %q: want both set", raw.Metadata.UID, raw.Metadata.CreationTimestamp)
	}
	if raw.Spec.PipelineRef == nil || raw.Spec.PipelineRef.Name != "build" {
		t.Errorf("spec.pipelineRef = %+v, want build", raw.Spec.PipelineRef)
	}
	if diff := cmp.Diff("Succeeded", raw.Status.GetCondition().Reason); diff != "" {
		t.Errorf("status reason (-want +got):\n%s", diff)
	}
	if len(raw.TaskRuns) != 2 {
		t.Fatalf("taskRuns: got %d, want 2", len(raw.TaskRuns))
	}
	wantLabels := map[string]string{
		"app":                     "x",
		"tekton.dev/pipeline":     "build",
		"tekton.dev/pipelineRun":  "pr-1",
		"tekton.dev/pipelineTask": "f",
		"tekton.dev/memberOf":     "finally",
	}
	f := raw.TaskRuns[1]
	if f.Kind != "TaskRun" || f.APIVersion != "tekton.dev/v1" || f.Metadata.Name != "pr-1-f" {
		t.Errorf("taskRuns[1] = %s %s %s", f.APIVersion, f.Kind, f.Metadata.Name)
	}
	if diff := cmp.Diff(wantLabels, f.Metadata.Labels); diff != "" {
		t.Errorf("taskRuns[1] labels (-want +got):\n%s", diff)
	}
	if got := f.Status.GetCondition().Reason; got != "Failed" {
		t.Errorf("taskRuns[1] reason = %q, want Failed", got)
	}
	if got := raw.TaskRuns[0].Metadata.Labels["tekton.dev/memberOf"]; got != "tasks" {
		t.Errorf("taskRuns[0] memberOf = %q, want tasks", got)
	}

	// Reading it back gives the same document.
	opened, err := root.Open("pr-1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(run.Document(), opened.Document()); diff != "" {
		t.Errorf("Open (-written +read):\n%s", diff)
	}
}

func TestTaskRunStatusDocument(t *testing.T) {
	root := newRoot(t)
	run, err := root.Create(runstore.Document{TaskRun: taskRun("tr-1")})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	trs := v1.TaskRunStatus{Status: cond(corev1.ConditionTrue, "Succeeded")}
	trs.Results = []v1.TaskRunResult{{Name: "r", Type: v1.ParamTypeString, Value: v1.NewString("x")}}
	if err := run.WriteStatus(engine.Status{TaskRun: &trs, TaskRuns: []engine.TaskRunState{{Name: "tr-1", Status: trs}}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(run.Dir(), runstore.StatusFile))
	if err != nil {
		t.Fatal(err)
	}
	var tr v1.TaskRun
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(trs, tr.Status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if strings.Contains(string(b), "taskRuns") {
		t.Errorf("a TaskRun's document has a taskRuns field:\n%s", b)
	}
	doc := run.Document()
	if got := doc.AllTaskRuns(); len(got) != 1 || got[0].Name != "tr-1" {
		t.Errorf("AllTaskRuns() = %v, want just tr-1", got)
	}
}

func TestStatusWritesAreAtomic(t *testing.T) {
	root := newRoot(t)
	run, err := root.Create(runstore.Document{TaskRun: taskRun("tr")})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			s := v1.TaskRunStatus{Status: cond(corev1.ConditionUnknown, "Running")}
			s.PodName = strings.Repeat("x", i*50)
			if err := run.WriteStatus(engine.Status{TaskRun: &s}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for {
		select {
		case <-done:
			entries, _ := os.ReadDir(run.Dir())
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".status-") {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
			return
		default:
		}
		b, err := os.ReadFile(filepath.Join(run.Dir(), runstore.StatusFile))
		if err != nil {
			t.Fatal(err)
		}
		var d runstore.Document
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("read a partial status.json: %v", err)
		}
	}
}

func TestStepLogsAndOrder(t *testing.T) {
	root := newRoot(t)
	run, err := root.Create(runstore.Document{PipelineRun: pipelineRun("pr")})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	write := func(tr string, retry int, c, text string) {
		t.Helper()
		w, err := run.StepLog(tr, retry, c)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, text)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Written out of order, on purpose.
	write("pr-b", 0, "step-z", "b z\n")
	write("pr-a", 1, "step-second", "a 1 second\n")
	write("pr-a", 0, "step-second", "a 0 second\n")
	write("pr-a", 0, "step-first", "a 0 first\n")
	write("pr-a", 1, "step-first", "a 1 first\n")
	write("pr-x", 0, "step-unnamed-0", "x\n")

	steps := []v1.StepState{{Name: "first", Container: "step-first"}, {Name: "second", Container: "step-second"}}
	st := engine.Status{
		PipelineRun: &v1.PipelineRunStatus{},
		TaskRuns: []engine.TaskRunState{
			{Name: "pr-b", PipelineTask: "b"},
			{Name: "pr-a", PipelineTask: "a", Status: v1.TaskRunStatus{TaskRunStatusFields: v1.TaskRunStatusFields{
				Steps:         steps,
				RetriesStatus: []v1.TaskRunStatus{{TaskRunStatusFields: v1.TaskRunStatusFields{Steps: steps}}},
			}}},
		},
	}
	if err := run.WriteStatus(st); err != nil {
		t.Fatal(err)
	}
	got, err := run.Logs()
	if err != nil {
		t.Fatal(err)
	}
	type entry struct{ Task, Step, Text string }
	var gotEntries []entry
	for _, l := range got {
		b, err := os.ReadFile(l.Path)
		if err != nil {
			t.Fatal(err)
		}
		gotEntries = append(gotEntries, entry{l.Task(), l.Step(), string(b)})
	}
	want := []entry{
		{"b", "z", "b z\n"},
		{"a", "first", "a 0 first\n"},
		{"a", "second", "a 0 second\n"},
		{"a", "first", "a 1 first\n"},
		{"a", "second", "a 1 second\n"},
		{"pr-x", "unnamed-0", "x\n"},
	}
	if diff := cmp.Diff(want, gotEntries); diff != "" {
		t.Errorf("Logs (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(run.Dir(), "logs", "pr-a", "1", "step-first.log")); err != nil {
		t.Errorf("log layout: %v", err)
	}
}

func TestRejectsPathNames(t *testing.T) {
	root := newRoot(t)
	run, err := root.Create(runstore.Document{TaskRun: taskRun("tr")})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	tests := []struct {
		name string
		call func() error
	}{
		{name: "task run with slash", call: func() error { _, err := run.StepLog("../x", 0, "step-a"); return err }},
		{name: "container dot-dot", call: func() error { _, err := run.StepLog("tr", 0, ".."); return err }},
		{name: "negative retry", call: func() error { _, err := run.StepLog("tr", -1, "step-a"); return err }},
		{name: "claim with slash", call: func() error { _, err := run.ClaimDir("default", "a/b"); return err }},
		{name: "run name with slash", call: func() error { _, err := root.Open("../etc"); return err }},
		{name: "create without name", call: func() error { _, err := root.Create(runstore.Document{TaskRun: taskRun("")}); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil {
				t.Error("got no error")
			}
		})
	}
}

func TestClaimDirOutlivesRuns(t *testing.T) {
	root := newRoot(t)
	run, err := root.Create(runstore.Document{TaskRun: taskRun("tr")})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := run.ClaimDir("", "data")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root.Claims, "default", "data"); dir != want {
		t.Errorf("ClaimDir = %q, want %q", dir, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	run.Close()
	// A second run of the same name replaces the first; the claim stays.
	run2, err := root.Create(runstore.Document{TaskRun: taskRun("tr")})
	if err != nil {
		t.Fatal(err)
	}
	defer run2.Close()
	dir2, err := run2.ClaimDir("default", "data")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir2, "f"))
	if err != nil || string(b) != "kept" {
		t.Errorf("claim content = %q, %v; want kept", b, err)
	}
}

func TestCreateReplacesOnlyFinishedRuns(t *testing.T) {
	root := newRoot(t)
	run, err := root.Create(runstore.Document{TaskRun: taskRun("tr")})
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(run.Dir(), "marker")
	os.WriteFile(marker, nil, 0o644)
	if !run.Live() {
		t.Error("Live() = false while open")
	}
	if _, err := root.Create(runstore.Document{TaskRun: taskRun("tr")}); err == nil {
		t.Fatal("replaced a run that is still going on")
	}
	run.Close()
	opened, err := root.Open("tr")
	if err != nil {
		t.Fatal(err)
	}
	if opened.Live() {
		t.Error("Live() = true after Close")
	}
	// What a process that died while removing an earlier run left.
	stale := filepath.Join(root.Runs, ".removing-tr-0")
	if err := os.MkdirAll(filepath.Join(stale, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	run2, err := root.Create(runstore.Document{TaskRun: taskRun("tr")})
	if err != nil {
		t.Fatal(err)
	}
	if infos, err := root.List(); err != nil || len(infos) != 1 || infos[0].Name != "tr" {
		t.Errorf("List while the earlier run is removed: got %v, %v; want the one run tr", infos, err)
	}
	if err := run2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("files of the earlier run are still there")
	}
	entries, err := os.ReadDir(root.Runs)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"tr"}, names); diff != "" {
		t.Errorf("run directory after Close (-want +got):\n%s", diff)
	}
}

// TestRerunTakesOverTheEarlierLogs checks that a run replacing an earlier
// one of the same name writes its logs into the earlier run's files of the
// same path (no inode freed and allocated per step), that each log holds
// the new run's output alone, and that the earlier run's other logs are
// gone once the run is closed.
func TestRerunTakesOverTheEarlierLogs(t *testing.T) {
	root := newRoot(t)
	writeLog := func(run *runstore.Run, container, text string) {
		t.Helper()
		w, err := run.StepLog("tr", 0, container)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, text); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	first, err := root.Create(runstore.Document{TaskRun: taskRun("tr")})
	if err != nil {
		t.Fatal(err)
	}
	writeLog(first, "step-a", "the first run's output, longer than the second's\n")
	writeLog(first, "step-gone", "a step the second run does not have\n")
	path, err := first.LogPath("tr", 0, "step-a")
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()

	second, err := root.Create(runstore.Document{TaskRun: taskRun("tr")})
	if err != nil {
		t.Fatal(err)
	}
	writeLog(second, "step-a", "second\n")
	writeLog(second, "step-new", "new\n")
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("the second run's log of step-a is a new file, not the earlier run's")
	}
	for container, want := range map[string]string{"step-a": "second\n", "step-new": "new\n"} {
		p, _ := second.LogPath("tr", 0, container)
		if got, err := os.ReadFile(p); err != nil || string(got) != want {
			t.Errorf("log of %s: got %q, %v; want %q", container, got, err, want)
		}
	}
	gone, _ := second.LogPath("tr", 0, "step-gone")
	if _, err := os.Stat(gone); err == nil {
		t.Error("the earlier run's log of a step the second run lacks is still there")
	}
	entries, err := os.ReadDir(root.Runs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "tr" {
			t.Errorf("left in the runs directory after Close: %s", e.Name())
		}
	}
}

// TestLiveAcrossProcesses checks that another process sees a run as live
// while its lock is held, using a real process that holds it.
func TestLiveAcrossProcesses(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) not installed")
	}
	root := newRoot(t)
	run, err := root.Create(runstore.Document{TaskRun: taskRun("tr")})
	if err != nil {
		t.Fatal(err)
	}
	run.Close()
	cmd := exec.Command("flock", "-x", filepath.Join(run.Dir(), ".lock"), "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	opened, err := root.Open("tr")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !opened.Live() {
		if time.Now().After(deadline) {
			t.Fatal("Live() = false while another process holds the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestListNewestFirst(t *testing.T) {
	root := newRoot(t)
	if got, err := root.List(); err != nil || len(got) != 0 {
		t.Fatalf("List() on an empty root = %v, %v", got, err)
	}
	for _, name := range []string{"b-first", "a-second", "c-third"} {
		run, err := root.Create(runstore.Document{TaskRun: taskRun(name)})
		if err != nil {
			t.Fatal(err)
		}
		run.Close()
		time.Sleep(5 * time.Millisecond)
	}
	os.MkdirAll(filepath.Join(root.Runs, "not-a-run"), 0o755)
	infos, err := root.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range infos {
		got = append(got, i.Name)
	}
	if diff := cmp.Diff([]string{"c-third", "a-second", "b-first"}, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if _, err := root.Open("missing"); err == nil {
		t.Error("Open of a missing run: no error")
	}
}

func TestGenerateName(t *testing.T) {
	root := newRoot(t)
	name := root.GenerateName("build-run-")
	if !strings.HasPrefix(name, "build-run-") || len(name) != len("build-run-")+5 {
		t.Errorf("GenerateName = %q", name)
	}
}

func TestEngineStatusRoundTrip(t *testing.T) {
	root := newRoot(t)
	run, err := root.Create(runstore.Document{PipelineRun: pipelineRun("pr")})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	start := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	st := engine.Status{
		PipelineRun: &v1.PipelineRunStatus{
			Status: cond(corev1.ConditionTrue, "Completed"),
			PipelineRunStatusFields: v1.PipelineRunStatusFields{
				StartTime:       &start,
				SkippedTasks:    []v1.SkippedTask{{Name: "c", Reason: "When Expressions evaluated to false"}},
				ChildReferences: []v1.ChildStatusReference{{Name: "pr-a", DisplayName: "Build it", PipelineTaskName: "a"}},
			},
		},
		TaskRuns: []engine.TaskRunState{
			{Name: "pr-a", PipelineTask: "a", DisplayName: "Build it", Status: v1.TaskRunStatus{Status: cond(corev1.ConditionTrue, "Succeeded")}},
			{Name: "pr-f", PipelineTask: "f", Finally: true, Status: v1.TaskRunStatus{Status: cond(corev1.ConditionTrue, "Succeeded")}},
			{Name: "pr-inner-x", PipelineTask: "x", Status: v1.TaskRunStatus{Status: cond(corev1.ConditionTrue, "Succeeded")}},
		},
		PipelineRuns: []engine.PipelineRunState{
			{Name: "pr-inner", PipelineTask: "inner", Parent: "pr", Status: v1.PipelineRunStatus{Status: cond(corev1.ConditionTrue, "Succeeded")}},
		},
	}
	if err := run.WriteStatus(st); err != nil {
		t.Fatal(err)
	}
	opened, err := root.Open("pr")
	if err != nil {
		t.Fatal(err)
	}
	doc := opened.Document()
	if diff := cmp.Diff(st, doc.EngineStatus()); diff != "" {
		t.Errorf("EngineStatus (-written +read):\n%s", diff)
	}
}
