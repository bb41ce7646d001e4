//go:build !linux

package sandbox

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// Sandbox is a running sandbox. On this system none can be started.
type Sandbox struct{}

// Process is a process started in a sandbox.
type Process struct{ id uint64 }

// Start returns an error wrapping ErrUnsupported: mount namespaces exist
// only on Linux.
func Start(ctx context.Context, spec Spec) (*Sandbox, error) {
	return nil, fmt.Errorf("sandbox: %s: %w", runtime.GOOS, ErrUnsupported)
}

// Start returns ErrUnsupported.
func (s *Sandbox) Start(cmd Cmd) (*Process, error) { return nil, ErrUnsupported }

func (s *Sandbox) newGroup(spec Spec) (uint64, error)                   { return 0, ErrUnsupported }
func (s *Sandbox) endGroup(id uint64) error                             { return ErrUnsupported }
func (s *Sandbox) start(cmd Cmd, group, after uint64) (*Process, error) { return nil, ErrUnsupported }

// Close does nothing.
func (s *Sandbox) Close() error { return nil }

// Signal returns ErrUnsupported.
func (p *Process) Signal(sig syscall.Signal) error { return ErrUnsupported }

// Wait returns ErrUnsupported.
func (p *Process) Wait() (Exit, error) { return Exit{}, ErrUnsupported }

// Done returns a closed channel.
func (p *Process) Done() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// Main reports that there is no supervisor on this system.
func Main() int {
	fmt.Fprintf(os.Stderr, "sandbox supervisor: %s: %v\n", runtime.GOOS, ErrUnsupported)
	return 2
}

// Memory returns "": there is no sandbox.
func (s *Sandbox) Memory() string { return "" }
