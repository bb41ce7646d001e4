package cluster

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// mirroredRegistries are the registries whose images the cluster's own
// registry stands in for: the ones Tekton examples and colo's tests name.
func mirroredRegistries() []string {
	return []string{
		"docker.io", "mirror.gcr.io", "gcr.io", "ghcr.io", "registry.k8s.io", "quay.io",
		fmt.Sprintf("127.0.0.1:%d", registryPort), fmt.Sprintf("localhost:%d", registryPort),
	}
}

// sandboxImage is the pause image; the mirror maps it to the local registry.
const sandboxImage = "registry.k8s.io/pause:3.10"

// writeKubeconfig writes a kubeconfig for server with the client
// certificate pki/<client>.crt.
func writeKubeconfig(l layout, name, server, client string) error {
	ca, err := os.ReadFile(l.pki("ca.crt"))
	if err != nil {
		return err
	}
	crt, err := os.ReadFile(l.pki(client + ".crt"))
	if err != nil {
		return err
	}
	key, err := os.ReadFile(l.pki(client + ".key"))
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["colo"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	cfg.AuthInfos[client] = &clientcmdapi.AuthInfo{ClientCertificateData: crt, ClientKeyData: key}
	cfg.Contexts["colo"] = &clientcmdapi.Context{Cluster: "colo", AuthInfo: client, Namespace: "default"}
	cfg.CurrentContext = "colo"
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	return writeFileAtomic(name, b, 0o600)
}

// configParams fills the templates below.
type configParams struct {
	Dir           string
	NodeIP        string
	PodSubnet     string
	CgroupRoot    string
	CNIBinDir     string
	RuncBin       string
	SandboxImage  string
	RegistryPort  int
	ContainerdRun string
}

func newConfigParams(l layout) configParams {
	return configParams{
		Dir:           l.dir,
		NodeIP:        nodeIP,
		PodSubnet:     podSubnet,
		CgroupRoot:    "/" + l.cgroupName() + "/pods",
		CNIBinDir:     cniBinDir,
		RuncBin:       runcBin,
		SandboxImage:  sandboxImage,
		RegistryPort:  registryPort,
		ContainerdRun: containerdRunDir,
	}
}

// containerdRunDir is containerd's state directory. The supervisor mounts a
// tmpfs there inside its mount namespace: the runc shims keep their sockets
// and runc its state under /run/containerd whatever containerd is told, and
// the tmpfs makes sure none of it outlives the cluster or meets the host's.
const containerdRunDir = "/run/containerd"

const containerdConfig = `version = 2
root = "{{.Dir}}/data/containerd"
state = "{{.ContainerdRun}}/state"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "{{.ContainerdRun}}/containerd.sock"

[ttrpc]
  address = "{{.ContainerdRun}}/containerd.sock.ttrpc"

[debug]
  level = "warn"

[plugins."io.containerd.internal.v1.opt"]
  path = "{{.Dir}}/data/containerd-opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{{.SandboxImage}}"
  # Without this every sandbox fails: runc may not lower oom_score_adj here.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "{{.RuncBin}}"
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{{.CNIBinDir}}"
    conf_dir = "{{.Dir}}/config/cni"

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{{.Dir}}/config/registry"
`

// hostsConfig sends every pull for one registry host to the local
// registry, with no fallback to the real host.
const hostsConfig = `server = "http://127.0.0.1:{{.RegistryPort}}"

[host."http://127.0.0.1:{{.RegistryPort}}"]
  capabilities = ["pull", "resolve"]
`

// The bridge has no gateway and no masquerading: Pods get an address (the
// runtime needs one) but no route anywhere.
const cniConfig = `{
  "cniVersion": "1.0.0",
  "name": "colo",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": false,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "{{.PodSubnet}}"}]],
        "dataDir": "{{.Dir}}/data/cni"
      }
    }
  ]
}
`

const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: {{.Dir}}/pki/kubelet.crt
tlsPrivateKeyFile: {{.Dir}}/pki/kubelet.key
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: false
  x509:
    clientCAFile: {{.Dir}}/pki/ca.crt
authorization:
  mode: AlwaysAllow
containerRuntimeEndpoint: unix://{{.ContainerdRun}}/containerd.sock
cgroupDriver: cgroupfs
cgroupsPerQOS: true
cgroupRoot: {{.CgroupRoot}}
enforceNodeAllocatable: []
failCgroupV1: false
failSwapOn: false
podLogsDir: {{.Dir}}/data/pod-logs
resolvConf: {{.Dir}}/config/resolv.conf
serializeImagePulls: false
# Many runs start at once in the tests: no limit on image pulls.
registryPullQPS: 0
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
`

// writeNodeConfig writes the configuration of containerd, the CNI bridge
// and the kubelet.
func writeNodeConfig(l layout) error {
	p := newConfigParams(l)
	files := map[string]string{
		l.config("containerd.toml"):      containerdConfig,
		l.config("cni/10-colo.conflist"): cniConfig,
		l.config("kubelet.yaml"):         kubeletConfig,
	}
	for _, h := range mirroredRegistries() {
		files[l.config(filepath.Join("registry", h, "hosts.toml"))] = hostsConfig
	}
	for name, text := range files {
		t, err := template.New(filepath.Base(name)).Parse(text)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, p); err != nil {
			return fmt.Errorf("rendering %s: %w", name, err)
		}
		if err := writeFileAtomic(name, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	// Pods get no name servers: nothing in the cluster resolves names.
	resolv := "# The test cluster has no DNS.\noptions ndots:1\n"
	return writeFileAtomic(l.config("resolv.conf"), []byte(resolv), 0o644)
}

// flags turns name, value pairs into --name=value arguments.
func flags(kv ...string) []string {
	var out []string
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, "--"+strings.TrimPrefix(kv[i], "--")+"="+kv[i+1])
	}
	return out
}
