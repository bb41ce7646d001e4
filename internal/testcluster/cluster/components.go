package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// runSpec is what Up hands the supervisor in run/spec.json.
type runSpec struct {
	ControlPlaneOnly bool `json:"controlPlaneOnly"`
	// Namespaced: the supervisor runs in its own network and mount
	// namespaces and finds its host listeners as inherited files: fd 3 for
	// the API server, fd 4 for the registry.
	Namespaced     bool              `json:"namespaced"`
	APIPort        int               `json:"apiPort"`
	EtcdClientPort int               `json:"etcdClientPort"`
	EtcdPeerPort   int               `json:"etcdPeerPort"`
	Advertise      string            `json:"advertise"`
	Cgroups        []string          `json:"cgroups,omitempty"`
	Bin            map[string]string `json:"bin"`
}

func readRunSpec(l layout) (runSpec, error) {
	var s runSpec
	b, err := os.ReadFile(l.run("spec.json"))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("reading %s: %w", l.run("spec.json"), err)
	}
	return s, nil
}

func writeRunSpec(l layout, s runSpec) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(l.run("spec.json"), append(b, '\n'), 0o644)
}

// component is one process the supervisor runs.
type component struct {
	name  string
	args  []string
	ready func(ctx context.Context) error
	// grace is how long it gets between SIGTERM and SIGKILL.
	grace time.Duration
}

// components lists the processes of a cluster in start order.
func components(l layout, s runSpec) []component {
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(s.EtcdClientPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(s.EtcdPeerPort)
	apiURL := "https://127.0.0.1:" + strconv.Itoa(s.APIPort)
	inner := l.innerKubeconfig()

	etcd := component{
		name: "etcd",
		args: append([]string{s.Bin["etcd"]}, flags(
			"name", "colo",
			"data-dir", l.data("etcd"),
			"listen-client-urls", etcdURL,
			"advertise-client-urls", etcdURL,
			"listen-peer-urls", peerURL,
			"initial-advertise-peer-urls", peerURL,
			"initial-cluster", "colo="+peerURL,
			// A throw-away test cluster: durability buys nothing.
			"unsafe-no-fsync", "true",
			"log-level", "warn",
		)...),
		ready: func(ctx context.Context) error { return httpReady(ctx, etcdURL+"/health", nil, `"health":"true"`) },
		grace: 5 * time.Second,
	}

	apiArgs := []string{
		"etcd-servers", etcdURL,
		"bind-address", "127.0.0.1",
		"secure-port", strconv.Itoa(s.APIPort),
		"advertise-address", s.Advertise,
		"tls-cert-file", l.pki("apiserver.crt"),
		"tls-private-key-file", l.pki("apiserver.key"),
		"client-ca-file", l.pki("ca.crt"),
		"service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"service-account-key-file", l.pki("sa.pub"),
		"service-account-signing-key-file", l.pki("sa.key"),
		"service-cluster-ip-range", serviceSubnet,
		"authorization-mode", "Node,RBAC",
		"enable-admission-plugins", "NodeRestriction",
		"allow-privileged", "true",
		"profiling", "false",
		"kubelet-client-certificate", l.pki("apiserver-kubelet-client.crt"),
		"kubelet-client-key", l.pki("apiserver-kubelet-client.key"),
		"kubelet-certificate-authority", l.pki("ca.crt"),
		// The node is called localhost: logs and exec go to 127.0.0.1.
		"kubelet-preferred-address-types", "Hostname",
	}
	if !s.Namespaced {
		// On the host, the API server advertises 127.0.0.1 and writes no
		// endpoints for the kubernetes Service (a loopback endpoint is
		// invalid, and the machine's address must not appear).
		apiArgs = append(apiArgs, "endpoint-reconciler-type", "none")
	}
	apiserver := component{
		name:  "kube-apiserver",
		args:  append([]string{s.Bin["kube-apiserver"]}, flags(apiArgs...)...),
		ready: func(ctx context.Context) error { return apiReady(ctx, l, apiURL) },
		grace: 10 * time.Second,
	}
	out := []component{etcd, apiserver}
	if s.ControlPlaneOnly {
		return out
	}

	controllerManager := component{
		name: "kube-controller-manager",
		args: append([]string{s.Bin["kube-controller-manager"]}, flags(
			"kubeconfig", inner,
			"authentication-kubeconfig", inner,
			"authorization-kubeconfig", inner,
			"bind-address", "127.0.0.1",
			// Without leader election it keeps running through API server
			// restarts instead of exiting.
			"leader-elect", "false",
			"service-account-private-key-file", l.pki("sa.key"),
			"root-ca-file", l.pki("ca.crt"),
			"use-service-account-credentials", "false",
		)...),
		grace: 5 * time.Second,
	}
	scheduler := component{
		name: "kube-scheduler",
		args: append([]string{s.Bin["kube-scheduler"]}, flags(
			"kubeconfig", inner,
			"authentication-kubeconfig", inner,
			"authorization-kubeconfig", inner,
			"bind-address", "127.0.0.1",
			"leader-elect", "false",
		)...),
		grace: 5 * time.Second,
	}
	containerd := component{
		name:  "containerd",
		args:  []string{containerdBin, "--config", l.config("containerd.toml")},
		ready: func(ctx context.Context) error { return socketReady(ctx, containerdRunDir+"/containerd.sock") },
		grace: 10 * time.Second,
	}
	kubelet := component{
		name: "kubelet",
		args: append([]string{s.Bin["kubelet"]}, flags(
			"config", l.config("kubelet.yaml"),
			"kubeconfig", l.kubeletKubeconfig(),
			"hostname-override", nodeName,
			"node-ip", nodeIP,
			"root-dir", l.data("kubelet"),
		)...),
		grace: 15 * time.Second,
	}
	return append(out, controllerManager, scheduler, containerd, kubelet)
}

// httpReady polls url until it answers 200 with a body containing want.
func httpReady(ctx context.Context, url string, client *http.Client, want string) error {
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Second}
	}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), want) {
				return nil
			}
			err = fmt.Errorf("%s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", url, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// apiReady polls the API server's /readyz with the admin certificate.
func apiReady(ctx context.Context, l layout, apiURL string) error {
	client, err := adminHTTPClient(l)
	if err != nil {
		return err
	}
	return httpReady(ctx, apiURL+"/readyz", client, "ok")
}

func adminHTTPClient(l layout) (*http.Client, error) {
	ca, err := os.ReadFile(l.pki("ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(l.pki("admin.crt"), l.pki("admin.key"))
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs:      pool,
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
		}},
	}, nil
}

// socketReady polls until a unix socket accepts connections.
func socketReady(ctx context.Context, path string) error {
	for {
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", path, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
