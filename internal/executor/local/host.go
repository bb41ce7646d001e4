package local

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/colo-ci/colo/internal/sandbox"
)

// Host is the sandbox supervisor that runs on this machine share: each
// attempt of each run is a group in it. NewHost starts it at once, in the
// background, so that its start overlaps whatever the caller does before
// the first run (loading and validating files); a run waits for it only
// when its first attempt is set up.
//
// A Host is used by one run at a time; Close ends it and every process
// left in it.
type Host struct {
	started chan struct{}
	box     *sandbox.Sandbox
	err     error
	runs    atomic.Int64
	once    sync.Once

	// spent are the memory directories of ended runs, not yet removed:
	// the next run removes them in the background, and Close, which
	// drops the sandbox's memory whole, never has to.
	mu      sync.Mutex
	spent   []string
	freeing sync.WaitGroup
}

// NewHost starts the supervisor. The context bounds its start only.
func NewHost(ctx context.Context) *Host {
	h := &Host{started: make(chan struct{})}
	go func() {
		defer close(h.started)
		h.box, h.err = sandbox.Start(ctx, sandbox.Spec{Memory: "/tekton", Supervisor: supervisorProgram()})
	}()
	return h
}

// supervisorName is the lean supervisor program (cmd/colo-sandbox) that
// colo starts when it is installed beside colo: it starts in a few
// milliseconds, where re-executing colo takes tens.
const supervisorName = "colo-sandbox"

// supervisorProgram returns the path of colo-sandbox beside the running
// program, or "" to re-execute the running program.
func supervisorProgram() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(exe), supervisorName)
	if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return ""
	}
	return p
}

// sandbox waits for the supervisor's start.
func (h *Host) sandbox() (*sandbox.Sandbox, error) {
	<-h.started
	return h.box, h.err
}

// nextRun names the next run's directory in the sandbox's memory, so that
// runs of one Host never share one.
func (h *Host) nextRun() string {
	h.mu.Lock()
	spent := h.spent
	h.spent = nil
	h.mu.Unlock()
	if len(spent) > 0 {
		h.freeing.Add(1)
		go func() {
			defer h.freeing.Done()
			if box, err := h.sandbox(); err == nil && box.Memory() != "" {
				for _, dir := range spent {
					_ = os.RemoveAll(filepath.Join(box.Memory(), dir))
				}
			}
		}()
	}
	return strconv.FormatInt(h.runs.Add(1), 10)
}

// release hands back the memory directory of a run that has ended, once
// no process of it is left.
func (h *Host) release(dir string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.spent = append(h.spent, dir)
}

// Close stops the supervisor, killing what is left in it.
func (h *Host) Close() error {
	var err error
	h.once.Do(func() {
		if box, _ := h.sandbox(); box != nil {
			err = box.Close()
		}
		h.freeing.Wait()
	})
	return err
}
