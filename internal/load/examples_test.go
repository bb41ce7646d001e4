package load_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/colo-ci/colo/internal/load"
)

// examplesDir holds upstream Tekton's examples, beside the repository.
const examplesDir = "../../../shared/conformance/tekton-examples"

func examples(t *testing.T) []string {
	t.Helper()
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
	if len(files) == 0 {
		t.Skip("no upstream examples")
	}
	return files
}

func TestUpstreamExamplesLoad(t *testing.T) {
	for _, f := range examples(t) {
		rel, _ := filepath.Rel(examplesDir, f)
		t.Run(rel, func(t *testing.T) {
			s, err := load.Files(f)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if len(s.PipelineRuns)+len(s.TaskRuns) == 0 {
				t.Errorf("no PipelineRun or TaskRun read")
			}
			for _, w := range s.Warnings {
				t.Logf("warning: %s", w)
			}
		})
	}
}

func TestUpstreamExamplesDirectory(t *testing.T) {
	files := examples(t)
	s, err := load.Files(examplesDir)
	var errs load.Errors
	if err != nil && !errors.As(err, &errs) {
		t.Fatalf("load: %v", err)
	}
	// Examples reuse object names across files, so reading them all at once
	// reports duplicates, but never anything else.
	for _, e := range errs {
		var dup *load.DuplicateError
		if !errors.As(e, &dup) {
			t.Errorf("unexpected problem: %v", e)
		}
	}
	if got := len(s.PipelineRuns) + len(s.TaskRuns); got < len(files)/2 {
		t.Errorf("read %d runs from %d files", got, len(files))
	}
}
