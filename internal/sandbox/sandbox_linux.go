package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// closeTimeout bounds how long Close waits for the supervisor to kill and
// reap everything before it kills the supervisor, which makes the kernel
// kill the rest.
const closeTimeout = 10 * time.Second

// Sandbox is a running sandbox: a supervisor process in its own mount and
// PID namespaces. Its methods may be called from any goroutine.
type Sandbox struct {
	cmd    *exec.Cmd
	c      *conn
	stderr *tail
	userNS bool
	// memory is the host path of the memory directory, "" for none: a
	// path through memoryDir, an fd the supervisor handed over.
	memory    string
	memoryDir *os.File

	waitOnce sync.Once
	waitErr  error

	closeOnce sync.Once
	closeErr  error

	// done is closed when the connection to the supervisor has ended and
	// every pending call and process has been told.
	done chan struct{}

	mu      sync.Mutex
	closing bool
	ended   error // why the connection ended; nil while it is up
	nextID  uint64
	pending map[uint64]chan reply
	procs   map[uint64]*Process
}

// Process is a process started in a sandbox. It has no pid the caller
// could use: the sandbox has its own PID namespace.
type Process struct {
	s    *Sandbox
	id   uint64
	done chan struct{}
	exit Exit
	err  error
}

type reply struct {
	m   *message
	p   *Process
	err error
}

// Start starts a sandbox described by spec. ctx bounds only the start: once
// Start has returned, the sandbox lives until Close, or until the calling
// process dies (the supervisor is killed with it, and every process in the
// sandbox with the supervisor).
//
// Start re-executes the running program (/proc/self/exe) as the
// supervisor, so the program must dispatch to Main (see SupervisorArg).
// Run by root, the supervisor gets new mount, PID (and, with a Hostname,
// UTS) namespaces; run by another user, also a user namespace that maps
// that user to root, so that processes started with no UID and GID, or
// with 0, run as the caller, and other ids are refused.
//
// The supervisor is forked from a thread kept for it, so no goroutine that
// locks and ends a thread can take it down (see startSupervisor).
//
// Where namespaces are unavailable, the error wraps ErrUnsupported.
func Start(ctx context.Context, spec Spec) (*Sandbox, error) {
	if IsSupervisor(os.Args) {
		// This process was started as a supervisor but its program did
		// not dispatch to Main. Starting another would recurse.
		return nil, fmt.Errorf("sandbox: %s was run as a sandbox supervisor but does not call sandbox.Main when sandbox.IsSupervisor(os.Args)", os.Args[0])
	}
	ws, err := wire(spec, "")
	if err != nil {
		return nil, err
	}
	if spec.Memory != "" {
		if !filepath.IsAbs(spec.Memory) {
			return nil, fmt.Errorf("sandbox: memory directory %q is not an absolute path", spec.Memory)
		}
		ws.Memory = filepath.Clean(spec.Memory)
	}
	ws.UserNS = os.Geteuid() != 0
	ws.Protocol = protocol
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if spec.Supervisor != "" {
		s, err := launch(ctx, ws, spec.Supervisor)
		if err == nil || errors.Is(err, ErrUnsupported) || ctx.Err() != nil {
			return s, err
		}
		// Not a supervisor of this build: the running program is.
	}
	return launch(ctx, ws, "/proc/self/exe")
}

// launch starts program as the supervisor of a sandbox of ws.
func launch(ctx context.Context, ws *wireSpec, program string) (*Sandbox, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("sandbox: socket pair: %w", err)
	}
	theirs := os.NewFile(uintptr(pair[1]), "sandbox-supervisor")
	c, err := newConn(os.NewFile(uintptr(pair[0]), "sandbox"))
	if err != nil {
		theirs.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}

	flags := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWPID)
	if ws.Hostname != "" {
		flags |= unix.CLONE_NEWUTS
	}
	sys := &syscall.SysProcAttr{
		Cloneflags: flags,
		// The supervisor dies with its caller, and the kernel then kills
		// everything in its PID namespace.
		Pdeathsig: syscall.SIGKILL,
		// Keep the terminal's signals (^C) away from it: the caller
		// decides what happens to the sandbox.
		Setpgid: true,
	}
	if ws.UserNS {
		sys.Cloneflags |= unix.CLONE_NEWUSER
		sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		sys.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		sys.GidMappingsEnableSetgroups = false
	}
	s := &Sandbox{
		cmd: &exec.Cmd{
			Path:        program,
			Args:        []string{os.Args[0], SupervisorArg},
			ExtraFiles:  []*os.File{theirs}, // fd 3, supervisorFD
			SysProcAttr: sys,
		},
		c:       c,
		stderr:  &tail{},
		userNS:  ws.UserNS,
		done:    make(chan struct{}),
		pending: map[uint64]chan reply{},
		procs:   map[uint64]*Process{},
	}
	s.cmd.Stderr = s.stderr
	err = s.startSupervisor()
	theirs.Close()
	if err != nil {
		c.close()
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EUSERS) {
			return nil, fmt.Errorf("sandbox: start supervisor: %w (%w)", ErrUnsupported, err)
		}
		return nil, fmt.Errorf("sandbox: start supervisor: %w", err)
	}

	if err := s.handshake(ctx, ws); err != nil {
		c.close()
		_ = s.cmd.Process.Kill()
		_ = s.wait()
		return nil, err
	}
	go s.read()
	return s, nil
}

