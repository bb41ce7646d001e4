package validate_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/validate"
)

// FuzzValidate validates whatever loads: it must never panic, and every
// problem must name its object and field.
func FuzzValidate(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	more, _ := filepath.Glob("testdata/invalid/*.yaml")
	for _, p := range append(files, more...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, _ := (&load.Loader{Namer: fixedNamer}).Bytes("fuzz.yaml", data)
		for _, e := range validate.Run(set) {
			if e.Kind == "" || e.Name == "" || e.Field == nil {
				t.Fatalf("problem without object or field: %#v", e)
			}
		}
	})
}
