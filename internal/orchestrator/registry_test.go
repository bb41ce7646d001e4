package orchestrator_test

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

// redirect sends every request to one host over plain HTTP: whatever host
// an image names, its lookup stays on this machine.
type redirect struct {
	host string
	base http.RoundTripper
}

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = "http", r.host, r.host
	return r.base.RoundTrip(req)
}

// registryWith serves images with the given entrypoints from an in-process
// registry on 127.0.0.1 and returns the options that reach it.
func registryWith(t *testing.T, entrypoints map[string][]string) []remote.Option {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{remote.WithTransport(redirect{host: u.Host, base: http.DefaultTransport})}
	for ref, ep := range entrypoints {
		img, err := mutate.Config(empty.Image, gcr.Config{Entrypoint: ep})
		if err != nil {
			t.Fatal(err)
		}
		tag, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(tag, img, opts...); err != nil {
			t.Fatal(err)
		}
	}
	return opts
}
