//go:build linux

package sandbox_test

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/colo-ci/colo/internal/sandbox"
)

func TestGroupsSeeOnlyTheirOwnMountsAndName(t *testing.T) {
	sb := start(t, sandbox.Spec{})
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	var groups []*sandbox.Group
	for _, name := range []string{"a", "b"} {
		src := whoDir(t, name)
		g, err := sb.Group(sandbox.Spec{
			// Deeper first: the group applies them shallowest first.
			Mounts:   []sandbox.Mount{{Source: src, Target: "/workspace/source/sub"}, {Source: t.TempDir(), Target: "/workspace/source"}},
			Hostname: name + "-pod",
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close() })
		groups = append(groups, g)
	}
	for i, g := range groups {
		name := []string{"a", "b"}[i]
		out, exit := run(t, g, sh("cat /workspace/source/sub/who; echo; hostname"))
		if exit.Code != 0 {
			t.Fatalf("group %s: %v: %s", name, exit, out)
		}
		if diff := cmp.Diff([]string{name, name + "-pod"}, strings.Fields(out)); diff != "" {
			t.Errorf("group %s: file and host name (-want +got):\n%s", name, diff)
		}
	}
	// A process directly in the sandbox can have a name of its own.
	out, _ := run(t, sb, sandbox.Cmd{Path: "/bin/sh", Args: []string{"sh", "-c", "hostname"}, Hostname: "own"})
	if got := strings.TrimSpace(out); got != "own" {
		t.Errorf("host name of a process that names its own: got %q, want %q", got, "own")
	}
	// A process in a group cannot: it shares the group's namespaces.
	if _, err := groups[0].Start(sandbox.Cmd{Path: "/bin/true", Hostname: "own"}); err == nil {
		t.Errorf("a group's process with a host name of its own started")
	}
	// Outside any group, the sandbox has neither the mounts nor the names.
	out, exit := run(t, sb, sh("hostname; test -e /workspace/source/sub/who && echo mounted || echo absent"))
	if exit.Code != 0 {
		t.Fatalf("%v: %s", exit, out)
	}
	if diff := cmp.Diff([]string{host, "absent"}, strings.Fields(out)); diff != "" {
		t.Errorf("outside the groups (-want +got):\n%s", diff)
	}
	if now, _ := os.Hostname(); now != host {
		t.Errorf("host name changed from %q to %q", host, now)
	}
}

