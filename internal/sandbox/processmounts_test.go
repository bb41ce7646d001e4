//go:build linux

package sandbox_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/colo-ci/colo/internal/sandbox"
)

// A process's own mounts are seen by it alone, and may shadow a mount of
// the sandbox for it, as containers of one Pod mount different volumes.
func TestProcessMountsAreItsOwn(t *testing.T) {
	shared, private, other := t.TempDir(), t.TempDir(), t.TempDir()
	for dir, content := range map[string]string{shared: "shared", private: "private", other: "other"} {
		if err := os.WriteFile(filepath.Join(dir, "who"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sb := start(t, sandbox.Spec{Mounts: []sandbox.Mount{{Source: shared, Target: "/workspace"}}})

	tests := []struct {
		name   string
		mounts []sandbox.Mount
		script string
		want   string
	}{{
		name:   "a process without mounts sees the sandbox's",
		script: "cat /workspace/who; [ ! -e /data ] && echo no-data",
		want:   "sharedno-data\n",
	}, {
		name:   "its own mount at a new path",
		mounts: []sandbox.Mount{{Source: private, Target: "/data"}},
		script: "cat /data/who /workspace/who",
		want:   "privateshared",
	}, {
		name:   "its own mount shadows the sandbox's at the same path",
		mounts: []sandbox.Mount{{Source: other, Target: "/workspace"}},
		script: "cat /workspace/who",
		want:   "other",
	}, {
		name:   "a read-only own mount refuses writes",
		mounts: []sandbox.Mount{{Source: private, Target: "/data", ReadOnly: true}},
		script: "(echo x > /data/new) 2>/dev/null || echo refused",
		want:   "refused\n",
	}, {
		name:   "afterwards the sandbox is as it was",
		script: "cat /workspace/who; [ ! -e /data/who ] && echo no-data",
		want:   "sharedno-data\n",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := sh(tc.script)
			cmd.Mounts = tc.mounts
			got, exit := run(t, sb, cmd)
			if exit.Code != 0 {
				t.Fatalf("exit %v, output %q", exit, got)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(private, "new")); err == nil {
		t.Errorf("a read-only mount let a process write")
	}
}
