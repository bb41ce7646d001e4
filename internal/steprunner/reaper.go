package steprunner

import (
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// reaper waits for the runner's children itself: in a container the runner
// is PID 1, so orphans of a step's processes are reparented to it and must
// be reaped too. Every child the runner starts goes through start, which
// hands back its wait status when it exits; other exits are dropped.
type reaper struct {
	mu      sync.Mutex
	waiting map[int]chan syscall.WaitStatus
	sigs    chan os.Signal
	quit    chan struct{}
	done    chan struct{}
}

func startReaper() *reaper {
	r := &reaper{
		waiting: map[int]chan syscall.WaitStatus{},
		sigs:    make(chan os.Signal, 1),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	signal.Notify(r.sigs, syscall.SIGCHLD)
	go r.loop()
	return r
}

// start starts cmd and returns a channel that receives its wait status.
// cmd.Wait must not be called.
func (r *reaper) start(cmd *exec.Cmd) (<-chan syscall.WaitStatus, error) {
	// Holding the lock while starting keeps an exit reaped before the pid
	// is known from being dropped: it is delivered once start returns.
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ch := make(chan syscall.WaitStatus, 1)
	r.waiting[cmd.Process.Pid] = ch
	return ch, nil
}

func (r *reaper) loop() {
	defer close(r.done)
	// SIGCHLD can coalesce; a slow tick catches what a lost one left.
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		r.reapAll()
		select {
		case <-r.quit:
			return
		case <-r.sigs:
		case <-t.C:
		}
	}
}

func (r *reaper) reapAll() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		r.mu.Lock()
		if ch, ok := r.waiting[pid]; ok {
			delete(r.waiting, pid)
			ch <- ws
		}
		r.mu.Unlock()
	}
}

func (r *reaper) stop() {
	signal.Stop(r.sigs)
	close(r.quit)
	<-r.done
}