// startSupervisor starts the supervisor from a thread kept for it until
// the sandbox has ended. The kernel sends the supervisor its death signal
// when the thread that forked it exits, not the process, and Go ends a
// thread whenever a goroutine locked to it returns: forked from any
// thread, the supervisor could be killed by some unrelated goroutine that
// called runtime.LockOSThread on that thread later and ended.
func (s *Sandbox) startSupervisor() error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		err := s.cmd.Start()
		started <- err
		if err != nil {
			runtime.UnlockOSThread()
			return
		}
		// Hold the thread until the supervisor has exited.
		_ = s.wait()
		runtime.UnlockOSThread()
	}()
	return <-started
}

// Memory returns the host path of the sandbox's memory directory (see
// Spec.Memory), or "" if it has none. The caller reads and writes it as any
// directory. The path is valid in the calling process alone (it goes
// through an fd of it) and only until the sandbox is closed.
func (s *Sandbox) Memory() string { return s.memory }

// wire checks spec and puts it in the form the supervisor reads. Sources
// in memory, the host path of the memory directory, become paths relative
// to it.
func wire(spec Spec, memory string) (*wireSpec, error) {
	ws := &wireSpec{Hostname: spec.Hostname}
	for _, m := range spec.Mounts {
		if !filepath.IsAbs(m.Target) {
			return nil, fmt.Errorf("sandbox: mount target %q is not an absolute path", m.Target)
		}
		if m.Source == "" {
			return nil, fmt.Errorf("sandbox: mount at %s has no source", m.Target)
		}
		src, err := filepath.Abs(m.Source)
		if err != nil {
			return nil, fmt.Errorf("sandbox: mount source %s: %w", m.Source, err)
		}
		wm := wireMount{Source: src, Target: filepath.Clean(m.Target), ReadOnly: m.ReadOnly}
		if memory != "" && (src == memory || strings.HasPrefix(src, memory+"/")) {
			wm.Source, wm.InMemory = "."+strings.TrimPrefix(src, memory), true
		}
		ws.Mounts = append(ws.Mounts, wm)
	}
	return ws, nil
}

// handshake sends the spec and waits until the supervisor has built the
// sandbox. Cancelling ctx kills the supervisor.
func (s *Sandbox) handshake(ctx context.Context, ws *wireSpec) error {
	stop := context.AfterFunc(ctx, func() { _ = s.cmd.Process.Kill() })
	err := s.c.send(&message{Op: opSetup, Spec: ws})
	var m *message
	var fds []int
	if err == nil {
		m, fds, err = s.c.recv()
	}
	if err != nil || m.Dir == "" || len(fds) != 1 {
		closeAll(fds)
		fds = nil
	}
	if !stop() {
		return fmt.Errorf("sandbox: start: %w", context.Cause(ctx))
	}
	if err != nil {
		werr := s.wait()
		return fmt.Errorf("sandbox: start: supervisor failed: %w%s", errors.Join(err, werr), s.stderr.suffix())
	}
	if m.Op != opReady {
		return fmt.Errorf("sandbox: start: unexpected %q message", m.Op)
	}
	if err := m.error(); err != nil {
		if m.Unsupported {
			return fmt.Errorf("sandbox: %w: %w", ErrUnsupported, err)
		}
		return fmt.Errorf("sandbox: %w", err)
	}
	if m.Dir != "" {
		if len(fds) != 1 {
			return errors.New("sandbox: start: the supervisor did not hand over the memory directory")
		}
		s.memoryDir = os.NewFile(uintptr(fds[0]), "sandbox-memory")
		s.memory = fmt.Sprintf("/proc/self/fd/%d", fds[0])
	}
	return nil
}

