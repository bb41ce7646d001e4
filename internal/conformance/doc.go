// Package conformance runs a directory of example files as tests: every
// file is one test, and it passes when every PipelineRun and TaskRun in it
// ends the way upstream Tekton's own end-to-end tests expect, with the
// condition Succeeded=True.
//
// Each file is loaded on its own, validated, and its runs are run one after
// another with the local executor, each in its own run directory under a
// temporary root (claims too, so no file sees another's). Files run
// concurrently, two at a time by default.
//
// A file may be excluded only when it needs something this machine cannot
// give; exclusions.yaml lists them, each with its reason.
package conformance
