package control

import (
	"sync"
	"time"
)

// pollEvery is how often a Watcher without inotify looks at its
// directories; backstopEvery how often one with inotify signals anyway, in
// case an event was lost.
const (
	pollEvery     = 10 * time.Millisecond
	backstopEvery = time.Second
)

// Watcher signals on C when a watched directory may have changed: a file
// was created, written or renamed into it. Signals are coalesced; a reader
// looks at its directories after each one.
type Watcher struct {
	// C receives a value after a change (and now and then without one).
	C <-chan struct{}

	c      chan struct{}
	stop   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
	notify notifier // nil: polling
}

// notifier is the operating system's change notification.
type notifier interface {
	add(dir string) error
	close() error
}

// NewWatcher returns a Watcher with no directories.
func NewWatcher() *Watcher {
	c := make(chan struct{}, 1)
	w := &Watcher{C: c, c: c, stop: make(chan struct{})}
	n, err := newNotifier(w.signal)
	every := pollEvery
	if err == nil {
		w.notify = n
		every = backstopEvery
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				w.signal()
			}
		}
	}()
	return w
}

// Polling reports whether w polls instead of being notified.
func (w *Watcher) Polling() bool { return w.notify == nil }

// Add watches dir, which must exist.
func (w *Watcher) Add(dir string) error {
	if w.notify == nil {
		return nil
	}
	return w.notify.add(dir)
}

// Close stops w.
func (w *Watcher) Close() error {
	var err error
	w.once.Do(func() {
		close(w.stop)
		if w.notify != nil {
			err = w.notify.close()
		}
		w.wg.Wait()
	})
	return err
}

func (w *Watcher) signal() {
	select {
	case w.c <- struct{}{}:
	default:
	}
}
