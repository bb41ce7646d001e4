// Package local runs a PipelineRun or TaskRun on this machine: it drives the
// engine with host processes, one private mount namespace per task attempt
// (see package sandbox), so that every step sees the paths Tekton promises
// (/workspace, /tekton/results, ...) while two runs never see each other's
// files.
//
// The engine's StartStep.Next lets a step start the moment the one before
// exits 0, as Tekton's entrypoint starts a step once the one before has
// written its post file: the attempt prepares it while the current step
// runs and hands it to the sandbox (Group.StartAfter), so the steps of a
// task follow each other without a round trip through colo between them.
package local
