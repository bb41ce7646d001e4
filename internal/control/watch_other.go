//go:build !linux

package control

import "errors"

func newNotifier(func()) (notifier, error) {
	return nil, errors.New("no inotify on this system")
}
