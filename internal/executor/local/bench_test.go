package local_test

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkSequentialSteps runs a TaskRun of 50 trivial steps; the per-op
// time over 50 is colo's cost per step (hack/bench compares it with bash).
func BenchmarkSequentialSteps(b *testing.B) {
	var y strings.Builder
	y.WriteString("apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: chain\nspec:\n  taskSpec:\n    steps:\n")
	for i := range 50 {
		fmt.Fprintf(&y, "      - name: s%d\n        image: alpine\n        script: echo %d\n", i, i)
	}
	t := &testing.T{}
	for b.Loop() {
		run(t, y.String(), nil)
	}
}

// BenchmarkParallelTasks runs a PipelineRun of 50 independent one-step
// tasks; the per-op time is what 50 tasks started at once cost together.
func BenchmarkParallelTasks(b *testing.B) {
	var y strings.Builder
	y.WriteString("apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n  name: fan\nspec:\n  pipelineSpec:\n    tasks:\n")
	for i := range 50 {
		fmt.Fprintf(&y, "      - name: t%d\n        taskSpec:\n          steps:\n            - image: alpine\n              script: \"true\"\n", i)
	}
	t := &testing.T{}
	for b.Loop() {
		run(t, y.String(), nil)
	}
}
