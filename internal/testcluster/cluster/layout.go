package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Pinned versions of what the cluster is built from.
const (
	KubernetesVersion = "v1.35.4"
	// StagingVersion is the version of the k8s.io/* staging modules that
	// belong to KubernetesVersion.
	StagingVersion = "v0.35.4"
	EtcdVersion    = "v3.6.7"
)

// Addresses inside the cluster's network namespace. Nothing outside the
// namespace routes to them.
const (
	nodeIP         = "10.201.0.1"
	podSubnet      = "10.201.128.0/24"
	serviceSubnet  = "10.201.16.0/24"
	kubernetesSvc  = "10.201.16.1"
	nodeName       = "localhost"
	apiPort        = 6443
	registryPort   = 5000
	etcdClientPort = 2379
	etcdPeerPort   = 2380
)

// InClusterRegistry is the address under which the node pulls from the
// cluster's registry: push to State.Registry, run 127.0.0.1:5000/NAME.
const InClusterRegistry = "127.0.0.1:5000"

// DefaultStateDir is where the cluster keeps its state unless told otherwise:
// $COLO_CLUSTER_DIR, else ${XDG_STATE_HOME:-$HOME/.local/state}/colo/cluster.
func DefaultStateDir() (string, error) {
	if d := os.Getenv("COLO_CLUSTER_DIR"); d != "" {
		return filepath.Abs(d)
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "colo", "cluster"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "colo", "cluster"), nil
}

// DefaultCacheDir is where built binaries are kept:
// ${XDG_CACHE_HOME:-$HOME/.cache}/colo/cluster.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(d, "colo", "cluster"), nil
}

// layout names the files under a cluster's state directory.
type layout struct{ dir string }

func (l layout) path(elem ...string) string {
	return filepath.Join(append([]string{l.dir}, elem...)...)
}

func (l layout) pki(name string) string    { return l.path("pki", name) }
func (l layout) config(name string) string { return l.path("config", name) }
func (l layout) data(name string) string   { return l.path("data", name) }
func (l layout) log(name string) string    { return l.path("logs", name+".log") }
func (l layout) run(name string) string    { return l.path("run", name) }

// Kubeconfig is the admin kubeconfig for clients on the host.
func (l layout) Kubeconfig() string { return l.config("kubeconfig") }

// inner is the admin kubeconfig for components inside the namespace.
func (l layout) innerKubeconfig() string { return l.config("admin-inner.kubeconfig") }
func (l layout) kubeletKubeconfig() string {
	return l.config("kubelet.kubeconfig")
}
func (l layout) stateFile() string { return l.path("cluster.json") }

// cgroupName is the cgroup, in every hierarchy, that holds the cluster's
// processes: "system" for the components, "pods" for the Pods. It is named
// after the state directory, so clusters in different directories never
// touch each other's processes.
func (l layout) cgroupName() string {
	sum := sha256.Sum256([]byte(l.dir))
	return "colo-cluster-" + hex.EncodeToString(sum[:4])
}

// State is what a running cluster records about itself in cluster.json.
type State struct {
	// ControlPlaneOnly is set when only etcd and kube-apiserver run.
	ControlPlaneOnly bool `json:"controlPlaneOnly"`
	// Namespaced is set when the cluster runs in its own network and mount
	// namespaces.
	Namespaced bool `json:"namespaced"`
	// Daemon is the supervisor process.
	Daemon Proc `json:"daemon"`
	// APIServer is the host address (127.0.0.1:port) of the API server.
	APIServer string `json:"apiServer"`
	// Registry is the host address (127.0.0.1:port) of the image registry.
	Registry string `json:"registry"`
	// Kubeconfig is the admin kubeconfig for host clients.
	Kubeconfig string `json:"kubeconfig"`
	// Cgroups lists the cgroup directories the cluster created.
	Cgroups []string `json:"cgroups,omitempty"`
}

func readState(l layout) (State, error) {
	var s State
	b, err := os.ReadFile(l.stateFile())
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("reading %s: %w", l.stateFile(), err)
	}
	return s, nil
}

func writeState(l layout, s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(l.stateFile(), append(b, '\n'), 0o644)
}

// writeFileAtomic writes a file through a temporary file and a rename, so
// readers never see a partial file.
func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
