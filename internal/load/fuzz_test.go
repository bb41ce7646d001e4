package load_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/colo-ci/colo/internal/load"
)

// FuzzDecode feeds arbitrary bytes to Bytes: it must never panic, and it
// must either load objects or say why not.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(refObjects))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Secret, metadata: {name: s}, data: {a: eA==}}]\n"))
	f.Add([]byte("---\n--- # c\n...\n{}\n---\n[1, 2]\n"))
	f.Add([]byte(`{"apiVersion":"tekton.dev/v1","kind":"PipelineRun","metadata":{"generateName":"x-"},"spec":{"params":[{"name":"a","value":{"k":1}}],"timeouts":{"pipeline":"1h"}}}`))
	if files, err := filepath.Glob(filepath.Join(examplesDir, "*", "*.yaml")); err == nil {
		for _, p := range files[:min(len(files), 10)] {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := (&load.Loader{Namer: seqNamer()}).Bytes("fuzz.yaml", data)
		if s == nil {
			t.Fatalf("nil set (err %v)", err)
		}
		if err != nil && err.Error() == "" {
			t.Fatalf("empty error")
		}
	})
}
