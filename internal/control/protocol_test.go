package control

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCommandsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := []Command{
		{Seq: 1, Op: OpRun, Run: &Run{Argv: []string{"/bin/sh", "-c", "echo hi"}, Env: []EnvVar{{Name: "A", Value: "b"}}, Timeout: Duration(1500 * time.Millisecond), Probe: &Probe{TCPPort: 80}}},
		{Seq: 2, Op: OpStop, Target: 1, Grace: Duration(2 * time.Second)},
		{Seq: 3, Op: OpExit},
	}
	for _, c := range want {
		if err := WriteCommand(dir, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadCommands(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	got, err = ReadCommands(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[2:], got); diff != "" {
		t.Errorf("commands after 2 (-want +got):\n%s", diff)
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("directory holds %d files, want 3", len(entries))
	}
}

func TestEventsInOrderOnce(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	evs := []Event{
		{Seq: 2, Kind: KindExited, At: at},
		{Seq: 1, Kind: KindDone, ExitCode: 3, At: at},
		{Seq: 1, Kind: KindStarted, StartedAt: at, At: at},
		{Seq: 1, Kind: KindReady, At: at},
	}
	for _, ev := range evs {
		if err := WriteEvent(dir, ev); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	got, err := ReadEvents(dir, seen)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range got {
		kinds = append(kinds, string(ev.Kind))
	}
	if diff := cmp.Diff([]string{"started", "ready", "done", "exited"}, kinds); diff != "" {
		t.Errorf("event order (-want +got):\n%s", diff)
	}
	again, err := ReadEvents(dir, seen)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Errorf("events read twice: %v", again)
	}
}

func TestWatcherNoticesQuickly(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	w := NewWatcher()
	defer w.Close()
	for _, d := range dirs {
		if err := w.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	if w.Polling() {
		t.Log("no inotify here: polling")
	}
	drain := func() {
		for {
			select {
			case <-w.C:
			default:
				return
			}
		}
	}
	for i, d := range dirs {
		drain()
		start := time.Now()
		if err := WriteCommand(d, Command{Seq: i + 1, Op: OpExit}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-w.C:
			if el := time.Since(start); el > 100*time.Millisecond {
				t.Errorf("noticed a write to %s after %v", filepath.Base(d), el)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("no signal for a write to %s", d)
		}
	}
}
