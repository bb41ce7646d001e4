package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// supervisorFD is where the supervisor finds its end of the socket pair.
const supervisorFD = 3

// defaultPath is the PATH used to find a program when Env has none, the
// one container runtimes give a container without PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Main runs the sandbox supervisor and returns the process's exit code. It
// is meant to be called only when IsSupervisor(os.Args) is true: the
// process must have been started by Start.
//
// The supervisor is PID 1 of the sandbox's PID namespace and the only
// process in its mount namespace that is not started on request. It builds
// the sandbox's filesystem, then starts, signals and reaps processes as
// its caller asks, until the caller closes the sandbox or goes away; then
// it kills everything and exits, and the kernel tears the namespaces down.
func Main() int {
	// Only the caller, through the socket, stops the supervisor; a
	// caller that dies takes it along (Pdeathsig). Catching (not
	// ignoring) these signals also means that processes started here get
	// their default dispositions, even where the caller ignored some (as
	// nohup does): a shell cannot trap a signal ignored when it started.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT,
		syscall.SIGTERM, syscall.SIGPIPE, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM,
		syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU)
	if err := supervise(os.NewFile(supervisorFD, "sandbox")); err != nil {
		fmt.Fprintf(os.Stderr, "sandbox supervisor: %v\n", err)
		return 1
	}
	return 0
}

type supervisor struct {
	c       *conn
	home    home
	root    *rootfs
	devNull int
	userNS  bool

	// forked gets a token after each fork, waking a reaper that found no
	// child; closed is closed when shutdown starts; reaped when the reaper
	// has reaped the last child after that.
	forked chan struct{}
	closed chan struct{}
	reaped chan struct{}

	// mu orders forks, reaps, signals and replies, so that a process's
	// exit is never sent before its start reply and a group is never
	// signalled after its leader's pid may have been reused.
	mu      sync.Mutex
	closing bool
	next    uint64
	byPid   map[int]uint64
	byID    map[uint64]int
	// exclusive maps a running exclusive process to its group.
	exclusive map[uint64]*group
	// after maps a running exclusive process to the start request that
	// waits for it to exit 0 (see message.After).
	after map[uint64]*waiting
	// exitFiles maps a running process to the file its exit code goes to
	// (see message.ExitFile).
	exitFiles map[uint64]string

	// groups are only touched by the goroutine that reads requests.
	groups    map[uint64]*group
	nextGroup uint64
}

// group is a mount namespace (and a UTS namespace, with a host name) of
// the supervisor's own, holding the group's mounts, kept by fds. The
// thread that reads requests makes it and enters it to start a process
// (see enter), so each process starts from a copy of the group's mounts
// and makes only its own.
type group struct {
	root     *rootfs
	hostname string
	mnt, uts int // namespace fds; uts is -1 without a host name

	// serial is the namespace exclusive processes run in, one after
	// another (-1 until the first): a copy of the group's, made once, so
	// that the copies the group's other processes start from never hold
	// an exclusive process's mounts. serialRoot describes it.
	serial     int
	serialRoot *rootfs

	// undo removes the mounts of the running exclusive process once it
	// has ended; nil when none runs. Guarded by the supervisor's mu.
	undo func()
	// last is the exclusive process that ended last, and lastOK whether
	// it exited 0: a request to follow it that comes late starts at once.
	// Guarded by the supervisor's mu.
	last   uint64
	lastOK bool
}

// enterSerial moves the calling thread, which is in g's namespace, into
// g's serial namespace, making it the first time.
func (g *group) enterSerial() error {
	if g.serial >= 0 {
		if err := unix.Setns(g.serial, unix.CLONE_NEWNS); err != nil {
			return fmt.Errorf("enter group's namespace for exclusive processes: %w", err)
		}
		return nil
	}
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("namespace for exclusive processes: %w", err)
	}
	fd, err := threadNS("mnt")
	if err != nil {
		return fmt.Errorf("namespace for exclusive processes: %w", err)
	}
	g.serial, g.serialRoot = fd, g.root.clone()
	return nil
}

