package dag

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// examplesEnv names the environment variable that points at a checkout of
// upstream Tekton's examples directory; without it the test is skipped.
const examplesEnv = "TEKTON_EXAMPLES"

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// TestUpstreamExamples builds the graph of every pipeline in upstream's
// examples: all are valid, so each must build, order every task, and give
// finally tasks dependencies on DAG tasks only.
func TestUpstreamExamples(t *testing.T) {
	examplesDir := os.Getenv(examplesEnv)
	if examplesDir == "" {
		t.Skipf("set %s to upstream's examples directory to run this test", examplesEnv)
	}
	if _, err := os.Stat(examplesDir); err != nil {
		t.Fatalf("%s: %v", examplesEnv, err)
	}
	var pipelines int
	err := filepath.WalkDir(examplesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, doc := range docSeparator.Split(string(data), -1) {
			var obj struct {
				Kind string          `json:"kind"`
				Spec json.RawMessage `json:"spec"`
			}
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
				t.Errorf("%s doc %d: %v", path, i, err)
				continue
			}
			var spec *v1.PipelineSpec
			switch obj.Kind {
			case "Pipeline":
				spec = &v1.PipelineSpec{}
				err = json.Unmarshal(obj.Spec, spec)
			case "PipelineRun":
				var run v1.PipelineRunSpec
				err = json.Unmarshal(obj.Spec, &run)
				spec = run.PipelineSpec
			}
			if err != nil {
				t.Errorf("%s doc %d: %v", path, i, err)
				continue
			}
			if spec == nil {
				continue
			}
			pipelines++
			name := filepath.Base(path)
			g, err := Build(spec.Tasks)
			if err != nil {
				t.Errorf("%s: Build: %v", name, err)
				continue
			}
			if got, want := len(g.Order()), len(spec.Tasks); got != want {
				t.Errorf("%s: Order has %d tasks, want %d", name, got, want)
			}
			for _, f := range spec.Finally {
				deps, err := Deps(&f)
				if err != nil {
					t.Errorf("%s: finally %q: %v", name, f.Name, err)
					continue
				}
				for _, d := range deps {
					if !g.Has(d.Task) {
						t.Errorf("%s: finally %q uses %s of unknown task %q", name, f.Name, d.Field, d.Task)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pipelines == 0 {
		t.Errorf("found no pipelines under %s", examplesDir)
	}
	t.Logf("built %d pipelines", pipelines)
}