// whoDir returns a new directory holding a file "who" that says name.
func whoDir(t *testing.T, name string) string {
	t.Helper()
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "who"), []byte(name), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestGroupCloseKillsOnlyItsOwn(t *testing.T) {
	sb := start(t, sandbox.Spec{})
	doomed, err := sb.Group(sandbox.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := sb.Group(sandbox.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	// A leader with a child in its process group, as a step's script
	// that started something in the background.
	p, err := doomed.Start(sh("sleep 1000 & wait"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := kept.Start(sh("sleep 1000"))
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- doomed.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if exit, err := p.Wait(); err != nil || exit.Signal == 0 {
		t.Errorf("process of the closed group: got %v, %v; want killed by a signal", exit, err)
	}
	select {
	case <-other.Done():
		t.Errorf("closing one group ended another's process")
	default:
	}
	if _, err := doomed.Start(sh("true")); !errors.Is(err, sandbox.ErrClosed) {
		t.Errorf("Start after Close: got %v, want ErrClosed", err)
	}
	// Nothing of the closed group is left in the sandbox's PID namespace:
	// only the kept sleep is left. (The loop's own short-lived processes
	// may be gone by the time it reads them.)
	out, _ := run(t, sb, sh(`for f in /proc/[0-9]*/cmdline; do { tr '\0' ' ' <"$f"; echo; } 2>/dev/null; done | grep -c '^sleep 1000'`))
	if got := strings.TrimSpace(out); got != "1" {
		t.Errorf("sleeps left after closing one group: got %s, want 1", got)
	}
}

func TestGroupMountInsideAHostDirectory(t *testing.T) {
	sb := start(t, sandbox.Spec{})
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("in group"), 0o644); err != nil {
		t.Fatal(err)
	}
	// /etc exists on the host: the target is made in the group's
	// copy-on-write view of it, never on the host.
	target := "/etc/colo-group-test/data"
	g, err := sb.Group(sandbox.Spec{Mounts: []sandbox.Mount{{Source: src, Target: target}}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for i := range 2 {
		out, exit := run(t, g, sh("cat "+target+"/f; echo; test -e /etc/hostname && echo host-entries-kept"))
		if exit.Code != 0 {
			t.Fatalf("start %d: %v: %s", i, exit, out)
		}
		if diff := cmp.Diff([]string{"in", "group", "host-entries-kept"}, strings.Fields(out)); diff != "" && exists(t, "/etc/hostname") {
			t.Errorf("start %d (-want +got):\n%s", i, diff)
		}
	}
	if exists(t, "/etc/colo-group-test") {
		t.Errorf("the group's mount point was created on the host")
	}
	out, _ := run(t, sb, sh("test -e "+target+" && echo seen || echo absent"))
	if got := strings.TrimSpace(out); got != "absent" {
		t.Errorf("outside the group: %s, want absent", got)
	}
}

func exists(t *testing.T, p string) bool {
	t.Helper()
	_, err := os.Stat(p)
	return err == nil
}

func TestMemoryDirectory(t *testing.T) {
	sb := start(t, sandbox.Spec{Memory: "/tekton"})
	mem := sb.Memory()
	if mem == "" {
		t.Fatal("a sandbox with a memory directory gives no path to it")
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(mem, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != 0x01021994 { // TMPFS_MAGIC
		t.Errorf("memory directory is on a file system of type %#x, want tmpfs", st.Type)
	}
	for _, name := range []string{"a", "b"} {
		dir := filepath.Join(mem, name, "tekton")
		if err := os.MkdirAll(filepath.Join(dir, "run", "0"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "who"), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Each group sees its own directory at the path of the memory
	// directory itself, and a process mounts a directory below it.
	for _, name := range []string{"a", "b"} {
		dir := filepath.Join(mem, name, "tekton")
		g, err := sb.Group(sandbox.Spec{Mounts: []sandbox.Mount{
			{Source: dir, Target: "/tekton"},
			{Source: filepath.Join(dir, "run"), Target: "/tekton/run", ReadOnly: true},
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close() })
		cmd := sh("cat /tekton/who; echo; ls /tekton | tr '\\n' ' '; echo out > /tekton/run/0/file && echo written")
		cmd.Mounts = []sandbox.Mount{{Source: filepath.Join(dir, "run", "0"), Target: "/tekton/run/0"}}
		out, exit := run(t, g, cmd)
		if exit.Code != 0 {
			t.Fatalf("group %s: %v: %s", name, exit, out)
		}
		if diff := cmp.Diff([]string{name, "run", "who", "written"}, strings.Fields(out)); diff != "" {
			t.Errorf("group %s (-want +got):\n%s", name, diff)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "run", "0", "file")); err != nil || string(b) != "out\n" {
			t.Errorf("group %s: the caller reads %q, %v; want the process's output", name, b, err)
		}
		// Without its own mount, the run directory stays read-only.
		out, exit = run(t, g, sh("echo x > /tekton/run/0/file"))
		if exit.Code == 0 {
			t.Errorf("group %s: a process without the mount wrote to a read-only directory: %s", name, out)
		}
	}
	if _, err := sb.Group(sandbox.Spec{Memory: "/elsewhere"}); err == nil {
		t.Error("a group was given a memory directory of its own")
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(mem, "a")); err == nil {
		t.Error("the memory directory is still reachable after Close")
	}
}

// A mount's source is the host's, even where a group's mount covers that
// host path in the group (as a fresh $HOME covers a run directory below
// it).
func TestSourcesUnderAGroupsMountAreTheHosts(t *testing.T) {
	sb := start(t, sandbox.Spec{})
	dir := t.TempDir()
	src := filepath.Join(dir, "run", "volume")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "who"), []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Applied shallowest first: dir is covered before /late is bound.
	g, err := sb.Group(sandbox.Spec{Mounts: []sandbox.Mount{
		{Source: t.TempDir(), Target: dir},
		{Source: src, Target: dir + "/x/y/z/late"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	cmd := sh("cat " + dir + "/x/y/z/late/who; echo; cat /own/who; echo; test -e " + src + " && echo visible || echo covered")
	cmd.Mounts = []sandbox.Mount{{Source: src, Target: "/own"}}
	out, exit := run(t, g, cmd)
	if exit.Code != 0 {
		t.Fatalf("%v: %s", exit, out)
	}
	if diff := cmp.Diff([]string{"host", "host", "covered"}, strings.Fields(out)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A group that cannot be made is an error, and the sandbox goes on.
	if _, err := sb.Group(sandbox.Spec{Mounts: []sandbox.Mount{{Source: filepath.Join(dir, "missing"), Target: "/m"}}}); err == nil {
		t.Error("a group with a missing mount source was made")
	}
	if out, exit := run(t, g, sh("cat /own/who")); exit.Code == 0 {
		t.Errorf("a process without the mount sees it: %s", out)
	}
	if out, exit := run(t, sb, sh("echo alive")); strings.TrimSpace(out) != "alive" {
		t.Errorf("after a failed group: %v: %q", exit, out)
	}
}

// An exclusive process's mounts are the group's while it runs: seen by
// it, not by the group's other processes, gone before the next one.
func TestExclusiveProcesses(t *testing.T) {
	sb := start(t, sandbox.Spec{})
	g, err := sb.Group(sandbox.Spec{Mounts: []sandbox.Mount{{Source: t.TempDir(), Target: "/workspace"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	// A process that was there first, with no mounts of its own, and a
	// long-running exclusive one.
	sideOut, err := os.CreateTemp(t.TempDir(), "side")
	if err != nil {
		t.Fatal(err)
	}
	sideCmd := sh("sleep 0.5; test -e /own/who && echo seen || echo none")
	sideCmd.Stdout = sideOut
	side, err := g.Start(sideCmd)
	if err != nil {
		t.Fatal(err)
	}
	first := sh("cat /own/who; echo; sleep 30")
	first.Mounts, first.Exclusive = []sandbox.Mount{{Source: whoDir(t, "first"), Target: "/own"}}, true
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	first.Stdout = w
	p, err := g.Start(first)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("exclusive process read %q, %v", line, err)
	}
	r.Close()
	second := sh("true")
	second.Mounts, second.Exclusive = []sandbox.Mount{{Source: whoDir(t, "second"), Target: "/own"}}, true
	if _, err := g.Start(second); err == nil {
		t.Error("a second exclusive process started while the first ran")
	}
	if out, exit := run(t, g, sh("test -e /own/who && cat /own/who || echo none")); exit.Code != 0 || strings.TrimSpace(out) != "none" {
		t.Errorf("another process of the group: %v: %q, want none", exit, out)
	}
	side.Wait()
	if b, _ := os.ReadFile(sideOut.Name()); strings.TrimSpace(string(b)) != "none" {
		t.Errorf("a process started before the exclusive one sees its mount: %q", b)
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.Wait()
	out, exit := run(t, g, second)
	if exit.Code != 0 {
		t.Fatalf("%v: %s", exit, out)
	}
	out, exit = run(t, g, sh("test -e /own/who && cat /own/who || echo none"))
	if exit.Code != 0 || strings.TrimSpace(out) != "none" {
		t.Errorf("after the exclusive processes ended: %v: %q, want none", exit, out)
	}
	bad := sh("true")
	bad.Exclusive = true
	if _, err := sb.Start(bad); err == nil {
		t.Error("an exclusive process started outside a group")
	}
}

func TestStartAfter(t *testing.T) {
	tests := []struct {
		name string
		// prev is the script of the process to follow; kill kills it.
		prev string
		kill bool
		// ended lets prev end before the request is made; between runs
		// another exclusive process after that.
		ended, between bool
		// shared makes the follower not exclusive.
		shared      bool
		wantStarted bool
	}{
		{name: "follows a process that exits 0", prev: "sleep 0.3; echo prev >> /workspace/order", wantStarted: true},
		{name: "not after a failure", prev: "sleep 0.3; echo prev >> /workspace/order; exit 3"},
		{name: "not after a kill", prev: "sleep 30", kill: true},
		{name: "at once after a process that has exited 0", prev: "echo prev >> /workspace/order", ended: true, wantStarted: true},
		{name: "not after a process that has failed", prev: "echo prev >> /workspace/order; exit 1", ended: true},
		{name: "not after a process another has followed since", prev: "echo prev >> /workspace/order", ended: true, between: true},
		{name: "only an exclusive process follows", prev: "sleep 0.3; echo prev >> /workspace/order", shared: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sb := start(t, sandbox.Spec{})
			ws := t.TempDir()
			g, err := sb.Group(sandbox.Spec{Mounts: []sandbox.Mount{{Source: ws, Target: "/workspace"}}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { g.Close() })
			prevCmd := sh(tc.prev)
			prevCmd.Mounts, prevCmd.Exclusive = []sandbox.Mount{{Source: whoDir(t, "prev"), Target: "/own"}}, true
			prev, err := g.Start(prevCmd)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ended {
				prev.Wait()
			}
			if tc.between {
				other := sh("true")
				other.Exclusive = true
				if _, exit := run(t, g, other); exit.Code != 0 {
					t.Fatalf("another exclusive process: %v", exit)
				}
			}
			if tc.kill {
				go func() {
					time.Sleep(200 * time.Millisecond)
					prev.Signal(syscall.SIGKILL)
				}()
			}
			out, err := os.CreateTemp(t.TempDir(), "out")
			if err != nil {
				t.Fatal(err)
			}
			next := sh("cat /own/who >> /workspace/order; echo >> /workspace/order; cat /workspace/order")
			next.Mounts, next.Exclusive = []sandbox.Mount{{Source: whoDir(t, "next"), Target: "/own"}}, !tc.shared
			next.Stdout = out
			p, err := g.StartAfter(next, prev)
			if !tc.wantStarted {
				if err == nil {
					t.Fatalf("StartAfter started the process")
				}
				if !tc.shared && !errors.Is(err, sandbox.ErrNotStarted) {
					t.Errorf("StartAfter: %v, want ErrNotStarted", err)
				}
				prev.Wait()
				time.Sleep(100 * time.Millisecond)
				if b, _ := os.ReadFile(filepath.Join(ws, "order")); strings.Contains(string(b), "next") {
					t.Errorf("the follower ran: %q", b)
				}
				return
			}
			if err != nil {
				t.Fatalf("StartAfter: %v", err)
			}
			select {
			case <-prev.Done():
			default:
				t.Error("the follower started before the process it follows ended")
			}
			if exit, err := p.Wait(); err != nil || exit.Code != 0 {
				t.Fatalf("follower: %v, %v", exit, err)
			}
			b, _ := os.ReadFile(out.Name())
			if diff := cmp.Diff("prev\nnext\n", string(b)); diff != "" {
				t.Errorf("order of writes and the follower's own mount (-want +got):\n%s", diff)
			}
			// The follower's mounts were its own, and are gone with it.
			if out, exit := run(t, g, sh("test -e /own/who && cat /own/who || echo none")); exit.Code != 0 || strings.TrimSpace(out) != "none" {
				t.Errorf("after the follower: %v: %q, want none", exit, out)
			}
		})
	}
}

func TestStartAfterWhileTheGroupCloses(t *testing.T) {
	sb := start(t, sandbox.Spec{})
	g, err := sb.Group(sandbox.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	prevCmd := sh("sleep 30")
	prevCmd.Exclusive = true
	prev, err := g.Start(prevCmd)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		next := sh("true")
		next.Exclusive = true
		_, err := g.StartAfter(next, prev)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("a follower started after its group closed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("StartAfter still waits after its group closed")
	}
}

func TestExitCodeFile(t *testing.T) {
	sb := start(t, sandbox.Spec{Memory: "/memory"})
	if sb.Memory() == "" {
		t.Fatal("a sandbox with a memory directory gives no path to it")
	}
	if err := os.MkdirAll(filepath.Join(sb.Memory(), "codes"), 0o755); err != nil {
		t.Fatal(err)
	}
	g, err := sb.Group(sandbox.Spec{Mounts: []sandbox.Mount{{Source: filepath.Join(sb.Memory(), "codes"), Target: "/codes"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	first := sh("exit 7")
	first.Exclusive, first.ExitCodeFile = true, "codes/first"
	p, err := g.Start(first)
	if err != nil {
		t.Fatal(err)
	}
	if exit, err := p.Wait(); err != nil || exit.Code != 7 {
		t.Fatalf("first: %v, %v", exit, err)
	}
	// Written before the exit was reported.
	if b, err := os.ReadFile(filepath.Join(sb.Memory(), "codes", "first")); err != nil || string(b) != "7" {
		t.Errorf("exit code file: %q, %v; want 7", b, err)
	}
	// A follower reads its predecessor's at once.
	second := sh("sleep 0.2")
	second.Exclusive, second.ExitCodeFile = true, "codes/second"
	p, err = g.Start(second)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	third := sh("cat /codes/second")
	third.Exclusive, third.Stdout = true, out
	q, err := g.StartAfter(third, p)
	if err != nil {
		t.Fatal(err)
	}
	q.Wait()
	if b, _ := os.ReadFile(out.Name()); string(b) != "0" {
		t.Errorf("the follower read %q, want 0", b)
	}
	bad := sh("true")
	bad.ExitCodeFile = "../outside"
	if _, err := g.Start(bad); err == nil {
		t.Error("an exit code file outside the memory directory was accepted")
	}
}
