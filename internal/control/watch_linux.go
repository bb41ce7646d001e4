package control

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// inotify watches directories with Linux's inotify.
type inotify struct {
	f    *os.File
	done chan struct{}
}

func newNotifier(signal func()) (notifier, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	// A non-blocking descriptor wrapped in an os.File is read through the
	// runtime's poller, so Close ends a pending Read.
	n := &inotify{f: os.NewFile(uintptr(fd), "inotify"), done: make(chan struct{})}
	go func() {
		defer close(n.done)
		buf := make([]byte, 64*1024)
		for {
			_, err := n.f.Read(buf)
			if err != nil {
				if errors.Is(err, os.ErrClosed) {
					return
				}
				// Anything else: say something may have changed and
				// stop; the backstop ticker keeps the watcher alive.
				signal()
				return
			}
			// Any event (or a queue overflow) means: look again.
			signal()
		}
	}()
	return n, nil
}

func (n *inotify) add(dir string) error {
	sc, err := n.f.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	err = sc.Control(func(fd uintptr) {
		_, werr = unix.InotifyAddWatch(int(fd), dir, unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_CLOSE_WRITE)
	})
	if err != nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("watch %s: %w", dir, werr)
	}
	return nil
}

func (n *inotify) close() error {
	err := n.f.Close()
	<-n.done
	return err
}
