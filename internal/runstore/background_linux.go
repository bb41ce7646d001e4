package runstore

import (
	"runtime"
	"syscall"
)

// inBackground runs f on a thread of its own at the lowest CPU priority, so
// that clean-up work yields to the run it shares the machine with. The
// thread is discarded afterwards (its goroutine ends locked to it), so its
// priority never reaches other goroutines.
func inBackground(f func()) {
	runtime.LockOSThread()
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 19)
	f()
}
