package cluster

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestManifestPath(t *testing.T) {
	tests := []struct {
		path      string
		repo, ref string
		ok        bool
	}{
		{"/v2/library/busybox/manifests/latest", "library/busybox", "latest", true},
		{"/v2/alpine/git/manifests/v2.26.2", "alpine/git", "v2.26.2", true},
		{"/v2/bash/manifests/sha256:abc", "bash", "sha256:abc", true},
		{"/v2/bash/blobs/sha256:abc", "", "", false},
		{"/v2/", "", "", false},
		{"/v1/bash/manifests/latest", "", "", false},
	}
	for _, tt := range tests {
		repo, ref, ok := manifestPath(tt.path)
		if repo != tt.repo || ref != tt.ref || ok != tt.ok {
			t.Errorf("manifestPath(%q) = %q, %q, %v; want %q, %q, %v", tt.path, repo, ref, ok, tt.repo, tt.ref, tt.ok)
		}
	}
}

func TestManifestCandidates(t *testing.T) {
	tests := []struct {
		repo, ref string
		want      [][2]string
	}{
		{"bash", "5.2", [][2]string{{"library/bash", "5.2"}, {"bash", "latest"}, {"library/bash", "latest"}}},
		{"library/bash", "latest", [][2]string{{"bash", "latest"}}},
		{"colo-ci/colo", "v1", [][2]string{{"colo-ci/colo", "latest"}}},
		{"bash", "sha256:abc", [][2]string{{"library/bash", "sha256:abc"}}},
	}
	for _, tt := range tests {
		got := manifestCandidates(tt.repo, tt.ref)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("manifestCandidates(%q, %q) (-want +got):\n%s", tt.repo, tt.ref, diff)
		}
	}
}

// TestRegistryAliases pushes one image and pulls it under the names a
// mirrored pull asks for.
func TestRegistryAliases(t *testing.T) {
	srv := httptest.NewServer(newRegistry(slog.New(slog.DiscardHandler)))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	layer, err := fileLayer(map[string]string{"/hello": "registry_test.go"})
	if err != nil {
		t.Fatal(err)
	}
	img, err := image([]v1.Layer{layer}, nil, []string{"sh"})
	if err != nil {
		t.Fatal(err)
	}
	if err := push(t.Context(), host, "library/bash:latest", img); err != nil {
		t.Fatal(err)
	}
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}

	for _, ref := range []string{"library/bash:latest", "bash", "bash:5.2", "library/bash:5.1.4", "bash@" + want.String()} {
		r, err := name.ParseReference(host+"/"+ref, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Get(r, remote.WithContext(t.Context()))
		if err != nil {
			t.Errorf("pulling %s: %v", ref, err)
			continue
		}
		if desc.Digest != want {
			t.Errorf("pulling %s: digest %s, want %s", ref, desc.Digest, want)
		}
	}
	for _, ref := range []string{"python:3.12", "alpine/git:v2.26.2", "bash@sha256:" + strings.Repeat("0", 64)} {
		r, err := name.ParseReference(host+"/"+ref, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := remote.Get(r, remote.WithContext(t.Context())); err == nil {
			t.Errorf("pulling %s succeeded; want not found", ref)
		}
	}
}
