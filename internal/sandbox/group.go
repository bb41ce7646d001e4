package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// Group is a set of processes in one sandbox that see the same mounts and
// host name beyond the sandbox's own, as the containers of one Pod share
// its volumes and name while the Pods of a node share the node. Many
// groups can share one sandbox, and so one supervisor: a group costs a
// request to it, while a sandbox costs a process start.
//
// The supervisor holds a group's mounts in a mount namespace of the
// group's, so a process started in it costs only its own mounts. Groups of
// one sandbox share its PID namespace, as processes of a node do; Close
// kills the process groups of what the group started.
type Group struct {
	s  *Sandbox
	id uint64

	mu     sync.Mutex
	closed bool
	procs  map[*Process]struct{}
}

// Group makes a group whose processes see spec.Mounts (applied shallowest
// target first, as a sandbox's are) under their own, and spec.Hostname as
// their host name.
func (s *Sandbox) Group(spec Spec) (*Group, error) {
	spec.Mounts = slices.Clone(spec.Mounts)
	slices.SortStableFunc(spec.Mounts, func(a, b Mount) int { return depth(a.Target) - depth(b.Target) })
	id, err := s.newGroup(spec)
	if err != nil {
		return nil, err
	}
	return &Group{s: s, id: id, procs: map[*Process]struct{}{}}, nil
}

// Start starts cmd in the group, with cmd.Mounts applied over the group's
// mounts. cmd.Hostname must be empty or the group's.
func (g *Group) Start(cmd Cmd) (*Process, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, ErrClosed
	}
	p, err := g.s.start(cmd, g.id, 0)
	if err != nil {
		return nil, err
	}
	g.track(p)
	return p, nil
}

// StartAfter starts cmd in the group the moment prev, a process of the
// group, exits 0, with no round trip through the caller: the supervisor
// holds the request until then. Both must be Exclusive. If prev has ended
// already, and no exclusive process of the group has started since, cmd
// starts at once if prev exited 0. It blocks until cmd has started, and
// returns an error wrapping ErrNotStarted, having started nothing, if prev
// ended otherwise or another exclusive process has started since.
func (g *Group) StartAfter(cmd Cmd, prev *Process) (*Process, error) {
	g.mu.Lock()
	closed := g.closed
	g.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	// Not under g.mu: Close must be able to stop prev meanwhile.
	p, err := g.s.start(cmd, g.id, prev.id)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		// Close did not see it: stop it here.
		_ = p.Signal(syscall.SIGKILL)
		<-p.Done()
		return nil, ErrClosed
	}
	g.track(p)
	return p, nil
}

// track adds p to the group's processes until it ends; g.mu is held.
func (g *Group) track(p *Process) {
	g.procs[p] = struct{}{}
	go func() {
		<-p.Done()
		g.mu.Lock()
		delete(g.procs, p)
		g.mu.Unlock()
	}()
}

// Close kills the process group of every process the group started that
// is still running, with SIGKILL, and waits until they have ended. A
// process that left its process group (a daemon that called setsid, say)
// is not reached: it ends when the sandbox does. Close may be called more
// than once; Start fails after it.
func (g *Group) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	procs := make([]*Process, 0, len(g.procs))
	for p := range g.procs {
		procs = append(procs, p)
	}
	g.mu.Unlock()
	var errs []error
	for _, p := range procs {
		if err := p.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
			errs = append(errs, err)
		}
	}
	for _, p := range procs {
		<-p.Done()
	}
	if err := g.s.endGroup(g.id); err != nil && !errors.Is(err, ErrClosed) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// depth is how many directories deep an absolute path is.
func depth(p string) int {
	return strings.Count(filepath.Clean(p), "/")
}