// foreignName refuses a start request that names a host name other than
// the group's: a group's processes share its UTS namespace.
func (g *group) foreignName(m *message) error {
	if m.Hostname != "" && m.Hostname != g.hostname {
		return fmt.Errorf("a process of a group has the group's host name %q, not %q", g.hostname, m.Hostname)
	}
	return nil
}

// close releases the group's namespaces; its processes keep them.
func (g *group) close() {
	if g.mnt >= 0 {
		unix.Close(g.mnt)
	}
	if g.uts >= 0 {
		unix.Close(g.uts)
	}
	if g.serial >= 0 {
		unix.Close(g.serial)
		g.serial = -1
	}
}

// waiting is a start request held until the process it follows has ended,
// with the fds and mount sources that came with it, taken at home.
type waiting struct {
	m    *message
	g    *group
	fds  []int
	srcs []openSource
}

// drop answers w's request without starting it and releases what it holds.
func (s *supervisor) drop(w *waiting, err error) {
	reply := &message{Op: opStarted, ID: w.m.ID, NotStarted: true}
	reply.setErr(err)
	_ = s.c.send(reply)
	closeSources(w.srcs)
	closeAll(w.fds)
}

// home is the namespaces of the thread that reads requests, to which it
// returns after starting a process in a group.
type home struct{ mnt, uts int }

// back moves the calling thread back into the home mount namespace, and
// with uts the home UTS namespace. A thread stuck in a group's namespaces
// would start the sandbox's processes there: if it cannot leave, nothing
// sane is left to do.
func (h home) back(uts bool) {
	err := unix.Setns(h.mnt, unix.CLONE_NEWNS)
	if err == nil && uts {
		err = unix.Setns(h.uts, unix.CLONE_NEWUTS)
	}
	if err != nil {
		panic(fmt.Sprintf("sandbox supervisor: leave group's namespaces: %v", err))
	}
}

// threadNS opens the calling thread's namespace of kind ("mnt", "uts").
func threadNS(kind string) (int, error) {
	return unix.Open("/proc/thread-self/ns/"+kind, unix.O_RDONLY|unix.O_CLOEXEC, 0)
}

// enter moves the calling thread, which must be locked to its goroutine
// and have a file system context of its own (see supervise), into g's
// namespaces, and returns a function that moves it back.
func (h home) enter(g *group) (leave func(), err error) {
	if err := unix.Setns(g.mnt, unix.CLONE_NEWNS); err != nil {
		return nil, fmt.Errorf("enter group's mount namespace: %w", err)
	}
	leave = func() { h.back(g.uts >= 0) }
	if g.uts >= 0 {
		if err := unix.Setns(g.uts, unix.CLONE_NEWUTS); err != nil {
			leave()
			return nil, fmt.Errorf("enter group's UTS namespace: %w", err)
		}
	}
	return leave, nil
}

