package steprunner

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/colo-ci/colo/internal/control"
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// served is a runner serving a temporary control directory.
type served struct {
	dir    string
	out    *syncBuffer
	errOut *syncBuffer
	seq    int
	done   chan error
	cancel context.CancelFunc
}

func serve(t *testing.T) *served {
	t.Helper()
	s := &served{dir: t.TempDir(), out: &syncBuffer{}, errOut: &syncBuffer{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- Serve(ctx, Options{Dir: s.dir, Stdout: s.out, Stderr: s.errOut}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Error("runner did not stop")
		}
	})
	return s
}

// send writes the next command and returns its number.
func (s *served) send(t *testing.T, c control.Command) int {
	t.Helper()
	s.seq++
	c.Seq = s.seq
	if err := control.WriteCommand(s.dir, c); err != nil {
		t.Fatal(err)
	}
	return c.Seq
}

func (s *served) run(t *testing.T, r control.Run) int {
	return s.send(t, control.Command{Op: control.OpRun, Run: &r})
}

// await waits for the event of kind k about command seq.
func (s *served) await(t *testing.T, seq int, k control.Kind, within time.Duration) control.Event {
	t.Helper()
	deadline := time.Now().Add(within)
	path := filepath.Join(s.dir, control.EventFile(seq, k))
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			evs, err := control.ReadEvents(s.dir, map[string]bool{})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if ev.Seq == seq && ev.Kind == k {
					return ev
				}
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("no %s event for command %d within %v (stderr: %s)", k, seq, within, s.errOut.String())
	return control.Event{}
}

func sh(script string, args ...string) []string {
	return append([]string{"/bin/sh", "-c", script, "sh"}, args...)
}

