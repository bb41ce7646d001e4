// Command controllerbench measures colo's controller under load: it starts
// a private etcd and kube-apiserver (no node, so Pods are made but never
// run), installs Tekton's kinds from config/crd, starts `colo controller`
// as its own process, creates N PipelineRuns managed by colo at once, and
// prints how long until every run has its Pod and its Started status, and
// the controller's peak resident set size.
//
// Usage: go run ./hack/controllerbench [-runs 500] [-tasks 3] [-ref]
//
// With -ref the runs name a Pipeline by pipelineRef, which the controller
// reads from the API server for each run; without, they embed their
// pipelineSpec.
package main