// read receives replies and exits until the supervisor goes away.
func (s *Sandbox) read() {
	var err error
	for {
		var m *message
		var fds []int
		m, fds, err = s.c.recv()
		closeAll(fds)
		if err != nil {
			break
		}
		switch m.Op {
		case opExit:
			s.mu.Lock()
			p := s.procs[m.Proc]
			delete(s.procs, m.Proc)
			s.mu.Unlock()
			if p != nil {
				p.finish(Exit{Code: m.Code, Signal: syscall.Signal(m.Signal)}, nil)
			}
		default:
			r := reply{m: m}
			s.mu.Lock()
			if m.Op == opStarted && m.Err == "" {
				// Registered here, before the next message, which may
				// be its exit.
				r.p = &Process{s: s, id: m.Proc, done: make(chan struct{})}
				s.procs[m.Proc] = r.p
			}
			ch := s.pending[m.ID]
			delete(s.pending, m.ID)
			s.mu.Unlock()
			if ch != nil {
				ch <- r
			}
		}
	}

	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	ended := ErrClosed
	if !closing {
		werr := s.wait()
		ended = fmt.Errorf("sandbox supervisor ended unexpectedly: %w%s", errors.Join(err, werr, ErrClosed), s.stderr.suffix())
	}
	s.mu.Lock()
	s.ended = ended
	pending, procs := s.pending, s.procs
	s.pending, s.procs = map[uint64]chan reply{}, map[uint64]*Process{}
	s.mu.Unlock()
	for _, ch := range pending {
		ch <- reply{err: ended}
	}
	for _, p := range procs {
		p.finish(Exit{}, ended)
	}
	close(s.done)
}

// call sends a request and waits for its reply.
func (s *Sandbox) call(m *message, fds ...int) (reply, error) {
	ch := make(chan reply, 1)
	s.mu.Lock()
	switch {
	case s.ended != nil:
		err := s.ended
		s.mu.Unlock()
		return reply{}, err
	case s.closing:
		s.mu.Unlock()
		return reply{}, ErrClosed
	}
	s.nextID++
	m.ID = s.nextID
	s.pending[m.ID] = ch
	s.mu.Unlock()
	if err := s.c.send(m, fds...); err != nil {
		s.mu.Lock()
		delete(s.pending, m.ID)
		s.mu.Unlock()
		return reply{}, err
	}
	r := <-ch
	if r.err != nil {
		return r, r.err
	}
	return r, r.m.error()
}

// Start starts cmd in the sandbox. Its process gets a process group of its
// own; when it exits, whatever is left in that group is killed, as a
// container's processes die with its main process.
func (s *Sandbox) Start(cmd Cmd) (*Process, error) { return s.start(cmd, 0, 0) }

// newGroup asks the supervisor for a group described by spec and returns
// its id.
func (s *Sandbox) newGroup(spec Spec) (uint64, error) {
	if spec.Memory != "" {
		return 0, errors.New("sandbox: group: a group has the sandbox's memory directory, not one of its own")
	}
	if spec.Supervisor != "" {
		return 0, errors.New("sandbox: group: a group is served by the sandbox's supervisor, not one of its own")
	}
	ws, err := wire(spec, s.memory)
	if err != nil {
		return 0, err
	}
	r, err := s.call(&message{Op: opGroup, Spec: ws})
	if err != nil {
		return 0, fmt.Errorf("sandbox: group: %w", err)
	}
	return r.m.Group, nil
}

// endGroup tells the supervisor that group id starts nothing more.
func (s *Sandbox) endGroup(id uint64) error {
	if _, err := s.call(&message{Op: opUngroup, Group: id}); err != nil {
		return fmt.Errorf("sandbox: end group: %w", err)
	}
	return nil
}