func TestRunReportsExit(t *testing.T) {
	tests := []struct {
		name       string
		run        control.Run
		wantCode   int
		wantReason string
		wantOut    string
	}{
		{name: "success", run: control.Run{Argv: sh("echo hello")}, wantOut: "hello\n"},
		{name: "exit code", run: control.Run{Argv: sh("exit 3")}, wantCode: 3},
		{name: "killed by a signal", run: control.Run{Argv: sh("kill -9 $$$$")}, wantCode: 137},
		{name: "env set over the container's, expanded in order", run: control.Run{
			Argv: sh(`echo "$A $B"`),
			Env:  []control.EnvVar{{Name: "A", Value: "one"}, {Name: "B", Value: "$(A)-two"}},
		}, wantOut: "one one-two\n"},
		{name: "args expanded like the kubelet does", run: control.Run{
			Argv: []string{"/bin/echo", "$(X)", "$$(X)", "$(UNKNOWN)"},
			Env:  []control.EnvVar{{Name: "X", Value: "x"}},
		}, wantOut: "x $(X) $(UNKNOWN)\n"},
		{name: "program looked up in the step's PATH", run: control.Run{
			Argv: []string{"echo", "found"},
			Env:  []control.EnvVar{{Name: "PATH", Value: "/bin:/usr/bin"}},
		}, wantOut: "found\n"},
		{name: "working directory made", run: control.Run{Argv: sh("pwd"), Dir: "/tmp/colo-steprunner-test/a/b"}, wantOut: "/tmp/colo-steprunner-test/a/b\n"},
		{name: "missing program", run: control.Run{Argv: []string{"no-such-program-here"}}, wantCode: -1, wantReason: control.ReasonStartFailed},
		{name: "timeout", run: control.Run{Argv: sh("sleep 10"), Timeout: control.Duration(100 * time.Millisecond)}, wantCode: 143, wantReason: control.ReasonTimeoutExceeded},
	}
	t.Cleanup(func() { os.RemoveAll("/tmp/colo-steprunner-test") })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serve(t)
			seq := s.run(t, tt.run)
			ev := s.await(t, seq, control.KindDone, 10*time.Second)
			if ev.ExitCode != tt.wantCode || ev.Reason != tt.wantReason {
				t.Errorf("done: exit code %d, reason %q (%s); want %d, %q", ev.ExitCode, ev.Reason, ev.Message, tt.wantCode, tt.wantReason)
			}
			if diff := cmp.Diff(tt.wantOut, s.out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStdoutAndStderrFiles(t *testing.T) {
	s := serve(t)
	dir := t.TempDir()
	seq := s.run(t, control.Run{
		Argv:   sh("echo out; echo err >&2"),
		Stdout: filepath.Join(dir, "o", "stdout"),
		Stderr: filepath.Join(dir, "e", "stderr"),
	})
	if ev := s.await(t, seq, control.KindDone, 10*time.Second); ev.ExitCode != 0 {
		t.Fatalf("exit code %d", ev.ExitCode)
	}
	for path, want := range map[string]string{"o/stdout": "out\n", "e/stderr": "err\n"} {
		b, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("%s = %q, want %q", path, b, want)
		}
	}
	if got := s.out.String(); got != "out\n" {
		t.Errorf("log stdout = %q", got)
	}
	if got := s.errOut.String(); got != "err\n" {
		t.Errorf("log stderr = %q", got)
	}
}

func TestStopAndExit(t *testing.T) {
	t.Run("stop the running process", func(t *testing.T) {
		s := serve(t)
		seq := s.run(t, control.Run{Argv: sh("sleep 10")})
		s.await(t, seq, control.KindStarted, 5*time.Second)
		s.send(t, control.Command{Op: control.OpStop, Target: seq})
		ev := s.await(t, seq, control.KindDone, 5*time.Second)
		if ev.Reason != control.ReasonStopped || ev.ExitCode != 143 {
			t.Errorf("done = %+v, want Stopped with 143", ev)
		}
		// The runner goes on: the same container runs the next process.
		again := s.run(t, control.Run{Argv: sh("exit 0")})
		if ev := s.await(t, again, control.KindDone, 5*time.Second); ev.ExitCode != 0 {
			t.Errorf("second run: %+v", ev)
		}
	})
	t.Run("SIGKILL after the grace period", func(t *testing.T) {
		s := serve(t)
		seq := s.run(t, control.Run{Argv: sh("trap '' TERM; echo trapped; while :; do sleep 0.05; done")})
		for !strings.Contains(s.out.String(), "trapped") {
			time.Sleep(5 * time.Millisecond)
		}
		start := time.Now()
		s.send(t, control.Command{Op: control.OpStop, Target: seq, Grace: control.Duration(200 * time.Millisecond)})
		ev := s.await(t, seq, control.KindDone, 5*time.Second)
		if ev.ExitCode != 137 {
			t.Errorf("exit code %d, want 137", ev.ExitCode)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("killed after %v, before the grace period", d)
		}
	})
	t.Run("exit stops the process and ends the runner", func(t *testing.T) {
		s := serve(t)
		seq := s.run(t, control.Run{Argv: sh("sleep 10")})
		s.await(t, seq, control.KindStarted, 5*time.Second)
		exit := s.send(t, control.Command{Op: control.OpExit})
		if ev := s.await(t, seq, control.KindDone, 5*time.Second); ev.Reason != control.ReasonStopped {
			t.Errorf("done = %+v", ev)
		}
		s.await(t, exit, control.KindExited, 5*time.Second)
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("Serve = %v, want nil", err)
			}
			s.done <- nil
		case <-time.After(5 * time.Second):
			t.Fatal("runner did not end")
		}
	})
	t.Run("a run stopped before it started never starts", func(t *testing.T) {
		s := serve(t)
		first := s.run(t, control.Run{Argv: sh("sleep 0.3")})
		second := s.run(t, control.Run{Argv: sh("echo never")})
		s.send(t, control.Command{Op: control.OpStop, Target: second})
		if ev := s.await(t, second, control.KindDone, 5*time.Second); ev.ExitCode != -1 || ev.Reason != control.ReasonStopped {
			t.Errorf("second: %+v", ev)
		}
		if ev := s.await(t, first, control.KindDone, 5*time.Second); ev.ExitCode != 0 {
			t.Errorf("first: %+v", ev)
		}
		if strings.Contains(s.out.String(), "never") {
			t.Error("the stopped run ran")
		}
	})
	t.Run("background processes end with the main one", func(t *testing.T) {
		s := serve(t)
		pidFile := filepath.Join(t.TempDir(), "pid")
		seq := s.run(t, control.Run{Argv: sh("sleep 30 & echo $! > " + pidFile)})
		s.await(t, seq, control.KindDone, 5*time.Second)
		b, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		deadline := time.Now().Add(5 * time.Second)
		for {
			st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			// Gone, or a zombie waiting for its reaper.
			if err != nil || strings.Contains(string(st), ") Z") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("background process %d still runs", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestReadinessProbe(t *testing.T) {
	t.Run("tcp", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		s := serve(t)
		start := time.Now()
		seq := s.run(t, control.Run{Argv: sh("sleep 10"), Probe: &control.Probe{TCPPort: port}})
		s.await(t, seq, control.KindStarted, 5*time.Second)
		// What the sidecar serves comes up a while after it started.
		time.Sleep(300 * time.Millisecond)
		l, err = net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		s.await(t, seq, control.KindReady, 10*time.Second)
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("ready after %v, before the port listened", d)
		}
		s.send(t, control.Command{Op: control.OpStop, Target: seq})
		s.await(t, seq, control.KindDone, 5*time.Second)
	})
	t.Run("exec", func(t *testing.T) {
		s := serve(t)
		flag := filepath.Join(t.TempDir(), "ready")
		seq := s.run(t, control.Run{
			Argv:  sh("sleep 0.2; touch " + flag + "; sleep 10"),
			Probe: &control.Probe{Exec: []string{"test", "-e", flag}},
		})
		s.await(t, seq, control.KindReady, 10*time.Second)
		if _, err := os.Stat(flag); err != nil {
			t.Errorf("ready before the probe could pass: %v", err)
		}
		s.send(t, control.Command{Op: control.OpStop, Target: seq})
		s.await(t, seq, control.KindDone, 5*time.Second)
	})
	t.Run("a sidecar that ends counts as ready", func(t *testing.T) {
		s := serve(t)
		seq := s.run(t, control.Run{Argv: sh("exit 0"), Probe: &control.Probe{Exec: []string{"false"}}})
		s.await(t, seq, control.KindReady, 10*time.Second)
		s.await(t, seq, control.KindDone, 10*time.Second)
	})
}

// TestPickupLatency checks that a runner learns of a command in
// milliseconds, not on a one-second grid.
func TestPickupLatency(t *testing.T) {
	s := serve(t)
	// Let the runner settle into waiting.
	seq := s.run(t, control.Run{Argv: []string{"/bin/true"}})
	s.await(t, seq, control.KindDone, 5*time.Second)
	var worst time.Duration
	for i := 0; i < 5; i++ {
		time.Sleep(30 * time.Millisecond)
		sent := time.Now()
		seq := s.run(t, control.Run{Argv: []string{"/bin/true"}})
		ev := s.await(t, seq, control.KindStarted, 5*time.Second)
		if d := ev.StartedAt.Sub(sent); d > worst {
			worst = d
		}
	}
	if worst > 200*time.Millisecond {
		t.Errorf("slowest pickup took %v", worst)
	}
	t.Logf("slowest pickup: %v", worst)
}

func TestInstallMakesDirectories(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "kept"), 0o700); err != nil {
		t.Fatal(err)
	}
	dirs := []string{filepath.Join(root, "a", "b", "c"), filepath.Join(root, "a", "d"), filepath.Join(root, "kept")}
	args := []string{"--install", filepath.Join(root, "bin", "colo")}
	for _, d := range dirs {
		args = append(args, "--mkdir", d)
	}
	if err := Run(context.Background(), args, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{"a": 0o777, "a/b": 0o777, "a/b/c": 0o777, "a/d": 0o777, "kept": 0o700}
	for rel, mode := range want {
		fi, err := os.Stat(filepath.Join(root, rel))
		if err != nil {
			t.Error(err)
			continue
		}
		if !fi.IsDir() || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want a directory with mode %v", rel, fi.Mode(), mode)
		}
	}
	file := filepath.Join(root, "bin", "colo", "sub")
	if err := Run(context.Background(), []string{"--install", filepath.Join(root, "bin2", "colo"), "--mkdir", file}, io.Discard, io.Discard); err == nil {
		t.Errorf("--mkdir under a file: want an error")
	}
	if err := Run(context.Background(), []string{"--mkdir", filepath.Join(root, "x")}, io.Discard, io.Discard); err == nil {
		t.Errorf("--mkdir without --install: want an error")
	}
}

func TestInstall(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "bin", "colo")
	if err := Install(dst); err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	want, _ := os.ReadFile(self)
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Error("installed copy differs from the program")
	}
	fi, _ := os.Stat(dst)
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", fi.Mode().Perm())
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "a", "B": "b"}
	tests := []struct{ name, in, want string }{
		{"plain", "hello", "hello"},
		{"known", "$(A)", "a"},
		{"unknown stays", "$(C)", "$(C)"},
		{"escaped", "$$(A)", "$(A)"},
		{"double dollar", "$$", "$"},
		{"lone dollar", "a$", "a$"},
		{"dollar before other", "$x", "$x"},
		{"unterminated", "$(A", "$(A"},
		{"several", "$(A)-$(B)/$(A)", "a-b/a"},
		{"tekton reference untouched", "$(params.x)", "$(params.x)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := expand(tt.in, vars); got != tt.want {
				t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
