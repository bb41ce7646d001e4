package validate_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/validate"
)

var update = flag.Bool("update", false, "rewrite testdata/invalid/*.err with what validation reports now")

// fixedNamer names generated objects predictably.
func fixedNamer(prefix string) string { return prefix + "abcde" }

func loadFile(t *testing.T, path string) *load.Set {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set, err := (&load.Loader{Namer: fixedNamer}).Bytes(filepath.Base(path), data)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return set
}

func lines(l validate.List) []string {
	var out []string
	for _, e := range l {
		out = append(out, e.Error())
	}
	return out
}

// TestInvalid validates each testdata/invalid/*.yaml and compares every
// problem reported with the .err file beside it, one problem a line.
func TestInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 60 {
		t.Errorf("only %d invalid documents", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			got := lines(validate.Run(loadFile(t, f)))
			if len(got) == 0 {
				t.Errorf("no problem found")
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			data, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			want := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestValid checks that each testdata/valid-*.yaml has no problem.
func TestValid(t *testing.T) {
	files, err := filepath.Glob("testdata/valid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no valid documents")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			set := loadFile(t, f)
			if len(set.PipelineRuns)+len(set.TaskRuns)+len(set.Tasks)+len(set.Pipelines) == 0 {
				t.Fatal("nothing loaded")
			}
			for _, e := range validate.Run(set) {
				t.Errorf("%v", e)
			}
		})
	}
}
