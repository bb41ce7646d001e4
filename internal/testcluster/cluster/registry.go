package cluster

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/google/go-containerregistry/pkg/registry"
)

// newRegistry returns an in-memory OCI registry that stands in for the public
// registries containerd mirrors to it.
//
// Images are pushed once, as name:latest. A pull names whatever its manifest
// names, so a manifest that is not found falls back, in order: to
// library/NAME or NAME (Docker Hub's implicit "library/" is present on
// requests through docker.io but not through mirror.gcr.io), then to the
// "latest" tag of either. A digest is never rewritten: a digest-pinned image
// can only be pulled if that exact image was pushed.
func newRegistry(log *slog.Logger) http.Handler {
	inner := registry.New(registry.Logger(slog.NewLogLogger(log.Handler(), slog.LevelDebug)))
	return &aliasingRegistry{inner: inner, log: log}
}

type aliasingRegistry struct {
	inner http.Handler
	log   *slog.Logger
}

func (a *aliasingRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if repo, ref, ok := manifestPath(r.URL.Path); ok && !a.has(repo, ref) {
			for _, c := range manifestCandidates(repo, ref) {
				if a.has(c[0], c[1]) {
					a.log.Debug("registry alias", "asked", repo+":"+ref, "serving", c[0]+":"+c[1])
					r.URL.Path = "/v2/" + c[0] + "/manifests/" + c[1]
					r.URL.RawPath = ""
					break
				}
			}
		}
	}
	a.inner.ServeHTTP(w, r)
}

// has reports whether the registry holds a manifest for repo:ref.
func (a *aliasingRegistry) has(repo, ref string) bool {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodHead, "/v2/"+repo+"/manifests/"+ref, nil)
	a.inner.ServeHTTP(rec, req)
	return rec.Code == http.StatusOK
}

// manifestPath splits /v2/REPO/manifests/REF.
func manifestPath(p string) (repo, ref string, ok bool) {
	rest, found := strings.CutPrefix(p, "/v2/")
	if !found {
		return "", "", false
	}
	i := strings.LastIndex(rest, "/manifests/")
	if i <= 0 {
		return "", "", false
	}
	repo, ref = rest[:i], rest[i+len("/manifests/"):]
	return repo, ref, ref != "" && !strings.Contains(ref, "/")
}

// manifestCandidates lists the repo:ref pairs tried, in order, when
// repo:ref itself is missing.
func manifestCandidates(repo, ref string) [][2]string {
	repos := []string{repo}
	if short, found := strings.CutPrefix(repo, "library/"); found {
		repos = append(repos, short)
	} else if !strings.Contains(repo, "/") {
		repos = append(repos, "library/"+repo)
	}
	refs := []string{ref}
	if !strings.Contains(ref, ":") && ref != "latest" {
		refs = append(refs, "latest")
	}
	var out [][2]string
	for _, f := range refs {
		for _, r := range repos {
			if r == repo && f == ref {
				continue
			}
			out = append(out, [2]string{r, f})
		}
	}
	return out
}
