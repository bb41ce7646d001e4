//go:build linux

package sandbox_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/colo-ci/colo/internal/sandbox"
)

// TestMain lets the test binary act as a sandbox supervisor, as colo's own
// main does.
func TestMain(m *testing.M) {
	if sandbox.IsSupervisor(os.Args) {
		if exe, _ := os.Executable(); filepath.Base(exe) == otherBuild {
			sandbox.PlayOtherBuild()
		}
		os.Exit(sandbox.Main())
	}
	os.Exit(m.Run())
}

// start starts a sandbox that the test closes at its end.
func start(t *testing.T, spec sandbox.Spec) *sandbox.Sandbox {
	t.Helper()
	sb, err := sandbox.Start(context.Background(), spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return sb
}

// sh is a shell script as a Cmd.
func sh(script string) sandbox.Cmd {
	return sandbox.Cmd{Path: "/bin/sh", Args: []string{"sh", "-c", script}}
}

// starter is a Sandbox or a Group.
type starter interface {
	Start(sandbox.Cmd) (*sandbox.Process, error)
}

// run runs cmd to its end and returns what it wrote to stdout and stderr.
func run(t *testing.T, sb starter, cmd sandbox.Cmd) (string, sandbox.Exit) {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	p, err := sb.Start(cmd)
	if err != nil {
		t.Fatalf("Start(%q): %v", cmd.Args, err)
	}
	exit, err := p.Wait()
	if err != nil {
		t.Fatalf("Wait(%q): %v", cmd.Args, err)
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b), exit
}

// hostState describes what the host has at path, to check that a sandbox
// left it alone.
func hostState(t *testing.T, path string) []string {
	t.Helper()
	entries, err := os.ReadDir(path)
	if errors.Is(err, fs.ErrNotExist) {
		return []string{"<absent>"}
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestTwoSandboxesSeeOnlyTheirOwnFiles(t *testing.T) {
	before := hostState(t, "/workspace")
	beforeTekton := hostState(t, "/tekton")

	type box struct {
		name string
		src  string
		sb   *sandbox.Sandbox
	}
	var boxes []*box
	for _, name := range []string{"a", "b"} {
		src := t.TempDir()
		boxes = append(boxes, &box{name: name, src: src, sb: start(t, sandbox.Spec{Mounts: []sandbox.Mount{
			{Source: src, Target: "/workspace/source"},
			{Source: t.TempDir(), Target: "/tekton/results"},
		}})})
	}
	// Both are up at once; each writes the same paths.
	for _, b := range boxes {
		out, exit := run(t, b.sb, sh("echo "+b.name+" > /workspace/x && echo "+b.name+" > /workspace/source/y"))
		if exit.Code != 0 {
			t.Fatalf("sandbox %s: write: %v: %s", b.name, exit, out)
		}
	}
	for _, b := range boxes {
		out, exit := run(t, b.sb, sh("cat /workspace/x /workspace/source/y; ls -A /workspace"))
		if exit.Code != 0 {
			t.Fatalf("sandbox %s: read: %v: %s", b.name, exit, out)
		}
		want := b.name + "\n" + b.name + "\nsource\nx\n"
		if diff := cmp.Diff(want, out); diff != "" {
			t.Errorf("sandbox %s sees (-want +got):\n%s", b.name, diff)
		}
		got, err := os.ReadFile(filepath.Join(b.src, "y"))
		if err != nil {
			t.Errorf("sandbox %s: file written to the mount is not in the caller's directory: %v", b.name, err)
		} else if diff := cmp.Diff(b.name+"\n", string(got)); diff != "" {
			t.Errorf("sandbox %s: caller's file (-want +got):\n%s", b.name, diff)
		}
	}
	if diff := cmp.Diff(before, hostState(t, "/workspace")); diff != "" {
		t.Errorf("host /workspace changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(beforeTekton, hostState(t, "/tekton")); diff != "" {
		t.Errorf("host /tekton changed (-before +after):\n%s", diff)
	}
}

func TestMounts(t *testing.T) {
	host := t.TempDir() // an existing host directory, seen in the sandbox
	ro := t.TempDir()
	if err := os.WriteFile(filepath.Join(ro, "in"), []byte("given\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rw := t.TempDir()
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nested := t.TempDir()
	sb := start(t, sandbox.Spec{Mounts: []sandbox.Mount{
		// Deeper first on purpose: the sandbox applies /ws first.
		{Source: nested, Target: "/ws/src/cache"},
		{Source: rw, Target: "/ws/src"},
		{Source: ro, Target: "/messages", ReadOnly: true},
		{Source: secret, Target: "/var/run/secrets/app/token", ReadOnly: true},
		{Source: rw, Target: filepath.Join(host, "deep", "mnt")},
	}})

	tests := []struct {
		name     string
		script   string
		wantOut  string
		wantCode int
	}{
		{name: "read-only mount is readable", script: "cat /messages/in", wantOut: "given\n"},
		{name: "read-only mount rejects writes", script: "{ echo x > /messages/new; } 2>&1 | grep -o 'Read-only file system'", wantOut: "Read-only file system\n"},
		{name: "read-only mount rejects removal", script: "rm -f /messages/in 2>/dev/null || echo refused", wantOut: "refused\n"},
		{name: "file mount", script: "cat /var/run/secrets/app/token", wantOut: "s3cret\n"},
		{name: "nested mount seen through its parent", script: "echo c > /ws/src/cache/f && cat /ws/src/cache/f", wantOut: "c\n"},
		{name: "mount inside an existing host directory", script: "echo m > " + filepath.Join(host, "deep", "mnt", "m") + " && cat /ws/src/m", wantOut: "m\n"},
		{name: "host directory still listed", script: "ls " + host, wantOut: "deep\n"},
		{name: "exit code", script: "exit 3", wantCode: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, exit := run(t, sb, sh(tt.script))
			if diff := cmp.Diff(tt.wantOut, out); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(sandbox.Exit{Code: tt.wantCode}, exit); diff != "" {
				t.Errorf("exit (-want +got):\n%s", diff)
			}
		})
	}

	if diff := cmp.Diff([]string{"in"}, hostState(t, ro)); diff != "" {
		t.Errorf("read-only source changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"cache", "m"}, hostState(t, rw)); diff != "" {
		t.Errorf("read-write source (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"f"}, hostState(t, nested)); diff != "" {
		t.Errorf("nested source (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string(nil), hostState(t, host)); diff != "" {
		t.Errorf("host directory got mount points (-want +got):\n%s", diff)
	}
}

func TestWorkingDir(t *testing.T) {
	host := t.TempDir()
	src := t.TempDir()
	sb := start(t, sandbox.Spec{Mounts: []sandbox.Mount{{Source: src, Target: "/workspace/source"}}})

	tests := []struct {
		name  string
		dir   string
		mkdir bool
		want  string
	}{
		{name: "empty is root", dir: "", want: "/"},
		{name: "existing host directory", dir: host, want: host},
		{name: "new top-level path", dir: "/a/path/too/far", mkdir: true, want: "/a/path/too/far"},
		{name: "relative to root", dir: "rel/dir", mkdir: true, want: "/rel/dir"},
		{name: "new path in a host directory", dir: filepath.Join(host, "new", "dir"), mkdir: true, want: filepath.Join(host, "new", "dir")},
		{name: "new path in a mount", dir: "/workspace/source/sub", mkdir: true, want: "/workspace/source/sub"},
		{name: "existing with mkdir", dir: "/workspace/source", mkdir: true, want: "/workspace/source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := sandbox.Cmd{Path: "pwd", Args: []string{"pwd"}, Dir: tt.dir, MkdirDir: tt.mkdir, Env: []string{"PATH=/usr/bin:/bin"}}
			out, exit := run(t, sb, cmd)
			if exit.Code != 0 {
				t.Fatalf("pwd: %v: %s", exit, out)
			}
			if diff := cmp.Diff(tt.want+"\n", out); diff != "" {
				t.Errorf("working directory (-want +got):\n%s", diff)
			}
		})
	}

	// A file created in the new directory of a host directory stays in
	// the sandbox.
	if out, exit := run(t, sb, sandbox.Cmd{Path: "/bin/sh", Args: []string{"sh", "-c", "echo x > f && ls"}, Dir: filepath.Join(host, "new", "dir")}); exit.Code != 0 || out != "f\n" {
		t.Errorf("write in new directory: %v: %q", exit, out)
	}
	for _, p := range []string{"/a", "/rel"} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("host %s: got %v, want it absent", p, err)
		}
	}
	if diff := cmp.Diff([]string(nil), hostState(t, host)); diff != "" {
		t.Errorf("host directory changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"sub"}, hostState(t, src)); diff != "" {
		t.Errorf("mount source (-want +got):\n%s", diff)
	}

	_, err := sb.Start(sandbox.Cmd{Path: "/bin/true", Dir: "/does/not/exist"})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Start in a missing directory without MkdirDir: got %v, want an error matching fs.ErrNotExist", err)
	}
}

func TestStartErrors(t *testing.T) {
	sb := start(t, sandbox.Spec{})
	tests := []struct {
		name string
		cmd  sandbox.Cmd
	}{
		{name: "missing program", cmd: sandbox.Cmd{Path: "/no/such/program"}},
		{name: "program not in PATH", cmd: sandbox.Cmd{Path: "no-such-program", Env: []string{"PATH=/bin"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := sb.Start(tt.cmd)
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Start: got (%v, %v), want an error matching fs.ErrNotExist", p, err)
			}
		})
	}
}

func TestStreams(t *testing.T) {
	sb := start(t, sandbox.Spec{})
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := sh("read line; echo \"out: $line\"; echo \"err: $line\" >&2")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	p, err := sb.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	// The process holds its own copies now.
	inR.Close()
	outW.Close()
	errW.Close()
	if _, err := io.WriteString(inW, "hello\n"); err != nil {
		t.Fatal(err)
	}
	inW.Close()
	stdout, err := io.ReadAll(outR)
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := io.ReadAll(errR)
	if err != nil {
		t.Fatal(err)
	}
	exit, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	got := []string{string(stdout), string(stderr), exit.String()}
	want := []string{"out: hello\n", "err: hello\n", "exit status 0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stdout, stderr, exit (-want +got):\n%s", diff)
	}
}

// readyProcess starts script, which must print a line once it is ready,
// and waits for that line.
func readyProcess(t *testing.T, sb *sandbox.Sandbox, script string) *sandbox.Process {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := sh(script)
	cmd.Stdout = w
	p, err := sb.Start(cmd)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(r).ReadString('\n'); err != nil {
		t.Fatalf("waiting for %q to be ready: %v", script, err)
	}
	return p
}

func TestSignal(t *testing.T) {
	sb := start(t, sandbox.Spec{})
	tests := []struct {
		name   string
		script string
		sig    syscall.Signal
		want   sandbox.Exit
	}{
		{name: "SIGTERM handled", script: "trap 'exit 42' TERM; echo ready; while :; do sleep 0.01; done", sig: syscall.SIGTERM, want: sandbox.Exit{Code: 42}},
		{name: "SIGTERM default", script: "echo ready; exec sleep 1000", sig: syscall.SIGTERM, want: sandbox.Exit{Code: 143, Signal: syscall.SIGTERM}},
		// The shell defers its trap until its foreground child ends: only
		// a signal to the whole group ends the child. The child says it
		// is ready, so the signal cannot come before it runs.
		{name: "SIGTERM reaches the foreground child", script: "trap ':' TERM; sh -c 'echo ready; exec sleep 1000'; exit 7", sig: syscall.SIGTERM, want: sandbox.Exit{Code: 7}},
		{name: "SIGKILL", script: "trap '' TERM; echo ready; while :; do sleep 0.01; done", sig: syscall.SIGKILL, want: sandbox.Exit{Code: 137, Signal: syscall.SIGKILL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := readyProcess(t, sb, tt.script)
			if err := p.Signal(tt.sig); err != nil {
				t.Fatalf("Signal: %v", err)
			}
			exit, err := p.Wait()
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if diff := cmp.Diff(tt.want, exit); diff != "" {
				t.Errorf("exit (-want +got):\n%s", diff)
			}
			if err := p.Signal(syscall.SIGTERM); !errors.Is(err, os.ErrProcessDone) {
				t.Errorf("Signal after exit: got %v, want os.ErrProcessDone", err)
			}
		})
	}
}

// sleeper copies sleep(1) to a name of its own, so the test can find its
// processes on the host.
func sleeper(t *testing.T) string {
	t.Helper()
	src, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "sleeper")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// running counts host processes running program.
func running(t *testing.T, program string) int {
	t.Helper()
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if argv := strings.Split(string(b), "\x00"); slices.Contains(argv, program) {
			n++
		}
	}
	return n
}

// eventually polls until cond holds or a few seconds have passed.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func TestNoProcessOutlivesItsSandbox(t *testing.T) {
	s := sleeper(t)

	t.Run("background child killed on Close", func(t *testing.T) {
		sb, err := sandbox.Start(context.Background(), sandbox.Spec{})
		if err != nil {
			t.Fatal(err)
		}
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		cmd := sh(s + " 1000 & " + s + " 1001 & echo started; wait")
		cmd.Stdout = w
		p, err := sb.Start(cmd)
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bufio.NewReader(r).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		if !eventually(func() bool { return running(t, s) == 2 }) {
			t.Fatalf("%d sleepers running, want 2", running(t, s))
		}
		if err := sb.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		exit, err := p.Wait()
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
		if diff := cmp.Diff(sandbox.Exit{Code: 137, Signal: syscall.SIGKILL}, exit); diff != "" {
			t.Errorf("exit of a process running at Close (-want +got):\n%s", diff)
		}
		if n := running(t, s); n != 0 {
			t.Errorf("%d sleepers still running after Close", n)
		}
		if _, err := sb.Start(sandbox.Cmd{Path: "/bin/true"}); !errors.Is(err, sandbox.ErrClosed) {
			t.Errorf("Start after Close: got %v, want ErrClosed", err)
		}
		if err := sb.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})

	t.Run("group killed when its leader exits", func(t *testing.T) {
		sb := start(t, sandbox.Spec{})
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		cmd := sh(s + " 1000 & exit 5")
		cmd.Stdout = w
		p, err := sb.Start(cmd)
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		exit, err := p.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if exit.Code != 5 {
			t.Errorf("exit: got %v, want exit status 5", exit)
		}
		// The background sleeper held the pipe: EOF means it is gone.
		done := make(chan error, 1)
		go func() { _, err := io.ReadAll(r); done <- err }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("background child of an exited process still holds its stdout")
		}
		if !eventually(func() bool { return running(t, s) == 0 }) {
			t.Errorf("%d sleepers still running", running(t, s))
		}
	})

	t.Run("process that left its session killed on Close", func(t *testing.T) {
		sb, err := sandbox.Start(context.Background(), sandbox.Spec{})
		if err != nil {
			t.Fatal(err)
		}
		defer sb.Close()
		// The script waits until the sleeper's session is its own: until
		// then, the end of the script would kill it with its group.
		marker := filepath.Join(t.TempDir(), "left")
		out, exit := run(t, sb, sh("setsid sh -c 'touch "+marker+"; exec "+s+" 1000' </dev/null >/dev/null 2>&1 & while [ ! -e "+marker+" ]; do sleep 0.01; done"))
		if exit.Code != 0 {
			t.Fatalf("%v: %s", exit, out)
		}
		if !eventually(func() bool { return running(t, s) == 1 }) {
			t.Fatalf("%d sleepers running, want the one that left its session", running(t, s))
		}
		if err := sb.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if n := running(t, s); n != 0 {
			t.Errorf("%d sleepers still running after Close", n)
		}
	})

	t.Run("caller dies", func(t *testing.T) {
		// A child test process starts a sandbox with a sleeper in it,
		// and is killed.
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSandboxOwner$")
		cmd.Env = append(os.Environ(), "SANDBOX_TEST_OWNER_SLEEPER="+s)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line != "sandbox ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("helper: %q, %v", line, err)
		}
		if !eventually(func() bool { return running(t, s) == 1 }) {
			t.Errorf("%d sleepers running, want 1", running(t, s))
		}
		cmd.Process.Kill()
		cmd.Wait()
		if !eventually(func() bool { return running(t, s) == 0 }) {
			t.Errorf("%d sleepers still running after their caller died", running(t, s))
		}
	})
}

