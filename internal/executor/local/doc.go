// Package local runs a PipelineRun or TaskRun on this machine: it drives the
// engine with host processes, one private mount namespace per task attempt
// (see package sandbox), so that every step sees the paths Tekton promises
// (/workspace, /tekton/results, ...) while two runs never see each other's
// files.
package local
