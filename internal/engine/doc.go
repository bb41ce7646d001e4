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
//
// The rules live in one file each:
//
//   - taskrun_new.go, pipeline_new.go: resolving refs and the checks upstream
//     makes before it creates anything (*InvalidRunError, with the reason).
//   - params.go, taskscope.go: values of each scope and the order they are
//     applied in; steps.go: stepTemplate merging and StepActions.
//   - taskrun.go: one TaskRun's attempts and steps, retries, step outcomes.
//   - results.go: task and step results, their checks and limits.
//   - pipeline.go, facts.go: the DAG, when, skipping and validation failures,
//     as upstream's PipelineRunFacts decide them; finally tasks start once
//     every DAG task is done.
//   - matrix.go: fan-out and display names; pinp.go: pipelines in pipelines.
//   - timeouts.go: pipeline, tasks, finally and TaskRun timeouts, cancel.
//   - status.go: condition reasons and messages, skipped tasks, child
//     references and pipeline results.
//
// A failed step fails its TaskRun with reason StepFailed (StepOOM when the
// step ran out of memory), as upstream has reported since v1.12.
package engine
