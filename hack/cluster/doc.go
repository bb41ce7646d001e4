// Command cluster builds, starts and stops the single-node Kubernetes
// cluster that colo's tests and demos run against.
//
//	go run ./hack/cluster up [--control-plane-only] [--dir DIR]
//	go run ./hack/cluster status
//	go run ./hack/cluster env      # KUBECONFIG=... lines for eval or a shell
//	go run ./hack/cluster images   # rebuild and push the test images
//	go run ./hack/cluster down
//
// See README.md beside this file.
package main