// start starts cmd in group (0: in the sandbox itself), after process
// after has exited 0 if after is not 0.
func (s *Sandbox) start(cmd Cmd, group, after uint64) (*Process, error) {
	if s.userNS && (cmd.UID != nil && *cmd.UID != 0 || cmd.GID != nil && *cmd.GID != 0) {
		return nil, fmt.Errorf("sandbox: start %s: only uid and gid 0 (the caller) exist in this sandbox's user namespace", cmd.Path)
	}
	m := &message{
		Op:        opStart,
		Path:      cmd.Path,
		Args:      cmd.Args,
		Env:       cmd.Env,
		Dir:       cmd.Dir,
		MkdirDir:  cmd.MkdirDir,
		UID:       cmd.UID,
		GID:       cmd.GID,
		Hostname:  cmd.Hostname,
		Exclusive: cmd.Exclusive,
		Group:     group,
		After:     after,
		ExitFile:  cmd.ExitCodeFile,
	}
	if m.ExitFile != "" && s.memory == "" {
		return nil, fmt.Errorf("sandbox: start %s: an exit code file needs the sandbox's memory directory", cmd.Path)
	}
	if m.Env == nil {
		m.Env = os.Environ()
	}
	var fds []int
	defer func() { closeAll(fds) }()
	for i, f := range []*os.File{cmd.Stdin, cmd.Stdout, cmd.Stderr} {
		if f == nil {
			continue
		}
		fd, err := dupFile(f)
		if err != nil {
			return nil, fmt.Errorf("sandbox: start %s: %w", cmd.Path, err)
		}
		fds = append(fds, fd)
		m.Fds |= 1 << i
	}
	if len(cmd.Mounts) > 0 {
		ws, err := wire(Spec{Mounts: cmd.Mounts}, s.memory)
		if err != nil {
			return nil, err
		}
		m.Mounts = ws.Mounts
	}
	r, err := s.call(m, fds...)
	if err != nil && r.m != nil && r.m.NotStarted {
		return nil, fmt.Errorf("sandbox: start %s: %w: %w", cmd.Path, ErrNotStarted, err)
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: start %s: %w", cmd.Path, err)
	}
	return r.p, nil
}

// dupFile returns a close-on-exec duplicate of f's fd, without switching f
// to blocking mode as f.Fd would.
func dupFile(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("%s: %w", f.Name(), err)
	}
	dup := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		dup, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, fmt.Errorf("%s: %w", f.Name(), err)
	}
	if derr != nil {
		return -1, fmt.Errorf("%s: dup: %w", f.Name(), derr)
	}
	return dup, nil
}

// Close kills every process left in the sandbox (with SIGKILL, whatever
// group or session it is in), waits until they are gone and the supervisor
// has exited, and so ends the sandbox's namespaces and mounts. Processes
// still running report Exit{Code: 137, Signal: SIGKILL}. Close may be
// called more than once.
func (s *Sandbox) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		_ = s.c.send(&message{Op: opClose})
		select {
		case <-s.done:
		case <-time.After(closeTimeout):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		err := s.wait()
		s.c.close()
		if s.memoryDir != nil {
			s.memoryDir.Close()
		}
		if err != nil {
			s.closeErr = fmt.Errorf("sandbox: supervisor: %w%s", err, s.stderr.suffix())
		}
	})
	return s.closeErr
}

// wait waits for the supervisor process to exit.
func (s *Sandbox) wait() error {
	s.waitOnce.Do(func() { s.waitErr = s.cmd.Wait() })
	return s.waitErr
}

// Signal sends sig to the process's group: the process and whatever it
// started that has not left the group. It returns os.ErrProcessDone if the
// process has already exited.
func (p *Process) Signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return os.ErrProcessDone
	default:
	}
	if _, err := p.s.call(&message{Op: opSignal, Proc: p.id, Signal: int(sig)}); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return os.ErrProcessDone
		}
		return fmt.Errorf("sandbox: %w", err)
	}
	return nil
}

// Wait waits for the process to end and returns how it ended. The error is
// set only when the sandbox could not tell: it ended first (ErrClosed).
func (p *Process) Wait() (Exit, error) {
	<-p.done
	return p.exit, p.err
}

// Done is closed when the process has ended and Wait will not block.
func (p *Process) Done() <-chan struct{} { return p.done }

func (p *Process) finish(e Exit, err error) {
	p.exit, p.err = e, err
	close(p.done)
}

// tail keeps the end of the supervisor's standard error for error
// messages.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 4096

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > tailSize {
		t.buf = t.buf[len(t.buf)-tailSize:]
	}
	return len(b), nil
}

// suffix returns ": <what the supervisor wrote>" or "".
func (t *tail) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) == 0 {
		return ""
	}
	return ": " + string(trimNewline(t.buf))
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