// TestHelperSandboxOwner is run as a separate process by
// TestNoProcessOutlivesItsSandbox, which kills it.
func TestHelperSandboxOwner(t *testing.T) {
	s := os.Getenv("SANDBOX_TEST_OWNER_SLEEPER")
	if s == "" {
		t.Skip("run by TestNoProcessOutlivesItsSandbox")
	}
	sb, err := sandbox.Start(context.Background(), sandbox.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Start(sandbox.Cmd{Path: s, Args: []string{s, "1000"}}); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("sandbox ready\n")
	time.Sleep(time.Minute)
}

func TestConcurrentProcesses(t *testing.T) {
	sb := start(t, sandbox.Spec{Mounts: []sandbox.Mount{{Source: t.TempDir(), Target: "/shared"}}})
	// A sidecar serves while steps run, as Tekton's sidecars do.
	sidecar := readyProcess(t, sb, "echo ready; while :; do [ -e /shared/stop ] && exit 0; sleep 0.01; done")
	steps := make([]*sandbox.Process, 8)
	for i := range steps {
		p, err := sb.Start(sh("echo $$ > /shared/step-$$; exit 1"))
		if err != nil {
			t.Fatal(err)
		}
		steps[i] = p
	}
	for i, p := range steps {
		exit, err := p.Wait()
		if err != nil || exit.Code != 1 {
			t.Errorf("step %d: got %v, %v; want exit status 1", i, exit, err)
		}
	}
	select {
	case <-sidecar.Done():
		t.Fatal("sidecar ended with the steps")
	default:
	}
	if _, exit := run(t, sb, sh("touch /shared/stop")); exit.Code != 0 {
		t.Fatal(exit)
	}
	if exit, err := sidecar.Wait(); err != nil || exit.Code != 0 {
		t.Errorf("sidecar: got %v, %v; want exit status 0", exit, err)
	}
}

func TestSandboxNamespaces(t *testing.T) {
	sb := start(t, sandbox.Spec{Hostname: "my-pod"})
	out, exit := run(t, sb, sh("hostname; cat /proc/1/cmdline | tr '\\0' '\\n' | tail -n 1"))
	if exit.Code != 0 {
		t.Fatalf("%v: %s", exit, out)
	}
	// The supervisor is PID 1 in the sandbox's own /proc.
	if diff := cmp.Diff([]string{"my-pod", sandbox.SupervisorArg}, strings.Fields(out)); diff != "" {
		t.Errorf("hostname, PID 1's last argument (-want +got):\n%s", diff)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if host == "my-pod" {
		t.Errorf("host name changed to the sandbox's")
	}
}

func TestStartCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if sb, err := sandbox.Start(ctx, sandbox.Spec{}); !errors.Is(err, context.Canceled) {
		if sb != nil {
			sb.Close()
		}
		t.Errorf("Start with a cancelled context: got %v, want context.Canceled", err)
	}
}

func TestSpecErrors(t *testing.T) {
	tests := []struct {
		name string
		spec sandbox.Spec
		want error
	}{
		{name: "missing source", spec: sandbox.Spec{Mounts: []sandbox.Mount{{Source: "/no/such/dir", Target: "/workspace/x"}}}, want: fs.ErrNotExist},
		{name: "directory on a file", spec: sandbox.Spec{Mounts: []sandbox.Mount{{Source: "/", Target: "/etc/hostname"}}}, want: syscall.ENOTDIR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, err := sandbox.Start(context.Background(), tt.spec)
			if sb != nil {
				sb.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Start: got %v, want an error matching %v", err, tt.want)
			}
		})
	}
	if _, err := sandbox.Start(context.Background(), sandbox.Spec{Mounts: []sandbox.Mount{{Source: "/", Target: "relative"}}}); err == nil {
		t.Error("Start with a relative target: got no error")
	}
}

