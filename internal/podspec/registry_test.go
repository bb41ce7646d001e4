package podspec

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	gcr "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// testRegistry is an in-process registry on 127.0.0.1 that every image
// reference, whatever its host, is sent to: tests never reach the network.
type testRegistry struct {
	srv  *httptest.Server
	opts []remote.Option
}

// redirect sends every request to one host, over plain HTTP.
type redirect struct {
	host string
	base http.RoundTripper
}

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme = "http"
	req.URL.Host = r.host
	req.Host = r.host
	return r.base.RoundTrip(req)
}

func newTestRegistry(t *testing.T) *testRegistry {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	tr := redirect{host: u.Host, base: http.DefaultTransport}
	return &testRegistry{srv: srv, opts: []remote.Option{remote.WithTransport(tr)}}
}

// push stores an image with the given entrypoint and cmd as ref.
func (r *testRegistry) push(t *testing.T, ref string, entrypoint, cmd []string) {
	t.Helper()
	img, err := mutate.Config(empty.Image, gcr.Config{Entrypoint: entrypoint, Cmd: cmd})
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img, r.opts...); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}
