package steprunner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/colo-ci/colo/internal/control"
)

// process is one started process and how it ended.
type process struct {
	seq     int
	run     control.Run
	cmd     *exec.Cmd
	pid     int
	started time.Time
	// timeout fires when the process's own timeout is up (nil: none or
	// already acted on).
	timeout <-chan time.Time
	timer   *time.Timer

	// done is closed once the process ended and its output was copied;
	// code, err, ended and reason are set by then.
	done   chan struct{}
	code   int
	err    error
	ended  time.Time
	reason string

	mu        sync.Mutex
	killed    bool
	readyOnce sync.Once
}

// startProcess starts run as command seq.
func startProcess(seq int, run control.Run, stdout, stderr io.Writer, reap *reaper) (*process, error) {
	if len(run.Argv) == 0 {
		return nil, errors.New("no program to run")
	}
	env, vars := environ(os.Environ(), run.Env)
	argv := make([]string, len(run.Argv))
	for i, a := range run.Argv {
		argv[i] = expand(a, vars)
	}
	path, err := lookPath(argv[0], vars["PATH"], run.Dir)
	if err != nil {
		return nil, err
	}
	if run.Dir != "" {
		if err := os.MkdirAll(run.Dir, 0o777); err != nil {
			return nil, fmt.Errorf("working directory: %w", err)
		}
	}
	outs, err := outputs(run, stdout, stderr)
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{
		Path:        path,
		Args:        argv,
		Env:         env,
		Dir:         run.Dir,
		Stdout:      outs.stdout,
		Stderr:      outs.stderr,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	p := &process{seq: seq, run: run, cmd: cmd, done: make(chan struct{})}
	ooms := oomKills()
	exited, err := reap.start(cmd)
	outs.started()
	if err != nil {
		outs.wait()
		return nil, err
	}
	p.pid = cmd.Process.Pid
	p.started = time.Now()
	if d := time.Duration(run.Timeout); d > 0 {
		p.timer = time.NewTimer(d)
		p.timeout = p.timer.C
	}
	go func() {
		ws := <-exited
		p.ended = time.Now()
		pid := p.pid
		// What else runs in the process group ends with it, as a
		// container's processes end with its main process.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Process.Release()
		outs.wait()
		if p.timer != nil {
			p.timer.Stop()
		}
		p.code = exitCode(ws)
		p.mu.Lock()
		if ws.Signaled() && ws.Signal() == syscall.SIGKILL && ooms >= 0 && oomKills() > ooms {
			// Killed by the kernel for memory, not by the runner.
			p.reason = control.ReasonOOMKilled
		}
		if p.reason == "" && p.killed {
			p.reason = control.ReasonStopped
		}
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// kill stops the process: SIGTERM to its process group, SIGKILL after
// grace. The first reason given is the one reported.
func (p *process) kill(reason string, grace time.Duration) {
	p.mu.Lock()
	if p.reason == "" {
		p.reason = reason
	}
	first := !p.killed
	p.killed = true
	p.mu.Unlock()
	if !first {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	pid := p.pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	go func() {
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}()
}

// exitCode is the code a shell would report: the exit status, or 128 plus
// the signal that killed the process.
func exitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// graceOf is d, or the default grace period when d is zero.
func graceOf(d control.Duration) time.Duration {
	if d <= 0 {
		return defaultGrace
	}
	return time.Duration(d)
}

// environ returns base with vars set over it in order, each value expanded
// against what was set before it, as the kubelet builds a container's env;
// and the result as a map.
func environ(base []string, vars []control.EnvVar) ([]string, map[string]string) {
	m := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := m[k]; !ok {
			order = append(order, k)
		}
		m[k] = v
	}
	for _, kv := range base {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		set(k, v)
	}
	for _, e := range vars {
		set(e.Name, expand(e.Value, m))
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+m[k])
	}
	return out, m
}

// expand replaces $(VAR) with the value of VAR when vars has it, the way
// the kubelet expands a container's command, args and env: $$ is a
// literal $, and a reference to an unknown variable stays as written.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				// Unterminated: the rest is literal.
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += end + 2
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// lookPath finds program name the way a container runtime does: a name
// with a slash is taken as it is (relative to dir), any other is looked up
// in path.
func lookPath(name, path, dir string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		return p, nil
	}
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q: executable file not found in $PATH", name)
}

// streams are where a process's output goes.
type streams struct {
	stdout, stderr io.Writer
	// The parent's write ends of pipes copied by goroutines, closed once
	// the process started.
	closers []io.Closer
	files   []*os.File
	wg      sync.WaitGroup
}

// outputs sets up a process's output: the runner's own streams, and the
// files run names as well. An *os.File with no file beside it is handed
// to the process as it is; anything else is copied through a pipe, so no
// stream needs exec.Cmd's own copying (the runner reaps its children
// itself and never calls Cmd.Wait).
func outputs(run control.Run, stdout, stderr io.Writer) (*streams, error) {
	s := &streams{}
	for i, w := range []io.Writer{stdout, stderr} {
		path := run.Stdout
		if i == 1 {
			path = run.Stderr
		}
		if f, ok := w.(*os.File); ok && path == "" {
			s.set(i, f)
			continue
		}
		dst := w
		if path != "" {
			if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
				s.wait()
				return nil, fmt.Errorf("output file: %w", err)
			}
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
			if err != nil {
				s.wait()
				return nil, fmt.Errorf("output file: %w", err)
			}
			s.files = append(s.files, f)
			dst = io.MultiWriter(w, f)
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			s.wait()
			return nil, err
		}
		s.closers = append(s.closers, pw)
		s.set(i, pw)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer pr.Close()
			_, _ = io.Copy(dst, pr)
		}()
	}
	return s, nil
}

func (s *streams) set(i int, w io.Writer) {
	if i == 0 {
		s.stdout = w
	} else {
		s.stderr = w
	}
}

// started closes the parent's copies of the pipes' write ends.
func (s *streams) started() {
	for _, c := range s.closers {
		c.Close()
	}
	s.closers = nil
}

// wait waits until all output is copied and closes the files.
func (s *streams) wait() {
	s.started()
	s.wg.Wait()
	for _, f := range s.files {
		f.Close()
	}
	s.files = nil
}
