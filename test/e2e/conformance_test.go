//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/colo-ci/colo/internal/conformance"
	confcluster "github.com/colo-ci/colo/internal/conformance/cluster"
	"github.com/colo-ci/colo/internal/testcluster"
	"github.com/colo-ci/colo/internal/testcluster/cluster"
)

// TestConformancePod runs the upstream examples with each run in one Pod,
// as colo run --on pod does.
func TestConformancePod(t *testing.T) {
	c := testcluster.Start(t)
	runConformance(t, c, conformance.Pod)
}

// TestConformanceController runs the upstream examples through colo's
// controller: each file's objects are created in a namespace of their own,
// the runs with spec.managedBy naming colo.
func TestConformanceController(t *testing.T) {
	c := testcluster.Start(t)
	installColo(t, c, newClient(t, c))
	runConformance(t, c, conformance.Controller)
}

// runConformance runs the examples in mode on the test cluster and fails
// for every file that fails. The cluster reaches no network: public images
// it has stand-ins for are pulled from its registry under their own names
// (a digest pins contents no stand-in has, so it is dropped), and claims
// are provisioned as hostPath volumes, for it has no provisioner. The
// report goes to the test log and, when COLO_CONFORMANCE_REPORTS names a
// directory, to MODE.txt there. COLO_CONFORMANCE_DIR runs another
// directory of examples instead.
func runConformance(t *testing.T, c *testcluster.Cluster, mode conformance.Mode) {
	dir := filepath.Join(moduleRoot(t), "..", "shared", "conformance", "tekton-examples")
	if d := os.Getenv("COLO_CONFORMANCE_DIR"); d != "" {
		dir = d
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no examples: %v", err)
	}
	ex, err := conformance.Exclusions(mode)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := confcluster.New(confcluster.Config{
		Config:      c.Config,
		Image:       coloImage(),
		Remote:      []remote.Option{remote.WithTransport(registryRedirect{c.Registry})},
		HostPathDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var report strings.Builder
	results, err := conformance.Run(context.Background(), dir, conformance.Options{
		Exclusions: ex,
		Mode:       mode,
		Cluster:    cl,
		Images:     standIns(),
		Out:        &report,
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := conformance.Summarize(results)
	fmt.Fprintln(&report, sum)
	t.Logf("conformance --on %s:\n%s", mode, report.String())
	if out := os.Getenv("COLO_CONFORMANCE_REPORTS"); out != "" {
		text := fmt.Sprintf("== conformance --on %s: %s\n%s", mode, dir, report.String())
		if err := os.WriteFile(filepath.Join(out, string(mode)+".txt"), []byte(text), 0o644); err != nil {
			t.Error(err)
		}
	}
	for _, r := range results {
		if r.Outcome == conformance.Fail {
			t.Error(r.Line())
		}
	}
}

// standIns maps a public image the cluster has a stand-in for to that
// stand-in in the cluster's registry; other images are left as they are.
func standIns() func(string) string {
	known := cluster.StandIns()
	return func(image string) string {
		ref, err := name.ParseReference(image)
		if err != nil {
			return image
		}
		repo := strings.TrimPrefix(ref.Context().RepositoryStr(), "library/")
		if !slices.Contains(known, repo) {
			return image
		}
		return cluster.InClusterRegistry + "/" + repo + ":latest"
	}
}

// registryRedirect sends what this process asks of the registry's
// in-cluster name (which only the node's image mirror knows) to the
// address the registry listens on.
type registryRedirect struct{ addr string }

func (r registryRedirect) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == cluster.InClusterRegistry && r.addr != "" {
		req = req.Clone(req.Context())
		req.URL.Scheme = "http"
		req.URL.Host = r.addr
		req.Host = r.addr
	}
	return http.DefaultTransport.RoundTrip(req)
}
