// Package conformance runs a directory of example files as tests: every
// file is one test, and it passes when every PipelineRun and TaskRun in it
// ends the way upstream Tekton's own end-to-end tests expect, with the
// condition Succeeded=True.
//
// Each file is loaded on its own and validated; then its runs are run in
// one of three modes. Local runs them one after another with the local
// executor, each in its own run directory under a temporary root (claims
// too, so no file sees another's). Pod runs each in one Pod with the Pod
// executor, and Controller creates the file's objects in the cluster for
// colo's controller to run; in both, every file gets a namespace of its
// own. Files run concurrently, two at a time by default.
//
// A file may be excluded only when it needs something the mode cannot
// give; exclusions.yaml lists them, each with its reason, for every mode or
// for some.
package conformance