func supervise(f *os.File) error {
	c, err := newConn(f)
	if err != nil {
		return err
	}
	m, fds, err := c.recv()
	closeAll(fds)
	if err != nil {
		return fmt.Errorf("read set-up: %w", err)
	}
	if m.Op != opSetup || m.Spec == nil {
		return fmt.Errorf("expected %s message, got %q", opSetup, m.Op)
	}
	if m.Spec.Protocol != protocol {
		reply := &message{Op: opReady}
		reply.setErr(fmt.Errorf("the supervisor speaks protocol version %d, the caller %d", protocol, m.Spec.Protocol))
		return c.send(reply)
	}
	root, err := buildRoot(m.Spec)
	if err != nil {
		reply := &message{Op: opReady}
		reply.setErr(err)
		var se *setupError
		reply.Unsupported = errors.As(err, &se)
		return c.send(reply)
	}
	devNull, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		reply := &message{Op: opReady}
		reply.setErr(fmt.Errorf("open /dev/null: %w", err))
		return c.send(reply)
	}
	// This goroutine reads requests and starts processes, in the
	// sandbox's namespaces or a group's, from its own thread: it enters
	// a group's mount namespace, which a thread sharing its file system
	// context (root, working directory) with others may not.
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		reply := &message{Op: opReady}
		reply.setErr(fmt.Errorf("own file system context: %w", err))
		return c.send(reply)
	}
	h, err := homeNamespaces()
	if err != nil {
		reply := &message{Op: opReady}
		reply.setErr(err)
		return c.send(reply)
	}
	s := &supervisor{
		c:         c,
		home:      h,
		root:      root,
		devNull:   devNull,
		userNS:    m.Spec.UserNS,
		forked:    make(chan struct{}, 1),
		closed:    make(chan struct{}),
		reaped:    make(chan struct{}),
		byPid:     map[int]uint64{},
		byID:      map[uint64]int{},
		exclusive: map[uint64]*group{},
		after:     map[uint64]*waiting{},
		exitFiles: map[uint64]string{},
		groups:    map[uint64]*group{},
	}
	// The memory directory travels to the caller as an fd: a path under
	// /proc/<pid>/root would depend on which namespace the thread that
	// leads this process is in.
	var memory []int
	if root.memory >= 0 {
		memory = append(memory, root.memory)
	}
	if err := c.send(&message{Op: opReady, Dir: root.memoryPath}, memory...); err != nil {
		return err
	}
	go s.reap()
	defer s.shutdown()
	for {
		m, fds, err := c.recv()
		if err != nil {
			// The caller closed its end or is gone: stop everything.
			return nil
		}
		switch m.Op {
		case opStart:
			s.start(m, fds)
		case opSignal:
			closeAll(fds)
			s.signal(m)
		case opGroup:
			closeAll(fds)
			if err := s.group(m); err != nil {
				return err
			}
		case opUngroup:
			closeAll(fds)
			if g := s.groups[m.Group]; g != nil {
				s.mu.Lock() // the reaper may be undoing in it
				for id, w := range s.after {
					if w.g == g {
						delete(s.after, id)
						s.drop(w, errors.New("its group has ended"))
					}
				}
				g.close()
				s.mu.Unlock()
				delete(s.groups, m.Group)
			}
			if err := c.send(&message{Op: opUngrouped, ID: m.ID}); err != nil {
				return err
			}
		case opClose:
			closeAll(fds)
			return nil
		default:
			closeAll(fds)
			reply := &message{Op: m.Op, ID: m.ID}
			reply.setErr(fmt.Errorf("unknown operation %q", m.Op))
			if err := c.send(reply); err != nil {
				return err
			}
		}
	}
}

