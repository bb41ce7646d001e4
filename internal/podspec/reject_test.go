package podspec

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// pipelineRun wraps pipeline tasks (YAML indented for spec.pipelineSpec)
// in a PipelineRun.
func pipelineRun(extraSpec, tasks string) string {
	return `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: pr
spec:
` + extraSpec + `
  pipelineSpec:
    tasks:
` + tasks
}

const twoTasks = `
      - name: a
        taskSpec:
          results: [{name: img}]
          steps: [{name: s, image: alpine, script: "true"}]
      - name: b
        taskSpec:
          steps: [{name: s, image: alpine, script: "true"}]
`

func TestCompileRejects(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		// want is each error as path: part of its message.
		want []string
	}{
		{
			name: "service accounts differ per task",
			yaml: pipelineRun(`  taskRunTemplate:
    serviceAccountName: builder
  taskRunSpecs:
    - pipelineTaskName: b
      serviceAccountName: deployer`, twoTasks),
			want: []string{`spec.taskRunSpecs[0].serviceAccountName: pipeline task "b" asks for service account "deployer" but pipeline task "a" for "builder"`},
		},
		{
			name: "step image from a task result, through a param",
			yaml: pipelineRun("", twoTasks+`
      - name: c
        params:
          - name: image
            value: $(tasks.a.results.img)
        taskSpec:
          params: [{name: image}]
          steps: [{name: s, image: $(params.image), script: "true"}]
`),
			want: []string{`spec.pipelineSpec.tasks[2].taskSpec.steps[0].image: depends on a task result ($(tasks.a.results.img))`},
		},
		{
			name: "sidecar image from a task result, directly",
			yaml: pipelineRun("", twoTasks+`
      - name: c
        taskSpec:
          sidecars: [{name: side, image: "$(tasks.a.results.img)", command: [run]}]
          steps: [{name: s, image: alpine, script: "true"}]
`),
			want: []string{`spec.pipelineSpec.tasks[2].taskSpec.sidecars[0].image: depends on a task result ($(tasks.a.results.img))`},
		},
		{
			name: "secret name from a task result",
			yaml: pipelineRun("", twoTasks+`
      - name: c
        params:
          - name: secret
            value: $(tasks.a.results.img)
        taskSpec:
          params: [{name: secret}]
          steps:
            - name: s
              image: alpine
              script: "true"
              env:
                - name: X
                  valueFrom:
                    secretKeyRef: {name: $(params.secret), key: k}
`),
			want: []string{`spec.pipelineSpec.tasks[2].taskSpec.steps[0].env[0].valueFrom: depends on a task result`},
		},
		{
			name: "node selectors differ per task",
			yaml: pipelineRun(`  taskRunTemplate:
    podTemplate:
      nodeSelector: {pool: a}
  taskRunSpecs:
    - pipelineTaskName: b
      podTemplate:
        nodeSelector: {pool: b}`, twoTasks),
			want: []string{`spec.taskRunSpecs[0].podTemplate.nodeSelector: pipeline task "b"'s pod template sets nodeSelector differently from pipeline task "a"'s`},
		},
		{
			name: "pod security contexts and tolerations differ per task",
			yaml: pipelineRun(`  taskRunSpecs:
    - pipelineTaskName: b
      podTemplate:
        securityContext: {runAsUser: 1000}
        tolerations: [{key: gpu, operator: Exists}]`, twoTasks),
			want: []string{
				`spec.taskRunSpecs[0].podTemplate.tolerations: pipeline task "b"'s pod template sets tolerations differently`,
				`spec.taskRunSpecs[0].podTemplate.securityContext: pipeline task "b"'s pod template sets securityContext differently`,
			},
		},
		{
			name: "matrix fans out over a task result",
			yaml: pipelineRun("", twoTasks+`
      - name: c
        matrix:
          params:
            - name: x
              value: $(tasks.a.results.img[*])
        taskSpec:
          params: [{name: x}]
          steps: [{name: s, image: alpine, script: "true"}]
`),
			want: []string{`spec.pipelineSpec.tasks[2].matrix.params[0].value: the matrix fans out over a task result`},
		},
		{
			name: "a pipeline task that runs a pipeline fans out",
			yaml: pipelineRun("", twoTasks+`
      - name: c
        matrix:
          params:
            - name: x
              value: [a, b]
        pipelineSpec:
          tasks:
            - name: inner
              taskSpec:
                steps: [{name: s, image: alpine, script: "true"}]
`),
			want: []string{`spec.pipelineSpec.tasks[2].matrix: a pipeline task that runs a pipeline cannot fan out`},
		},
		{
			name: "a mount over colo's own directory",
			yaml: pipelineRun("", `
      - name: a
        taskSpec:
          volumes: [{name: v, emptyDir: {}}]
          steps:
            - name: s
              image: alpine
              script: "true"
              volumeMounts: [{name: v, mountPath: /colo/bin}]
`),
			want: []string{`spec.pipelineSpec.tasks[0].taskSpec.steps[0].volumeMounts[0].mountPath: /colo is where colo's step runner lives in a Pod`},
		},
		{
			name: "image without command, not in the registry",
			yaml: pipelineRun("", `
      - name: a
        taskSpec:
          steps: [{name: s, image: "nowhere/to-be-found:1"}]
`),
			want: []string{`spec.pipelineSpec.tasks[0].taskSpec.steps[0].image: with no command or script the container runs its image's command, which could not be looked up`},
		},
	}
	reg := newTestRegistry(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, set := loadRun(t, "run.yaml", []byte(tt.yaml))
			_, err := Compile(context.Background(), run, set, Options{Remote: reg.opts})
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Compile = %v, want an *Error", err)
			}
			var got []string
			for _, e := range ce.Errs {
				got = append(got, e.Field+": "+e.Detail)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("errors:\n%s\nwant %d", strings.Join(got, "\n"), len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("error %d:\n got %s\nwant %s...", i, got[i], w)
				}
			}
			t.Log(err)
			if !strings.Contains(err.Error(), `PipelineRun "pr" cannot run in one Pod`) {
				t.Errorf("message %q does not name the run", err)
			}
		})
	}
}

