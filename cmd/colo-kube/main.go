// Command colo-kube is colo with its Kubernetes half: colo hands it the
// command lines that talk to a cluster (colo run --on pod, colo controller,
// colo conformance --on pod|controller).
package main

import "github.com/colo-ci/colo/internal/cli/kube"

func main() {
	kube.Main()
}
