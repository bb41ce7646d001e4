package validate_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/validate"
)

// examplesDir holds upstream Tekton's examples, beside the repository.
const examplesDir = "../../../shared/conformance/tekton-examples"

// TestUpstreamExamplesValidate checks that every upstream example is valid;
// the only problem allowed is a reference through a remote resolver.
func TestUpstreamExamplesValidate(t *testing.T) {
	if _, err := os.Stat(examplesDir); err != nil {
		t.Skipf("upstream examples not found: %v", err)
	}
	var files []string
	err := filepath.WalkDir(examplesDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(examplesDir, f)
		t.Run(rel, func(t *testing.T) {
			l := &load.Loader{Namer: load.NewNamer(rand.NewPCG(1, 1))}
			set, err := l.Files(f)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			for _, e := range validate.Run(set) {
				var re *load.ResolverError
				if errors.As(e, &re) {
					t.Logf("remote resolver (expected): %v", e)
					continue
				}
				t.Errorf("%v", e)
			}
		})
	}
}