// TestCompileKeepsEngineErrors checks that a run the engine rejects is
// rejected with the engine's reason, before anything else.
func TestCompileKeepsEngineErrors(t *testing.T) {
	run, set := loadRun(t, "run.yaml", []byte(pipelineRun("", `
      - name: a
        taskRef: {name: missing}
`)))
	_, err := Compile(context.Background(), run, set, Options{})
	if err == nil || !strings.Contains(err.Error(), "CouldntGetTask") {
		t.Fatalf("Compile = %v, want the engine's CouldntGetTask", err)
	}
}

func TestEntrypointLookup(t *testing.T) {
	reg := newTestRegistry(t)
	reg.push(t, "example.com/tools/entry:1", []string{"/bin/tool", "--flag"}, []string{"default-arg"})
	reg.push(t, "example.com/tools/cmd-only:1", nil, []string{"/bin/sh", "-c", "echo hi"})
	reg.push(t, "example.com/tools/nothing:1", nil, nil)
	run, set := loadRun(t, "run.yaml", []byte(pipelineRun("", `
      - name: a
        taskSpec:
          steps:
            - {name: entry, image: "example.com/tools/entry:1", args: [x]}
            - {name: cmd, image: "example.com/tools/cmd-only:1"}
            - {name: given, image: "example.com/tools/nothing:1", command: [run]}
            - {name: again, image: "example.com/tools/entry:1"}
`)))
	pod, err := Compile(context.Background(), run, set, Options{Remote: reg.opts})
	if err != nil {
		t.Fatal(err)
	}
	b, err := BundleOf(pod)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, c := range b.Layout.Tasks[0].Steps {
		got = append(got, c.Entrypoint)
	}
	want := [][]string{{"/bin/tool", "--flag"}, {"/bin/sh", "-c", "echo hi"}, nil, {"/bin/tool", "--flag"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entrypoints (-want +got):\n%s", diff)
	}

	run, set = loadRun(t, "run.yaml", []byte(pipelineRun("", `
      - name: a
        taskSpec:
          steps:
            - {name: empty, image: "example.com/tools/nothing:1"}
`)))
	_, err = Compile(context.Background(), run, set, Options{Remote: reg.opts})
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Errs) != 1 || ce.Errs[0].Type != field.ErrorTypeInvalid || !strings.Contains(ce.Errs[0].Detail, "neither ENTRYPOINT nor CMD") {
		t.Errorf("Compile = %v, want the image's missing command named", err)
	}
}
