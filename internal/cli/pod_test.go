package cli_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const renderable = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: hello
spec:
  pipelineSpec:
    tasks:
      - name: greet
        taskSpec:
          steps:
            - name: say
              image: alpine
              script: echo hello
`

func TestRenderPrintsThePod(t *testing.T) {
	dir := workdir(t, map[string]string{"run.yaml": renderable})
	res := colo(t, dir, "render", "-f", "run.yaml", "--image", "example.com/colo:dev")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict([]byte(res.stdout), &pod); err != nil {
		t.Fatalf("output is not a Pod: %v\n%s", err, res.stdout)
	}
	var names []string
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name+"="+c.Image)
	}
	if got := strings.Join(names, " "); got != "colo-orchestrator=example.com/colo:dev greet-say=alpine" {
		t.Errorf("containers: %s", got)
	}
	if pod.Spec.RestartPolicy != corev1.RestartPolicyNever || len(pod.Spec.InitContainers) != 1 {
		t.Errorf("pod spec: restartPolicy %q, %d init containers", pod.Spec.RestartPolicy, len(pod.Spec.InitContainers))
	}
}

func TestRenderRejectsWithTheField(t *testing.T) {
	run := strings.Replace(renderable, "image: alpine", "image: $(tasks.other.results.image)", 1)
	run = strings.Replace(run, "    tasks:\n", `    tasks:
      - name: other
        taskSpec:
          results: [{name: image}]
          steps: [{name: s, image: alpine, script: "true"}]
`, 1)
	dir := workdir(t, map[string]string{"run.yaml": run})
	res := colo(t, dir, "render", "-f", "run.yaml")
	if res.code != 2 {
		t.Fatalf("exit %d, want 2: %s", res.code, res.stderr)
	}
	want := `spec.pipelineSpec.tasks[1].taskSpec.steps[0].image: Invalid value: "$(tasks.other.results.image)": depends on a task result`
	if !strings.Contains(res.stderr, want) {
		t.Errorf("stderr:\n%s\nwant it to contain:\n%s", res.stderr, want)
	}
	if res.stdout != "" {
		t.Errorf("printed a Pod anyway:\n%s", res.stdout)
	}
}