// nobody is the unprivileged user TestUnprivileged runs as.
const nobody = 65534

func TestUnprivileged(t *testing.T) {
	if os.Getenv("SANDBOX_TEST_UNPRIVILEGED") != "" {
		unprivileged(t)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("not root: every other test already runs unprivileged")
	}
	// Run this test again, in a copy of the test binary that nobody can
	// run, as nobody.
	dir, err := os.MkdirTemp("", "sandbox-unprivileged")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ws, tmp := filepath.Join(dir, "ws"), filepath.Join(dir, "tmp")
	for _, d := range []string{ws, tmp} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "sandbox.test")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestUnprivileged$", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SANDBOX_TEST_UNPRIVILEGED="+ws, "TMPDIR="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("test as uid %d: %v\n%s", nobody, err, out)
	}
	t.Logf("as uid %d:\n%s", nobody, out)
	if strings.Contains(string(out), "--- SKIP") {
		t.Skipf("user namespaces are not available to uid %d:\n%s", nobody, out)
	}
	f, err := os.Stat(filepath.Join(ws, "f"))
	if err != nil {
		t.Fatalf("file written in the sandbox: %v\n%s", err, out)
	}
	st := f.Sys().(*syscall.Stat_t)
	if diff := cmp.Diff([]uint32{nobody, nobody}, []uint32{st.Uid, st.Gid}); diff != "" {
		t.Errorf("owner of the file written in the sandbox (-want +got):\n%s", diff)
	}
}

