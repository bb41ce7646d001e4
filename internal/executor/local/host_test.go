package local

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/runstore"
)

// TestHostFreesTheMemoryOfEndedRuns checks that a Host shared by runs
// one after another removes the memory directory of each ended run (when
// the next one starts) and that closing it, which drops the sandbox's
// memory whole, leaves no removal behind.
func TestHostFreesTheMemoryOfEndedRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the sandbox")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	h := NewHost(ctx)
	defer h.Close()
	box, err := h.sandbox()
	if err != nil {
		t.Skipf("no sandbox here: %v", err)
	}
	if box.Memory() == "" {
		t.Skip("the sandbox has no memory directory here")
	}
	exists := func(dir string) bool {
		_, err := os.Stat(filepath.Join(box.Memory(), dir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		return err == nil
	}
	runOnce := func() {
		t.Helper()
		set, err := load.Bytes("test.yaml", []byte(`
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: once
spec:
  taskSpec:
    steps:
      - image: alpine
        script: echo hi > /tekton/home/hi
`))
		if err != nil {
			t.Fatal(err)
		}
		eng, err := engine.NewTaskRun(set.TaskRuns[0], set, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		store, err := runstore.DefaultRoot(t.TempDir()).Create(runstore.Document{TaskRun: set.TaskRuns[0]})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		st, err := Run(ctx, eng, Options{Objects: set, Store: store, Namespace: "default", Host: h})
		if err != nil {
			t.Fatal(err)
		}
		if c := st.TaskRun.GetCondition(); c == nil || c.Reason != "Succeeded" {
			t.Fatalf("run: condition %+v, want Succeeded", c)
		}
	}

	runOnce()
	if !exists("run-1") {
		t.Fatal("the first run left no directory in memory: the test checks nothing")
	}
	runOnce()
	h.freeing.Wait()
	if exists("run-1") {
		t.Error("the memory of the first run is still there after the second run")
	}
	if !exists("run-2") {
		t.Error("the memory of the second run is gone before the Host is closed or another run starts")
	}
	if err := h.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
