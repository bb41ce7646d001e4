package podspec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colo-ci/colo/internal/engine"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// TestLayoutMatchesEngine runs the engine over each golden input, every
// step succeeding, and checks that every attempt and step it starts has a
// container in the compiled layout with the image the step asks for: the
// compiler works out before the run what the engine decides during it.
func TestLayoutMatchesEngine(t *testing.T) {
	entries, err := filepath.Glob(filepath.Join("testdata", "*.in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	reg := newTestRegistry(t)
	reg.push(t, "registry:2", []string{"/entrypoint.sh"}, nil)
	for _, in := range entries {
		t.Run(strings.TrimSuffix(filepath.Base(in), ".in.yaml"), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			run, set := loadRun(t, in, data)
			pod, err := Compile(context.Background(), run, set, Options{Remote: reg.opts})
			if err != nil {
				t.Fatal(err)
			}
			b, err := BundleOf(pod)
			if err != nil {
				t.Fatal(err)
			}
			layout := map[string]TaskLayout{}
			for _, tl := range b.Layout.Tasks {
				layout[tl.TaskRun] = tl
			}
			var eng *engine.Engine
			switch r := run.(type) {
			case *v1.PipelineRun:
				eng, err = engine.NewPipelineRun(r, set, engine.Options{})
			case *v1.TaskRun:
				eng, err = engine.NewTaskRun(r, set, engine.Options{})
			}
			if err != nil {
				t.Fatal(err)
			}
			now := time.Unix(1000, 0)
			started := map[string]bool{}
			attempts := map[engine.AttemptID]engine.StartAttempt{}
			for i := 0; i < 1000; i++ {
				plan := eng.Next(now)
				if plan.Done {
					break
				}
				for _, a := range plan.Actions {
					switch a := a.(type) {
					case engine.StartAttempt:
						tl, ok := layout[a.ID.TaskRun]
						if !ok {
							t.Fatalf("the engine starts TaskRun %q, which has no containers", a.ID.TaskRun)
						}
						started[a.ID.TaskRun] = true
						attempts[a.ID] = a
						if len(a.Sidecars) != len(tl.Sidecars) || len(a.Spec.Steps) != len(tl.Steps) {
							t.Errorf("%s: %d sidecars and %d steps, layout has %d and %d", a.ID.TaskRun, len(a.Sidecars), len(a.Spec.Steps), len(tl.Sidecars), len(tl.Steps))
						}
						for i, sc := range a.Sidecars {
							if i < len(tl.Sidecars) && (sc.Image != tl.Sidecars[i].Image || sc.Name != tl.Sidecars[i].Name) {
								t.Errorf("%s: sidecar %d is %s %s, layout says %s %s", a.ID.TaskRun, i, sc.Name, sc.Image, tl.Sidecars[i].Name, tl.Sidecars[i].Image)
							}
						}
						eng.Observe(engine.SidecarsReady{Attempt: a.ID, At: now})
					case engine.StartStep:
						c := layout[a.Attempt.TaskRun].Steps[a.Step]
						if a.Process.Image != c.Image || a.Process.Name != c.Name {
							t.Errorf("%s step %d is %s %s, layout says %s %s", a.Attempt.TaskRun, a.Step, a.Process.Name, a.Process.Image, c.Name, c.Image)
						}
						results := map[string]string{}
						for _, r := range attempts[a.Attempt].Spec.Results {
							results[r.Name] = "v"
						}
						eng.Observe(engine.StepFinished{Attempt: a.Attempt, Step: a.Step, TaskResults: results, StartedAt: now, At: now})
					}
				}
				now = now.Add(time.Second)
			}
			if len(started) != len(layout) {
				t.Errorf("the engine started %d TaskRuns, the layout has %d", len(started), len(layout))
			}
		})
	}
}
