// Package e2e holds end-to-end tests that run against a real Kubernetes
// cluster: the project's own single-node cluster from hack/cluster.
//
// The tests carry the build tag e2e. Run them with hack/e2e.sh, which brings
// the cluster up when needed (the first time this builds Kubernetes from the
// Go module proxy) and runs
//
//	go test -tags e2e ./test/e2e/...
package e2e
