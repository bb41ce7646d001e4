package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc identifies a process by pid and start time, so a recorded pid that
// the kernel has since given to another process is never signalled.
type Proc struct {
	Name  string `json:"name"`
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// procOf records the running process pid.
func procOf(name string, pid int) (Proc, error) {
	start, _, err := procStat(pid)
	if err != nil {
		return Proc{}, err
	}
	return Proc{Name: name, PID: pid, Start: start}, nil
}

// procStat returns a process's start time (in clock ticks since boot) and
// its state letter, from /proc/PID/stat.
func procStat(pid int) (uint64, byte, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name is in parentheses and may contain spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state); start time is field 22.
	if len(fields) < 20 {
		return 0, 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("parsing /proc/%d/stat: %w", pid, err)
	}
	return start, fields[0][0], nil
}

// Alive reports whether the recorded process is still running.
func (p Proc) Alive() bool {
	if p.PID <= 0 {
		return false
	}
	start, state, err := procStat(p.PID)
	return err == nil && start == p.Start && state != 'Z' && state != 'X'
}

// Signal sends sig to the process if it is still the recorded one.
func (p Proc) Signal(sig syscall.Signal) error {
	if !p.Alive() {
		return nil
	}
	if err := syscall.Kill(p.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signalling %s (pid %d): %w", p.Name, p.PID, err)
	}
	return nil
}

// waitGone polls until the process has exited or ctx is done.
func (p Proc) waitGone(ctx context.Context) error {
	for p.Alive() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s (pid %d) to exit: %w", p.Name, p.PID, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// stop sends SIGTERM, waits up to grace, then sends SIGKILL.
func (p Proc) stop(grace time.Duration) error {
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if p.waitGone(ctx) == nil {
		return nil
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	return p.waitGone(ctx2)
}

func readProcs(name string) ([]Proc, error) {
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ps []Proc
	if err := json.Unmarshal(b, &ps); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return ps, nil
}

func writeProcs(name string, ps []Proc) error {
	b, err := json.MarshalIndent(ps, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(name, append(b, '\n'), 0o644)
}
