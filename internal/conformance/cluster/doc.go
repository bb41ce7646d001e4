// Package cluster is the Kubernetes side of the conformance runner: the
// conformance.Cluster that runs a file's runs each in one Pod (the Pod
// mode) or creates its objects for colo's controller to run (the
// Controller mode), every file in a namespace of its own.
//
// It is apart from package conformance so that what runs files locally
// links no Kubernetes client.
package cluster