// unprivileged runs as nobody, with ws a directory nobody owns.
func unprivileged(t *testing.T) {
	ws := os.Getenv("SANDBOX_TEST_UNPRIVILEGED")
	before := hostState(t, "/workspace")
	sb, err := sandbox.Start(context.Background(), sandbox.Spec{Mounts: []sandbox.Mount{{Source: ws, Target: "/workspace/source"}}, Memory: "/tekton"})
	if errors.Is(err, sandbox.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := sb.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	// The caller writes the memory directory; a process reads it.
	if err := os.WriteFile(filepath.Join(sb.Memory(), "m"), []byte("m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := sh("id -u; echo f > /workspace/source/f; echo y > /workspace/y; cat /workspace/y /tekton/m")
	cmd.MkdirDir, cmd.Dir = true, "/a/new/dir"
	out, exit := run(t, sb, cmd)
	if diff := cmp.Diff("0\ny\nm\n", out); diff != "" || exit.Code != 0 {
		t.Errorf("%v; output (-want +got):\n%s", exit, diff)
	}
	root := 0
	if _, err := sb.Start(sandbox.Cmd{Path: "/bin/true", UID: &root}); err != nil {
		t.Errorf("Start as uid 0 (the caller): %v", err)
	}
	other := 1000
	if _, err := sb.Start(sandbox.Cmd{Path: "/bin/true", UID: &other}); err == nil {
		t.Errorf("Start as uid %d: got no error, want one: only the caller's uid is mapped", other)
	}
	if diff := cmp.Diff(before, hostState(t, "/workspace")); diff != "" {
		t.Errorf("host /workspace changed (-before +after):\n%s", diff)
	}
}

// BenchmarkStartProcess measures what a process costs in a sandbox (start,
// run /bin/true, learn its exit) against a plain exec.Command.
func BenchmarkStartProcess(b *testing.B) {
	b.Run("sandbox", func(b *testing.B) {
		sb, err := sandbox.Start(context.Background(), sandbox.Spec{Mounts: []sandbox.Mount{{Source: b.TempDir(), Target: "/workspace/source"}}})
		if err != nil {
			b.Fatal(err)
		}
		defer sb.Close()
		env := os.Environ()
		for b.Loop() {
			p, err := sb.Start(sandbox.Cmd{Path: "/bin/true", Env: env, Dir: "/workspace/source"})
			if err != nil {
				b.Fatal(err)
			}
			if exit, err := p.Wait(); err != nil || exit.Code != 0 {
				b.Fatal(exit, err)
			}
		}
	})
	b.Run("exec", func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command("/bin/true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sandbox-start-close", func(b *testing.B) {
		for b.Loop() {
			sb, err := sandbox.Start(context.Background(), sandbox.Spec{Mounts: []sandbox.Mount{
				{Source: b.TempDir(), Target: "/workspace/source"},
				{Source: b.TempDir(), Target: "/tekton/results"},
			}})
			if err != nil {
				b.Fatal(err)
			}
			if err := sb.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A directory created inside a host directory makes that directory
// copy-on-write in the sandbox; mounts below it must stay in place.
func TestCreatingKeepsMountsBelow(t *testing.T) {
	host := t.TempDir()
	if err := os.MkdirAll(filepath.Join(host, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "a", "old"), []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	sb := start(t, sandbox.Spec{Mounts: []sandbox.Mount{{Source: src, Target: filepath.Join(host, "a", "m")}}})

	tests := []struct {
		name    string
		dir     string
		script  string
		wantOut string
	}{
		{
			name:    "caller mount below a new directory's parent",
			dir:     filepath.Join(host, "new"),
			script:  "echo w > ../a/m/w && cat ../a/old && ls ../a",
			wantOut: "host\nm\nold\n",
		},
		{
			name:    "changes to the host directory stay in the sandbox",
			dir:     filepath.Join(host, "a", "new"),
			script:  "echo sandbox > ../old && rm ../old && ls ..",
			wantOut: "m\nnew\n",
		},
		{
			name:    "host mounts below a new directory's parent",
			dir:     "/dev/colo-new",
			script:  "stat -f -c %T /dev/shm /dev/pts && test -c /dev/null && echo null",
			wantOut: "tmpfs\ndevpts\nnull\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := sh(tt.script)
			cmd.Dir, cmd.MkdirDir = tt.dir, true
			out, exit := run(t, sb, cmd)
			if exit.Code != 0 {
				t.Fatalf("%v: %s", exit, out)
			}
			if diff := cmp.Diff(tt.wantOut, out); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff([]string{"w"}, hostState(t, src)); diff != "" {
		t.Errorf("mount source (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a"}, hostState(t, host)); diff != "" {
		t.Errorf("host directory (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"old"}, hostState(t, filepath.Join(host, "a"))); diff != "" {
		t.Errorf("host directory (-want +got):\n%s", diff)
	}
	if b, err := os.ReadFile(filepath.Join(host, "a", "old")); err != nil || string(b) != "host\n" {
		t.Errorf("host file: got %q, %v; want it unchanged", b, err)
	}
	if _, err := os.Lstat("/dev/colo-new"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("host /dev/colo-new: got %v, want it absent", err)
	}
}

// TestSandboxOutlivesEndedThreads checks that a sandbox survives goroutines
// that lock their threads and end, which makes Go discard those threads:
// the kernel kills a supervisor whose forking thread exits.
func TestSandboxOutlivesEndedThreads(t *testing.T) {
	sb := start(t, sandbox.Spec{})
	for range 20 {
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				time.Sleep(time.Millisecond)
			}()
		}
		wg.Wait()
	}
	if out, exit := run(t, sb, sh("echo alive")); exit.Code != 0 || strings.TrimSpace(out) != "alive" {
		t.Fatalf("after threads ended: %v: %q", exit, out)
	}
}

// otherBuild is the name under which a copy of the test binary acts as a
// supervisor built from another version of the package.
const otherBuild = "other-build"

// TestSupervisorProgram starts sandboxes with Spec.Supervisor and checks,
// from inside, which program serves them (PID 1 of the sandbox): the one
// named, or the running program when the one named cannot serve.
func TestSupervisorProgram(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	other := filepath.Join(dir, otherBuild)
	copyFile(t, self, other)
	notSupervisor := filepath.Join(dir, "not-a-supervisor")
	if err := os.WriteFile(notSupervisor, []byte("#!/bin/sh\necho not a supervisor >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	lean := ""
	if !testing.Short() {
		if _, err := exec.LookPath("go"); err == nil {
			lean = filepath.Join(dir, "colo-sandbox")
			build := exec.Command("go", "build", "-o", lean, "github.com/colo-ci/colo/cmd/colo-sandbox")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("build colo-sandbox: %v\n%s", err, out)
			}
		}
	}

	tests := []struct {
		name       string
		supervisor string
		want       string
	}{
		{name: "none", supervisor: "", want: self},
		{name: "missing program", supervisor: filepath.Join(dir, "missing"), want: self},
		{name: "not a supervisor", supervisor: notSupervisor, want: self},
		{name: "another build", supervisor: other, want: self},
		{name: "lean program", supervisor: lean, want: lean},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == "" {
				t.Skip("builds cmd/colo-sandbox: not with -short or without go")
			}
			sb := start(t, sandbox.Spec{Supervisor: tt.supervisor})
			out, exit := run(t, sb, sh("readlink /proc/1/exe"))
			if exit.Code != 0 {
				t.Fatalf("readlink: %v: %s", exit, out)
			}
			want, err := filepath.EvalSymlinks(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(out); got != want {
				t.Errorf("the sandbox's supervisor is %s, want %s", got, want)
			}
		})
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
