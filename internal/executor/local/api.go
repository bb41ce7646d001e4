package local

import (
	"io"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/load"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Store is where a run's files live: its directory, step logs and status.
// Package runstore implements it.
type Store interface {
	// Dir is the run's own directory; attempts and run-scoped workspaces
	// are made under it.
	Dir() string
	// ClaimDir is the directory that backs a PersistentVolumeClaim of the
	// given namespace and name; it outlives the run, as a real claim would.
	ClaimDir(namespace, name string) (string, error)
	// StepLog opens the log file of one step of one attempt.
	StepLog(taskRun string, retry int, container string) (io.WriteCloser, error)
	// WriteStatus records the run's status (called on every change).
	WriteStatus(engine.Status) error
}

// Sink receives what a user watches while a run goes on.
type Sink interface {
	// Line is one line a step or sidecar printed. Task is the pipeline
	// task's name (the TaskRun's name for a standalone TaskRun); step is the
	// step's name as tkn shows it (without the "step-" prefix).
	Line(task, step, line string)
	// Status is called whenever the run's status changes.
	Status(engine.Status)
}

// Options configure one run.
type Options struct {
	// Objects is the set the run was loaded from: Secrets, ConfigMaps and
	// PersistentVolumeClaims are read from it.
	Objects *load.Set
	Store   Store
	Sink    Sink
	// Namespace of the run, for $(context...) and object lookups.
	Namespace string
	// HostDirs binds run workspaces to directories of this machine, by the
	// run's workspace name, in place of the directory colo would make.
	HostDirs map[string]string
	// Cancel carries the user's requests to stop the run.
	Cancel <-chan v1.PipelineRunSpecStatus
	// Host is the sandbox supervisor the run's attempts use; nil starts
	// one for the run alone, closed when it ends. A Host given here
	// stays running after the run: processes of the run are gone, but
	// Close is the caller's.
	Host *Host
}

// Run drives eng until the run finishes and returns its final status.
// A value received on opts.Cancel is passed to the engine as a cancel
// request (CancelledRunFinally for a graceful stop, Cancelled to stop
// everything now). Run returns an error only when the executor itself
// could not go on; a failed run is a status, not an error. When Run
// returns, no process it started is left running.
//
//	func Run(ctx context.Context, eng *engine.Engine, opts Options) (engine.Status, error)
