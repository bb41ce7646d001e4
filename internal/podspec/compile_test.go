package podspec

import (
	"context"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/colo-ci/colo/internal/load"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// loadRun reads YAML and returns its only run and the set.
func loadRun(t *testing.T, name string, data []byte) (metav1.Object, *load.Set) {
	t.Helper()
	l := load.Loader{Namer: load.NewNamer(rand.NewPCG(1, 2))}
	set, err := l.Bytes(name, data)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	switch {
	case len(set.PipelineRuns) == 1 && len(set.TaskRuns) == 0:
		return set.PipelineRuns[0], set
	case len(set.TaskRuns) == 1 && len(set.PipelineRuns) == 0:
		return set.TaskRuns[0], set
	}
	t.Fatalf("%s: want exactly one run", name)
	return nil, nil
}

// golden compares got with testdata/<name>.golden.yaml, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.yaml")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// renderable is the Pod as a golden file shows it: the bundle decoded, so
// a change to what the orchestrator receives shows in the diff.
func renderable(t *testing.T, pod *corev1.Pod) []byte {
	t.Helper()
	b, err := BundleOf(pod)
	if err != nil {
		t.Fatal(err)
	}
	p := pod.DeepCopy()
	for i := range p.Spec.Containers {
		for j := range p.Spec.Containers[i].Env {
			if p.Spec.Containers[i].Env[j].Name == BundleEnv {
				p.Spec.Containers[i].Env[j].Value = "<bundle>"
			}
		}
	}
	podYAML, err := yaml.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	layout, err := yaml.Marshal(b.Layout)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	out.Write(podYAML)
	out.WriteString("---\n# layout\n")
	out.Write(layout)
	out.WriteString("---\n# objects\n")
	out.WriteString(b.Objects)
	return []byte(out.String())
}

func TestCompileGolden(t *testing.T) {
	entries, err := filepath.Glob(filepath.Join("testdata", "*.in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no testdata/*.in.yaml")
	}
	reg := newTestRegistry(t)
	reg.push(t, "registry:2", []string{"/entrypoint.sh"}, []string{"/etc/docker/registry/config.yml"})
	for _, in := range entries {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			run, set := loadRun(t, in, data)
			opts := Options{PodLevelResources: strings.HasSuffix(name, "-podlevel"), Remote: reg.opts}
			pod, err := Compile(context.Background(), run, set, opts)
			if err != nil {
				var ce *Error
				if errors.As(err, &ce) {
					t.Fatalf("Compile: %v", ce)
				}
				t.Fatalf("Compile: %v", err)
			}
			golden(t, name, renderable(t, pod))
			checkSubPathsMade(t, pod)
		})
	}
}

// checkSubPathsMade fails unless the init container makes every directory
// that another container mounts by subPath from an emptyDir: left to the
// kubelet, making one races with containers already running.
func checkSubPathsMade(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	empty := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		if v.EmptyDir != nil {
			empty[v.Name] = true
		}
	}
	if len(pod.Spec.InitContainers) != 1 {
		t.Fatalf("%d init containers, want 1", len(pod.Spec.InitContainers))
	}
	init := pod.Spec.InitContainers[0]
	roots := map[string]string{}
	for _, m := range init.VolumeMounts {
		roots[m.Name] = m.MountPath
	}
	made := map[string]bool{}
	for i, a := range init.Command {
		if a == "--mkdir" && i+1 < len(init.Command) {
			made[init.Command[i+1]] = true
		}
	}
	for _, c := range pod.Spec.Containers {
		for _, m := range c.VolumeMounts {
			if m.SubPath == "" || !empty[m.Name] {
				continue
			}
			root, ok := roots[m.Name]
			if !ok {
				t.Errorf("container %s mounts %s of volume %s, which the init container does not mount", c.Name, m.SubPath, m.Name)
				continue
			}
			if dir := path.Join(root, m.SubPath); !made[dir] {
				t.Errorf("container %s mounts %s of volume %s, but the init container does not make %s", c.Name, m.SubPath, m.Name, dir)
			}
		}
	}
}