// shutdown kills every process in the sandbox and waits until the reaper
// has reported them all.
func (s *supervisor) shutdown() {
	s.mu.Lock()
	s.closing = true
	close(s.closed)
	s.mu.Unlock()
	for {
		// As PID 1 of the namespace, kill(-1) reaches every other
		// process in it, whatever its process group or session. Repeat
		// in case one was forking while the signal went out.
		_ = unix.Kill(-1, unix.SIGKILL)
		select {
		case <-s.reaped:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// group makes a group and replies with its id, or with why it could not.
func (s *supervisor) group(m *message) error {
	reply := &message{Op: opGrouped, ID: m.ID}
	if m.Spec == nil {
		reply.setErr(errors.New("group request without a spec"))
		return s.c.send(reply)
	}
	g, err := s.newGroup(m.Spec)
	if err != nil {
		reply.setErr(err)
		return s.c.send(reply)
	}
	s.nextGroup++
	s.groups[s.nextGroup] = g
	reply.Group = s.nextGroup
	return s.c.send(reply)
}

// newGroup makes a group's namespaces from the sandbox's, on the calling
// thread (the one that reads requests), which returns home after.
func (s *supervisor) newGroup(spec *wireSpec) (*group, error) {
	// Sources are taken in the sandbox's own namespace, before any of
	// the group's mounts can cover a host path one lies under.
	srcs, err := s.sources(spec.Mounts)
	if err != nil {
		return nil, err
	}
	defer closeSources(srcs)
	g := &group{hostname: spec.Hostname, mnt: -1, uts: -1, serial: -1}
	flags := unix.CLONE_NEWNS
	if g.hostname != "" {
		flags |= unix.CLONE_NEWUTS
	}
	if err := unix.Unshare(flags); err != nil {
		return nil, fmt.Errorf("group namespaces: %w", err)
	}
	defer s.home.back(flags&unix.CLONE_NEWUTS != 0)
	s.mu.Lock()
	g.root = s.root.clone()
	s.mu.Unlock()
	if err := g.build(srcs); err != nil {
		g.close()
		return nil, err
	}
	return g, nil
}

// build finishes a group in its new namespaces, on the thread that is in
// them: host name, namespace fds, mounts.
func (g *group) build(srcs []openSource) error {
	var err error
	if g.hostname != "" {
		if err := unix.Sethostname([]byte(g.hostname)); err != nil {
			return fmt.Errorf("set hostname %q: %w", g.hostname, err)
		}
		if g.uts, err = threadNS("uts"); err != nil {
			return fmt.Errorf("group's UTS namespace: %w", err)
		}
	}
	if g.mnt, err = threadNS("mnt"); err != nil {
		return fmt.Errorf("group's mount namespace: %w", err)
	}
	for _, src := range srcs {
		if err := g.root.attach(src); err != nil {
			return err
		}
	}
	return nil
}

// homeNamespaces opens the namespaces of the calling thread.
func homeNamespaces() (home, error) {
	mnt, err := threadNS("mnt")
	if err != nil {
		return home{}, fmt.Errorf("sandbox's mount namespace: %w", err)
	}
	uts, err := threadNS("uts")
	if err != nil {
		unix.Close(mnt)
		return home{}, fmt.Errorf("sandbox's UTS namespace: %w", err)
	}
	return home{mnt: mnt, uts: uts}, nil
}

func (s *supervisor) start(m *message, fds []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The process's own mounts' sources are taken here, at home, where
	// no group's mount covers a host path.
	srcs, err := s.sources(m.Mounts)
	if err != nil {
		closeAll(fds)
		s.replyStarted(m, 0, err)
		return
	}
	if m.After != 0 {
		s.hold(m, fds, srcs)
		return
	}
	defer closeAll(fds)
	defer closeSources(srcs)
	if m.Group == 0 {
		if m.Exclusive {
			s.replyStarted(m, 0, errors.New("only a group's process can be exclusive"))
			return
		}
		id, undo, err := s.startLocked(s.root, "", m, srcs, len(srcs) > 0, fds)
		s.replyStarted(m, id, err)
		undo()
		return
	}
	g := s.groups[m.Group]
	switch {
	case g == nil:
		s.replyStarted(m, 0, fmt.Errorf("no group %d", m.Group))
		return
	case g.foreignName(m) != nil:
		s.replyStarted(m, 0, g.foreignName(m))
		return
	case m.Exclusive && g.undo != nil:
		s.replyStarted(m, 0, errors.New("the group already runs an exclusive process"))
		return
	}
	s.startIn(g, m, srcs, fds)
}

// hold keeps start request m (with After) until the process it follows
// has ended; the reaper then starts it (see follow). s.mu is held.
func (s *supervisor) hold(m *message, fds []int, srcs []openSource) {
	w := &waiting{m: m, fds: fds, srcs: srcs}
	g := s.exclusive[m.After]
	if g == nil {
		if last := s.groups[m.Group]; last != nil && last.last == m.After && m.Exclusive {
			// It has ended already: start now, as the reaper would have.
			if !last.lastOK {
				s.drop(w, fmt.Errorf("process %d did not exit 0", m.After))
				return
			}
			if last.undo != nil {
				s.drop(w, errors.New("the group already runs an exclusive process"))
				return
			}
			if err := last.foreignName(m); err != nil {
				s.drop(w, err)
				return
			}
			s.startIn(last, m, srcs, fds)
			closeSources(srcs)
			closeAll(fds)
			return
		}
	}
	switch {
	case !m.Exclusive:
		s.drop(w, errors.New("only an exclusive process can follow another"))
	case g == nil:
		s.drop(w, fmt.Errorf("process %d is not running", m.After))
	case s.groups[m.Group] != g:
		s.drop(w, fmt.Errorf("process %d is not of group %d", m.After, m.Group))
	case g.foreignName(m) != nil:
		s.drop(w, g.foreignName(m))
	case s.after[m.After] != nil:
		s.drop(w, fmt.Errorf("another process already follows process %d", m.After))
	default:
		w.g = g
		s.after[m.After] = w
	}
}

// follow starts the request waiting for process id, now ended with ws, if
// it exited 0, from the reaper's thread; s.mu is held, and id's mounts are
// undone.
func (s *supervisor) follow(id uint64, ws unix.WaitStatus, ownFS bool) {
	w := s.after[id]
	if w == nil {
		return
	}
	delete(s.after, id)
	switch {
	case ws.Signaled():
		s.drop(w, fmt.Errorf("process %d was killed by %v", id, ws.Signal()))
	case ws.ExitStatus() != 0:
		s.drop(w, fmt.Errorf("process %d exited with code %d", id, ws.ExitStatus()))
	case !ownFS:
		// Without a file system context of its own, this thread may
		// not enter a group's namespaces: the caller starts it.
		s.drop(w, errors.New("the reaper cannot start processes here"))
	default:
		s.startIn(w.g, w.m, w.srcs, w.fds)
		closeSources(w.srcs)
		closeAll(w.fds)
	}
}

// startIn starts m in group g, from the calling thread, which is locked,
// has a file system context of its own and is at home; s.mu is held.
func (s *supervisor) startIn(g *group, m *message, srcs []openSource, fds []int) {
	// Forked in the group's namespaces; the reply goes before the
	// process's mounts are undone, which can wait for the kernel.
	leave, err := s.home.enter(g)
	if err != nil {
		s.replyStarted(m, 0, err)
		return
	}
	defer leave()
	// An exclusive process shares the group's serial namespace; every
	// other gets a copy of the group's own.
	root := g.root
	if m.Exclusive {
		if err := g.enterSerial(); err != nil {
			s.replyStarted(m, 0, err)
			return
		}
		root = g.serialRoot
	}
	id, undo, err := s.startLocked(root, g.hostname, m, srcs, !m.Exclusive, fds)
	s.replyStarted(m, id, err)
	if m.Exclusive && err == nil {
		// Undone by the reaper once the process has ended.
		g.undo = undo
		s.exclusive[id] = g
		return
	}
	undo()
}

// replyStarted answers start request m.
func (s *supervisor) replyStarted(m *message, id uint64, err error) {
	reply := &message{Op: opStarted, ID: m.ID}
	if err != nil {
		reply.setErr(err)
	} else {
		reply.Proc = id
	}
	_ = s.c.send(reply)
}

// startLocked starts the process m asks for, from the calling thread,
// whose mount namespace root describes and whose host name is hostname.
//
// The process's own mounts, srcs (see sources), are made here; undo
// removes them from this namespace again. The caller calls it, on the same
// thread, whatever the outcome, and may reply first: unmounting can wait
// for the kernel. With ownNS, the process gets a copy of the namespace,
// made as it starts, in which its mounts stay; without, it shares the
// namespace and sees its mounts only until undo.
func (s *supervisor) startLocked(root *rootfs, hostname string, m *message, srcs []openSource, ownNS bool, fds []int) (uint64, func(), error) {
	own, ownEnd := len(root.mounts), len(root.mounts)
	undo := func() {
		for i := ownEnd - 1; i >= own; i-- {
			_ = unix.Unmount(root.mounts[i].path, unix.MNT_DETACH)
		}
		root.mounts = append(root.mounts[:own], root.mounts[ownEnd:]...)
	}
	if s.closing {
		return 0, undo, ErrClosed
	}
	stdio := []uintptr{uintptr(s.devNull), uintptr(s.devNull), uintptr(s.devNull)}
	next := 0
	for i, bit := range []int{fdStdin, fdStdout, fdStderr} {
		if m.Fds&bit == 0 {
			continue
		}
		if next >= len(fds) {
			return 0, undo, errors.New("start request is missing its fds")
		}
		// Like exec.Cmd, give the process blocking I/O.
		if err := unix.SetNonblock(fds[next], false); err != nil {
			return 0, undo, fmt.Errorf("passed fd: %w", err)
		}
		stdio[i] = uintptr(fds[next])
		next++
	}

	for _, src := range srcs {
		err := root.attach(src)
		ownEnd = len(root.mounts)
		if err != nil {
			return 0, undo, err
		}
	}

	dir := m.Dir
	if !filepath.IsAbs(dir) {
		dir = "/" + dir
	}
	dir = filepath.Clean(dir)
	if m.MkdirDir {
		if _, err := root.mkdirAll(dir, true); err != nil {
			return 0, undo, fmt.Errorf("create working directory %s: %w", dir, err)
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 0, undo, &fs.PathError{Op: "working directory", Path: dir, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return 0, undo, &fs.PathError{Op: "working directory", Path: dir, Err: unix.ENOTDIR}
	}

	path, err := lookPath(m.Path, m.Env)
	if err != nil {
		return 0, undo, err
	}
	if m.ExitFile != "" {
		if s.root.memory < 0 {
			return 0, undo, errors.New("an exit code file needs the sandbox's memory directory")
		}
		if rel := filepath.Clean(m.ExitFile); filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
			return 0, undo, fmt.Errorf("exit code file %s is outside the memory directory", m.ExitFile)
		}
	}
	args := m.Args
	if len(args) == 0 {
		args = []string{m.Path}
	}
	sys := &syscall.SysProcAttr{Setpgid: true}
	if ownNS {
		sys.Unshareflags = syscall.CLONE_NEWNS
	}
	if m.UID != nil || m.GID != nil {
		cred := &syscall.Credential{NoSetGroups: s.userNS}
		if m.UID != nil {
			cred.Uid = uint32(*m.UID)
		}
		if m.GID != nil {
			cred.Gid = uint32(*m.GID)
		}
		sys.Credential = cred
	}
	attr := &syscall.ProcAttr{Dir: dir, Env: m.Env, Files: stdio, Sys: sys}
	var pid int
	if m.Hostname != "" && m.Hostname != hostname {
		pid, err = forkExecNamed(m.Hostname, path, args, attr)
	} else {
		pid, err = syscall.ForkExec(path, args, attr)
	}
	if err != nil {
		return 0, undo, &fs.PathError{Op: "exec", Path: path, Err: err}
	}
	s.next++
	s.byPid[pid] = s.next
	s.byID[s.next] = pid
	if m.ExitFile != "" {
		s.exitFiles[s.next] = filepath.Clean(m.ExitFile)
	}
	select {
	case s.forked <- struct{}{}:
	default:
	}
	return s.next, undo, nil
}

// forkExecNamed starts a process in a new UTS namespace with the host name
// name. The namespace is made for one thread, locked to a goroutine that
// forks from it and then ends without unlocking, so that Go discards the
// thread: the supervisor's other threads keep their host name.
func forkExecNamed(name, path string, args []string, attr *syscall.ProcAttr) (int, error) {
	type result struct {
		pid int
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWUTS); err != nil {
			done <- result{err: fmt.Errorf("new UTS namespace: %w", err)}
			return
		}
		if err := unix.Sethostname([]byte(name)); err != nil {
			done <- result{err: fmt.Errorf("set hostname %q: %w", name, err)}
			return
		}
		pid, err := syscall.ForkExec(path, args, attr)
		done <- result{pid: pid, err: err}
	}()
	r := <-done
	return r.pid, r.err
}

// sources takes the sources of ms in the calling thread's namespace, the
// sandbox's own: each becomes a detached copy of the mount tree at the
// source (open_tree), which attach then puts in place in whichever
// namespace the thread has entered. A host path is found through the
// sandbox's mirror of the host's root (a mount of the caller's namespace
// cannot be copied here directly), a path in memory through the memory
// directory's fd.
func (s *supervisor) sources(ms []wireMount) ([]openSource, error) {
	var srcs []openSource
	for _, wm := range ms {
		src, err := s.root.source(wm)
		if err != nil {
			closeSources(srcs)
			return nil, err
		}
		srcs = append(srcs, src)
	}
	return srcs, nil
}

func (r *rootfs) source(wm wireMount) (openSource, error) {
	var fd int
	var err error
	if wm.InMemory {
		if r.memory < 0 {
			return openSource{}, fmt.Errorf("mount source %s: this sandbox has no memory directory", wm.Source)
		}
		rel := filepath.Clean(wm.Source)
		if filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
			return openSource{}, fmt.Errorf("mount source %s is outside the memory directory", wm.Source)
		}
		fd, err = unix.Openat(r.memory, rel, unix.O_PATH|unix.O_CLOEXEC, 0)
	} else {
		if ok, _ := r.hostAt(wm.Source); !ok {
			return openSource{}, fmt.Errorf("mount source %s is not a host path this sandbox mirrors", wm.Source)
		}
		fd, err = unix.Open(wm.Source, unix.O_PATH|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return openSource{}, fmt.Errorf("mount source %s: %w", wm.Source, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return openSource{}, fmt.Errorf("mount source %s: %w", wm.Source, err)
	}
	tree, err := unix.OpenTree(fd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH|unix.AT_RECURSIVE)
	if err != nil {
		return openSource{}, fmt.Errorf("mount source %s: copy its mounts: %w", wm.Source, err)
	}
	return openSource{fd: tree, isDir: st.Mode&unix.S_IFMT == unix.S_IFDIR, m: wm}, nil
}

func closeSources(srcs []openSource) {
	for _, s := range srcs {
		unix.Close(s.fd)
	}
}

// lookPath finds file as a shell would inside the sandbox, in the PATH of
// env.
func lookPath(file string, env []string) (string, error) {
	if file == "" {
		return "", &fs.PathError{Op: "exec", Path: file, Err: unix.ENOENT}
	}
	if strings.Contains(file, "/") {
		return file, nil
	}
	path := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, file)
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mode&0o111 != 0 {
			return p, nil
		}
	}
	return "", &fs.PathError{Op: "exec", Path: file, Err: fmt.Errorf("executable file not found in $PATH: %w", unix.ENOENT)}
}

func (s *supervisor) signal(m *message) {
	reply := &message{Op: opSignald, ID: m.ID}
	s.mu.Lock()
	defer s.mu.Unlock()
	if pid, ok := s.byID[m.Proc]; !ok {
		reply.setErr(fmt.Errorf("signal: %w", unix.ESRCH))
	} else if err := unix.Kill(-pid, syscall.Signal(m.Signal)); err != nil {
		reply.setErr(fmt.Errorf("signal: %w", err))
	}
	_ = s.c.send(reply)
}

// reap waits for every child of the supervisor: the processes it started
// and, as PID 1 of the namespace, every orphan. When a started process
// ends, the rest of its process group is killed, as a container's
// processes die with its main process, and its exit is reported.
func (s *supervisor) reap() {
	defer close(s.reaped)
	// The reaper undoes an exclusive process's mounts in its group's
	// namespace (see undoExclusive), which takes a thread of its own.
	runtime.LockOSThread()
	ownFS := unix.Unshare(unix.CLONE_FS) == nil
	for {
		pid, err := waitExited()
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ECHILD):
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return
			}
			select {
			case <-s.forked:
			case <-s.closed:
			}
			continue
		case err != nil:
			fmt.Fprintf(os.Stderr, "sandbox supervisor: wait: %v\n", err)
			return
		}
		s.mu.Lock()
		id, started := s.byPid[pid]
		if started {
			// The leader is still a zombie, so its pid, the group's
			// id, cannot have been reused.
			_ = unix.Kill(-pid, unix.SIGKILL)
		}
		var ws unix.WaitStatus
		for {
			_, err = unix.Wait4(pid, &ws, 0, nil)
			if !errors.Is(err, unix.EINTR) {
				break
			}
		}
		if started {
			delete(s.byPid, pid)
			delete(s.byID, id)
			m := &message{Op: opExit, Proc: id}
			switch {
			case ws.Signaled():
				m.Signal = int(ws.Signal())
				m.Code = 128 + m.Signal
			default:
				m.Code = ws.ExitStatus()
			}
			if f, ok := s.exitFiles[id]; ok {
				delete(s.exitFiles, id)
				s.writeExitCode(f, m.Code)
			}
			_ = s.c.send(m)
			if g := s.exclusive[id]; g != nil {
				g.last, g.lastOK = id, !ws.Signaled() && ws.ExitStatus() == 0
			}
			s.undoExclusive(id, ownFS)
			s.follow(id, ws, ownFS)
		}
		s.mu.Unlock()
	}
}

