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
// groups can share one sandbox, and so one supervisor: a group costs
// nothing to make, while a sandbox costs a process start.
//
// Groups of one sandbox share its PID namespace, as processes of a node
// do; a group's processes are still killed with their own process groups
// by Close.
type Group struct {
	s        *Sandbox
	mounts   []Mount
	hostname string

	mu     sync.Mutex
	closed bool
	procs  map[*Process]struct{}
}

// Group makes a group whose processes see spec.Mounts (applied shallowest
// target first, as a sandbox's are) under their own, and spec.Hostname as
// their host name unless they name their own.
func (s *Sandbox) Group(spec Spec) *Group {
	ms := slices.Clone(spec.Mounts)
	slices.SortStableFunc(ms, func(a, b Mount) int { return depth(a.Target) - depth(b.Target) })
	return &Group{s: s, mounts: ms, hostname: spec.Hostname, procs: map[*Process]struct{}{}}
}

// Start starts cmd in the group's sandbox, with the group's mounts applied
// before cmd.Mounts.
func (g *Group) Start(cmd Cmd) (*Process, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, ErrClosed
	}
	if len(g.mounts) > 0 {
		cmd.Mounts = append(slices.Clip(g.mounts), cmd.Mounts...)
	}
	if cmd.Hostname == "" {
		cmd.Hostname = g.hostname
	}
	p, err := g.s.Start(cmd)
	if err != nil {
		return nil, err
	}
	g.procs[p] = struct{}{}
	go func() {
		<-p.Done()
		g.mu.Lock()
		delete(g.procs, p)
		g.mu.Unlock()
	}()
	return p, nil
}

// Close kills the process group of every process the group started that
// is still running, with SIGKILL, and waits until they have ended. A
// process that left its process group (a daemon that called setsid, say)
// is not reached: it ends when the sandbox does. Close may be called more
// than once; Start fails after it.
func (g *Group) Close() error {
	g.mu.Lock()
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
	return errors.Join(errs...)
}

// depth is how many directories deep an absolute path is.
func depth(p string) int {
	return strings.Count(filepath.Clean(p), "/")
}
