// Package engine is colo's scheduler: a pure state machine that runs one
// PipelineRun or TaskRun the way upstream Tekton does.
//
// An executor creates an Engine from a validated run, then loops: it calls
// Next with the current time, carries out the returned actions (start an
// attempt, start a step, stop an attempt, finish), and reports what happened
// with Observe. The engine does no I/O, starts no goroutines and never reads
// the clock; a timeout is an observation of the time passed to Next, a
// cancel is an event. That is what lets the local runner, the in-Pod
// orchestrator and the controller share it, and what lets it be tested with
// tables alone.
package engine
