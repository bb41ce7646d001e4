package cluster

import (
	"archive/tar"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestProcAlive(t *testing.T) {
	p, err := procOf("self", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !p.Alive() {
		t.Errorf("%+v: Alive() = false for the running test", p)
	}
	reused := p
	reused.Start++
	if reused.Alive() {
		t.Errorf("%+v: Alive() = true for a different start time", reused)
	}
	if (Proc{}).Alive() {
		t.Error("zero Proc is alive")
	}
}

func TestProcsRoundTrip(t *testing.T) {
	name := filepath.Join(t.TempDir(), "pids.json")
	want := []Proc{{Name: "etcd", PID: 10, Start: 99}, {Name: "kubelet", PID: 11, Start: 100}}
	if err := writeProcs(name, want); err != nil {
		t.Fatal(err)
	}
	got, err := readProcs(name)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("readProcs (-want +got):\n%s", diff)
	}
	if got, err := readProcs(filepath.Join(t.TempDir(), "missing")); err != nil || got != nil {
		t.Errorf("readProcs(missing) = %v, %v; want nil, nil", got, err)
	}
}

func TestCgroupNamePerDirectory(t *testing.T) {
	a, b := layout{"/state/a"}, layout{"/state/b"}
	if a.cgroupName() != (layout{"/state/a"}).cgroupName() {
		t.Error("cgroup name is not stable")
	}
	if a.cgroupName() == b.cgroupName() {
		t.Errorf("two directories share cgroup %s", a.cgroupName())
	}
	if !strings.HasPrefix(a.cgroupName(), "colo-cluster-") {
		t.Errorf("cgroup name %q lacks the colo-cluster- prefix", a.cgroupName())
	}
}

func TestPKI(t *testing.T) {
	dir := t.TempDir()
	if err := writePKI(dir); err != nil {
		t.Fatal(err)
	}
	ca := readCert(t, filepath.Join(dir, "ca.crt"))
	roots := x509.NewCertPool()
	roots.AddCert(ca)

	api := readCert(t, filepath.Join(dir, "apiserver.crt"))
	for _, host := range []string{"127.0.0.1", nodeIP, "localhost", "kubernetes.default.svc"} {
		if _, err := api.Verify(x509.VerifyOptions{Roots: roots, DNSName: host}); err != nil {
			t.Errorf("apiserver certificate for %s: %v", host, err)
		}
	}
	admin := readCert(t, filepath.Join(dir, "admin.crt"))
	if _, err := admin.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin certificate: %v", err)
	}
	if !slices.Contains(admin.Subject.Organization, "system:masters") {
		t.Errorf("admin organizations = %v, want system:masters", admin.Subject.Organization)
	}
	node := readCert(t, filepath.Join(dir, "kubelet-client.crt"))
	if node.Subject.CommonName != "system:node:"+nodeName {
		t.Errorf("kubelet client CN = %q", node.Subject.CommonName)
	}
	for _, f := range []string{"sa.key", "sa.pub", "admin.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "ca.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("ca.key: %v, mode %v; want 0600", err, fi.Mode())
	}
}

func readCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNodeConfig(t *testing.T) {
	l := layout{t.TempDir()}
	if err := writeNodeConfig(l); err != nil {
		t.Fatal(err)
	}
	files := []string{"containerd.toml", "kubelet.yaml", "cni/10-colo.conflist", "resolv.conf"}
	for _, h := range mirroredRegistries() {
		files = append(files, filepath.Join("registry", h, "hosts.toml"))
	}
	for _, f := range files {
		b, err := os.ReadFile(l.config(f))
		if err != nil {
			t.Error(err)
			continue
		}
		if strings.Contains(string(b), "<no value>") {
			t.Errorf("%s has an unfilled template field:\n%s", f, b)
		}
	}
	kubelet, _ := os.ReadFile(l.config("kubelet.yaml"))
	for _, want := range []string{"cgroupRoot: /" + l.cgroupName() + "/pods", "address: 127.0.0.1", "failCgroupV1: false"} {
		if !strings.Contains(string(kubelet), want) {
			t.Errorf("kubelet.yaml lacks %q", want)
		}
	}
	containerd, _ := os.ReadFile(l.config("containerd.toml"))
	for _, want := range []string{"restrict_oom_score_adj = true", `config_path = "` + l.config("registry") + `"`} {
		if !strings.Contains(string(containerd), want) {
			t.Errorf("containerd.toml lacks %q", want)
		}
	}
	hosts, _ := os.ReadFile(l.config("registry/docker.io/hosts.toml"))
	if !strings.Contains(string(hosts), `server = "http://127.0.0.1:5000"`) {
		t.Errorf("docker.io is not sent to the local registry:\n%s", hosts)
	}
}

func TestFlags(t *testing.T) {
	got := flags("bind-address", "127.0.0.1", "--leader-elect", "false")
	want := []string{"--bind-address=127.0.0.1", "--leader-elect=false"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
}

func TestFileLayer(t *testing.T) {
	src := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(src, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	layer, err := fileLayer(map[string]string{"/usr/local/bin/prog": src, "/top": src})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var got []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h.Name)
	}
	want := []string{"top", "usr/", "usr/local/", "usr/local/bin/", "usr/local/bin/prog"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layer entries (-want +got):\n%s", diff)
	}
}

func TestBaseLayer(t *testing.T) {
	if !installed(debianPackage{"busybox-static", busyboxBin}) || !installed(debianPackage{"bash-static", bashStaticBin}) {
		t.Skip("busybox-static and bash-static are not installed")
	}
	layer, err := baseLayer()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	entries := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = h.Linkname
	}
	for _, f := range []string{"bin/busybox", "bin/bash", "etc/passwd", "tmp/"} {
		if _, ok := entries[f]; !ok {
			t.Errorf("base layer lacks %s", f)
		}
	}
	if entries["bin/sh"] != "/bin/busybox" {
		t.Errorf("bin/sh links to %q, want /bin/busybox", entries["bin/sh"])
	}
}
