// Package testcluster gives tests a real Kubernetes cluster: the project's
// own single-node cluster (see hack/cluster), started on first use and then
// shared, or an etcd + kube-apiserver control plane of their own.
//
//	c := testcluster.Start(t)   // the shared cluster; brings it up if needed
//	ns := c.Namespace(t)        // a fresh namespace, deleted after the test
//	cs := c.Client              // client-go clientset
//
// When a test fails, Namespace's cleanup logs the namespace's events and
// the state and logs of every Pod in it before deleting it.
//
// Environment:
//   - COLO_TEST_KUBECONFIG: use this cluster instead of the project's own.
//   - COLO_CLUSTER_DIR: the state directory of the project's cluster.
//   - COLO_TEST_CLUSTER_UP=0: fail instead of bringing the cluster up.
package testcluster
