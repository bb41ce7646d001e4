package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestColoLinksNoKubernetesClient keeps colo's start cheap: a Kubernetes
// client registers every API type before main runs, which doubles the
// start of every command. Only colo-kube may link one.
func TestColoLinksNoKubernetesClient(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/colo-ci/colo/cmd/colo").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var heavy []string
	for _, pkg := range strings.Fields(string(out)) {
		for _, prefix := range []string{"k8s.io/client-go/", "sigs.k8s.io/controller-runtime", "github.com/prometheus/"} {
			if strings.HasPrefix(pkg, prefix) {
				heavy = append(heavy, pkg)
			}
		}
	}
	if len(heavy) > 0 {
		t.Errorf("cmd/colo links %d Kubernetes client packages, e.g. %v: they belong to colo-kube", len(heavy), heavy[:min(3, len(heavy))])
	}
	out, err = exec.Command("go", "list", "-deps", "github.com/colo-ci/colo/cmd/colo-kube").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if !strings.Contains(string(out), "k8s.io/client-go/kubernetes\n") {
		t.Error("cmd/colo-kube does not link client-go: the test's package names are out of date")
	}
}

// TestKubeCommandsAreHandedOver checks that the commands that talk to a
// cluster reach colo-kube, with their arguments, and that colo without
// colo-kube says what is missing and starts nothing.
func TestKubeCommandsAreHandedOver(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing-kubeconfig")
	commands := []struct {
		name string
		args []string
	}{
		{"run --on pod", []string{"run", "--on", "pod", "--kubeconfig", missing, "-f", "tr.yaml"}},
		{"controller", []string{"controller", "--kubeconfig", missing, "--metrics-bind-address", "0", "--health-probe-bind-address", "0"}},
		{"conformance --on pod", []string{"conformance", "--on", "pod", "--kubeconfig", missing, "."}},
	}
	// colo alone, as `go install .../cmd/colo` leaves it, with no
	// colo-kube on $PATH either.
	alone := filepath.Join(t.TempDir(), "colo")
	data, err := os.ReadFile(coloBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range commands {
		t.Run(tc.name, func(t *testing.T) {
			dir := workdir(t, map[string]string{"tr.yaml": taskRunYAML})
			res := colo(t, dir, tc.args...)
			// colo-kube read the same flags and found the kubeconfig
			// missing: invalid input.
			if res.code != 2 || !strings.Contains(res.stderr, "missing-kubeconfig") {
				t.Errorf("with colo-kube: exit code %d, want 2 naming the kubeconfig; stderr:\n%s", res.code, res.stderr)
			}

			cmd := exec.Command(alone, tc.args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "PATH="+t.TempDir())
			out, err := cmd.CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "colo-kube") {
				t.Errorf("without colo-kube: %v, want exit code 1 naming colo-kube; output:\n%s", err, out)
			}
			if _, err := os.Stat(filepath.Join(dir, ".colo")); err == nil {
				t.Error("colo without colo-kube made .colo")
			}
		})
	}
}
