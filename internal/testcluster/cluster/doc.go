// Package cluster builds, starts and stops the single-node Kubernetes cluster
// that colo's tests and demos run against.
//
// Everything comes from sources the project can reach on a fresh machine:
// etcd and the Kubernetes binaries are built from the Go module proxy at
// pinned versions and cached under the user's cache directory; containerd,
// runc and the CNI plugins come from Debian packages; the container images
// are built here, without a Docker daemon, and served by an in-process OCI
// registry that containerd uses as the mirror for the public registries the
// Tekton examples name.
//
// A full cluster runs inside a network namespace and a mount namespace that
// its supervisor (the Daemon) creates for itself: the namespace holds only
// loopback, a /32 node address and the Pod bridge, so no component can
// advertise or reach the machine's outward address, and every mount the
// kubelet and containerd make disappears with the namespace. The API server
// and the registry are reached from the host through listeners on 127.0.0.1
// that the supervisor forwards into the namespace. Processes are tracked by
// recorded pids and by a cgroup the cluster owns, so Down stops exactly what
// Up started.
//
// The control-plane-only mode runs etcd and kube-apiserver alone, on
// 127.0.0.1 of the host, and needs neither root nor namespaces.
package cluster
