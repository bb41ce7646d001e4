// Package control is the protocol between colo's in-Pod orchestrator and the
// step runners in the Pod's other containers: the paths they agree on, the
// messages they exchange and how a side learns that a message arrived.
//
// Every container of a task has a control directory of its own (a subPath of
// the task's volume, mounted at Dir). The orchestrator, which mounts every
// task's volume, writes commands into it; the container's step runner
// answers with events in the same directory. Each message is one JSON file,
// written under a temporary name and renamed into place, so a reader never
// sees half a message:
//
//	c-00000001.json          command 1 (orchestrator → runner)
//	e-00000001-started.json  command 1's process started (runner → orchestrator)
//	e-00000001-ready.json    a sidecar passed its readiness probe
//	e-00000001-done.json     command 1's process ended: exit code, reason
//	e-00000002-exited.json   command 2 (exit) was carried out: the runner is gone
//
// Commands are numbered from 1 in the order they are written and carried out
// in that order. A Watcher tells either side within milliseconds that a
// directory changed (inotify, with polling every 10 ms where inotify is not
// available).
//
// The package imports only the standard library and golang.org/x/sys, so
// that the step runner, which starts in every step container, stays small.
package control
