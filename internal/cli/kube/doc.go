// Package kube is the Kubernetes half of colo's command line: the cli.Kube
// that runs `colo run --on pod`, `colo controller` and the cluster modes
// of `colo conformance` with client-go and controller-runtime. It is the
// program colo-kube; colo itself links none of it and hands such command
// lines over to colo-kube (see cli.Kube).
package kube
