package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

func TestMergeStepTemplate(t *testing.T) {
	tests := []struct {
		name     string
		template string
		step     string
		want     string
	}{{
		name:     "no template",
		step:     `{name: s, image: x}`,
		want:     `{name: s, image: x}`,
		template: ``,
	}, {
		name:     "the step's scalars and lists win",
		template: `{image: t, command: [tc], args: [ta], workingDir: /t, imagePullPolicy: Always, envFrom: [{prefix: T}]}`,
		step:     `{name: s, image: x, args: [sa]}`,
		want:     `{name: s, image: x, command: [tc], args: [sa], workingDir: /t, imagePullPolicy: Always, envFrom: [{prefix: T}]}`,
	}, {
		name:     "env merges by name, the step's entry replacing value and valueFrom",
		template: `{env: [{name: A, value: t}, {name: B, valueFrom: {secretKeyRef: {name: s, key: k}}}]}`,
		step:     `{name: s, env: [{name: B, value: s}, {name: C, value: s}]}`,
		want:     `{name: s, env: [{name: A, value: t}, {name: B, value: s}, {name: C, value: s}]}`,
	}, {
		name:     "volumeMounts merge by mountPath",
		template: `{volumeMounts: [{name: t, mountPath: /a}, {name: t, mountPath: /b}], volumeDevices: [{name: d, devicePath: /dev/x}]}`,
		step:     `{name: s, volumeMounts: [{name: s, mountPath: /b}]}`,
		want:     `{name: s, volumeMounts: [{name: t, mountPath: /a}, {name: s, mountPath: /b}], volumeDevices: [{name: d, devicePath: /dev/x}]}`,
	}, {
		name:     "resources merge per resource",
		template: `{computeResources: {requests: {cpu: "1", memory: 1Gi}, limits: {cpu: "2"}}}`,
		step:     `{name: s, computeResources: {requests: {memory: 2Gi}}}`,
		want:     `{name: s, computeResources: {requests: {cpu: "1", memory: 2Gi}, limits: {cpu: "2"}}}`,
	}, {
		name:     "securityContext merges field by field",
		template: `{securityContext: {runAsUser: 1, runAsGroup: 2, privileged: false, readOnlyRootFilesystem: true}}`,
		step:     `{name: s, securityContext: {runAsUser: 3, capabilities: {add: [NET_ADMIN]}, allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}, procMount: Default, seLinuxOptions: {level: l}, windowsOptions: {runAsUserName: u}, appArmorProfile: {type: Unconfined}, privileged: true}}`,
		want:     `{name: s, securityContext: {runAsUser: 3, runAsGroup: 2, privileged: true, readOnlyRootFilesystem: true, capabilities: {add: [NET_ADMIN]}, allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}, procMount: Default, seLinuxOptions: {level: l}, windowsOptions: {runAsUserName: u}, appArmorProfile: {type: Unconfined}}}`,
	}, {
		name:     "a step without securityContext gets the template's",
		template: `{securityContext: {runAsUser: 1}}`,
		step:     `{name: s}`,
		want:     `{name: s, securityContext: {runAsUser: 1}}`,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tmpl *v1.StepTemplate
			if tc.template != "" {
				tmpl = &v1.StepTemplate{}
				if err := yaml.Unmarshal([]byte(tc.template), tmpl); err != nil {
					t.Fatal(err)
				}
			}
			var step, want v1.Step
			if err := yaml.Unmarshal([]byte(tc.step), &step); err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			got := mergeStepTemplate(tmpl, step)
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })); diff != "" {
				t.Errorf("merged step (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStepActionFields(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata: {name: act}
spec:
  image: img
  command: ["$(params.cmd)"]
  script: ""
  workingDir: /w/$(params.cmd)
  params: [{name: cmd, default: run}, {name: secret, default: s1}]
  env: [{name: PASS, valueFrom: {secretKeyRef: {name: $(params.secret), key: k}}}]
  volumeMounts: [{name: $(params.secret), mountPath: /secret}]
  results: [{name: out}]
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps:
    - name: s
      ref: {name: act}
      workingDir: /replaced
    - name: t
      image: x
      args: ["$(steps.s.results.out)"]
`, Options{})
	x := run(t, e, script{"tr/step-s": {results: map[string]string{"out": "o"}}})
	steps := startedSteps(x)
	s := steps["tr/step-s"]
	if diff := cmp.Diff([]string{"run"}, s.Command); diff != "" {
		t.Errorf("command (-want +got):\n%s", diff)
	}
	if s.WorkingDir != "/w/run" || s.Env[0].ValueFrom.SecretKeyRef.Name != "s1" || s.VolumeMounts[0].Name != "s1" {
		t.Errorf("step = %+v", s)
	}
	if diff := cmp.Diff([]string{"o"}, steps["tr/step-t"].Args); diff != "" {
		t.Errorf("args of t (-want +got):\n%s", diff)
	}
}

func TestStepEvents(t *testing.T) {
	tests := []struct {
		name string
		step step
		want trSummary
	}{{
		name: "a step that could not start",
		step: step{reason: "StartFailed", exit: -1, message: "exec: no such file"},
		want: trSummary{
			Status: "False", Reason: "StepFailed", Message: `"step-a" exited with code 1: exec: no such file`,
			Steps: []stepSummary{{Name: "a", ExitCode: 1, Reason: "Error", Termination: "Error"}, {Name: "b", ExitCode: 1, Reason: "Error", Termination: "Skipped"}},
		},
	}, {
		name: "a step killed without being asked to stop",
		step: step{reason: "Cancelled"},
		want: trSummary{
			Status: "False", Reason: "StepFailed", Message: `"step-a" exited with code 1`,
			Steps: []stepSummary{{Name: "a", ExitCode: 1, Reason: "Cancelled", Termination: "Cancelled"}, {Name: "b", ExitCode: 1, Reason: "Error", Termination: "Skipped"}},
		},
	}, {
		name: "a negative exit code",
		step: step{exit: -1},
		want: trSummary{
			Status: "False", Reason: "StepFailed", Message: `"step-a" exited with code 1`,
			Steps: []stepSummary{{Name: "a", ExitCode: 1, Reason: "Error", Termination: "Error"}, {Name: "b", ExitCode: 1, Reason: "Error", Termination: "Skipped"}},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps: [{name: a, image: x}, {name: b, image: x}]
`, Options{})
			run(t, e, script{"tr/step-a": tc.step})
			if diff := cmp.Diff(tc.want, summarizeTaskRun(e.Status().TaskRun)); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStepActionParamsFromStepResults(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata: {name: act}
spec:
  image: img
  params:
  - {name: list, type: array}
  - {name: one}
  - {name: img, type: object, properties: {url: {}, digest: {}}}
  - {name: mixed}
  env: [{name: ONE, value: $(params.one)}]
  args: ["$(params.list[*])", "$(params.list[0])", "$(params.img.url)@$(params.img.digest)", "$(params.mixed)"]
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps:
    - name: gen
      image: x
      results:
      - {name: list, type: array}
      - {name: one}
      - {name: img, type: object, properties: {url: {}, digest: {}}}
    - name: use
      ref: {name: act}
      params:
      - {name: list, value: "$(steps.gen.results.list[*])"}
      - {name: one, value: "$(steps.gen.results.one)"}
      - {name: img, value: "$(steps.gen.results.img[*])"}
      - {name: mixed, value: "v=$(steps.gen.results.one)"}
`, Options{})
	x := run(t, e, script{"tr/step-gen": {results: map[string]string{
		"list": `["a","b"]`,
		"one":  "1",
		"img":  `{"url":"reg/app","digest":"sha256:d"}`,
	}}})
	use := startedSteps(x)["tr/step-use"]
	if diff := cmp.Diff([]string{"a", "b", "a", "reg/app@sha256:d", "v=1"}, use.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	if len(use.Env) != 1 || use.Env[0].Value != "1" {
		t.Errorf("env = %+v, want ONE=1", use.Env)
	}
	if got := summarizeTaskRun(e.Status().TaskRun).Status; got != "True" {
		t.Errorf("status = %s, want True", got)
	}
}

func TestStepsForeseen(t *testing.T) {
	tests := []struct {
		name  string
		steps string
		// want is, per StartStep in order, the container of its Next ("" for none).
		want []string
	}{{
		name:  "a chain foresees every step but the first",
		steps: `[{name: a, image: x, script: echo a}, {name: b, image: x, script: echo b}, {name: c, image: x, script: echo c}]`,
		want:  []string{"step-b", "step-c", ""},
	}, {
		name:  "a step that reads a step result waits for it",
		steps: `[{name: a, image: x, results: [{name: r}]}, {name: b, image: x, script: "echo $(steps.a.results.r)"}]`,
		want:  []string{"", ""},
	}, {
		name:  "a step whose env names a step waits",
		steps: `[{name: a, image: x}, {name: b, image: x, env: [{name: E, value: "$(steps.a.exitCode.path)"}]}]`,
		want:  []string{"", ""},
	}, {
		name:  "a step with a when of its own waits",
		steps: `[{name: a, image: x}, {name: b, image: x, when: [{input: "$(params.p)", operator: in, values: ["v"]}]}]`,
		want:  []string{"", ""},
	}, {
		name:  "args naming a step wait; the step after is foreseen again",
		steps: `[{name: a, image: x}, {name: b, image: x, args: ["$(steps.a.results.r)"]}, {name: c, image: x}]`,
		want:  []string{"", "step-c", ""},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  params: [{name: p, value: v}]
  taskSpec:
    params: [{name: p}]
    steps: `+tc.steps+`
`, Options{})
			x := run(t, e, script{})
			var got []string
			for _, a := range x.started {
				if ss, ok := a.(StartStep); ok {
					next := ""
					if ss.Next != nil {
						next = ss.Next.Name
					}
					got = append(got, next)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("foreseen steps (-want +got):\n%s", diff)
			}
		})
	}
}