// writeExitCode writes code to file, in the memory directory, which the
// sandbox's processes can change: the path may not leave it. A failure is
// the caller's to notice: the file is missing.
func (s *supervisor) writeExitCode(file string, code int) {
	fd, err := unix.Openat2(s.root.memory, file, &unix.OpenHow{
		Flags:   unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC | unix.O_CLOEXEC | unix.O_NOFOLLOW,
		Mode:    0o644,
		Resolve: unix.RESOLVE_BENEATH,
	})
	if errors.Is(err, unix.ENOSYS) {
		// Kernels before 5.6: the last component at least is no link.
		fd, err = unix.Openat(s.root.memory, file, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sandbox supervisor: exit code file %s: %v\n", file, err)
		return
	}
	_, _ = unix.Write(fd, []byte(strconv.Itoa(code)))
	unix.Close(fd)
}

// undoExclusive removes the mounts of exclusive process id, if it was one,
// from its group's namespace, entered from the reaper's thread; s.mu is
// held, so the group's next process starts after.
func (s *supervisor) undoExclusive(id uint64, ownFS bool) {
	g := s.exclusive[id]
	if g == nil {
		return
	}
	delete(s.exclusive, id)
	undo := g.undo
	g.undo = nil
	if g.serial < 0 || !ownFS {
		return
	}
	if err := unix.Setns(g.serial, unix.CLONE_NEWNS); err != nil {
		return
	}
	undo()
	s.home.back(false)
}

// siginfo is the part of the kernel's siginfo_t that waitid fills for a
// child: the union after the first three ints is pointer-aligned.
type siginfo struct {
	Signo  int32
	Errno  int32
	Code   int32
	_      [unsafe.Sizeof(uintptr(0))/4 - 1]int32
	Pid    int32
	Uid    uint32
	Status int32
	_      [128 - 24 - 4*(unsafe.Sizeof(uintptr(0))/4-1)]byte
}

// waitExited blocks until a child has exited and returns its pid, leaving
// the child a zombie (WNOWAIT).
func waitExited() (int, error) {
	var info siginfo
	_, _, errno := unix.Syscall6(unix.SYS_WAITID, unix.P_ALL, 0, uintptr(unsafe.Pointer(&info)), unix.WEXITED|unix.WNOWAIT, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(info.Pid), nil
}
