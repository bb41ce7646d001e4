package engine

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

// startedSteps returns the processes steps were started with, by
// "<taskRun>/<container>".
func startedSteps(x *sim) map[string]Process {
	out := map[string]Process{}
	for _, a := range x.started {
		if s, ok := a.(StartStep); ok {
			out[s.Attempt.TaskRun+"/"+s.Process.Name] = s.Process
		}
	}
	return out
}

func TestParamsAndContext(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		step string // "<taskRun>/<container>"
		want []string
	}{{
		name: "a YAML number arrives as a string; an untyped default array is an array",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  params: [{name: num, value: 1}]
  taskSpec:
    params: [{name: num}, {name: list, default: [a, b]}]
    steps: [{name: s, image: x, args: ["$(params.num)", "$(params.list[*])", "$(params.list[1])"]}]
`,
		step: "tr/step-s", want: []string{"1", "a", "b", "b"},
	}, {
		name: "a value is not expanded again; unknown references stay as written",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  params: [{name: a, value: "$(params.b)"}, {name: b, value: "B"}]
  taskSpec:
    params: [{name: a}, {name: b}]
    steps: [{name: s, image: x, args: ["$(params.a)", "$(foo)", "$(params.missing)"]}]
`,
		step: "tr/step-s", want: []string{"$(params.b)", "$(foo)", "$(params.missing)"},
	}, {
		name: "a dotted param name is read with brackets; a dot reads an object key",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  params:
  - {name: foo.bar, value: dotted}
  - {name: foo, value: {bar: key}}
  taskSpec:
    params:
    - {name: foo.bar}
    - {name: foo, type: object, properties: {bar: {}}}
    steps: [{name: s, image: x, args: ['$(params["foo.bar"])', "$(params.foo.bar)"]}]
`,
		step: "tr/step-s", want: []string{"dotted", "key"},
	}, {
		name: "an embedded taskSpec sees every TaskRun param, declared or not",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  params: [{name: extra, value: "E"}]
  taskSpec:
    steps: [{name: s, image: x, args: ["$(params.extra)"]}]
`,
		step: "tr/step-s", want: []string{"E"},
	}, {
		name: "a whole-array PipelineTask param fills an array Task param",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: arr, value: [x, "y"]}]
  pipelineSpec:
    params: [{name: arr, type: array}]
    tasks:
    - name: t
      params: [{name: list, value: "$(params.arr[*])"}]
      taskSpec:
        params: [{name: list, type: array}]
        steps: [{name: s, image: x, args: ["$(params.list[*])"]}]
`,
		step: "pr-t/step-s", want: []string{"x", "y"},
	}, {
		name: "undeclared pipeline params propagate into embedded specs",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: msg, value: hi}]
  pipelineSpec:
    tasks:
    - name: t
      taskSpec:
        steps: [{name: s, image: x, args: ["$(params.msg)"]}]
`,
		step: "pr-t/step-s", want: []string{"hi"},
	}, {
		name: "inner scope wins; object keys merge, the outer keys still resolve",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  params:
  - {name: o, value: {url: abc, commit: sha}}
  - {name: s, value: outer}
  pipelineSpec:
    params:
    - {name: o, type: object, properties: {url: {}, commit: {}}}
    - {name: s}
    tasks:
    - name: t
      params:
      - {name: o, value: {url: xyz, branch: main}}
      - {name: s, value: inner}
      taskSpec:
        params:
        - {name: o, type: object, properties: {url: {}, branch: {}}}
        - {name: s}
        steps: [{name: s, image: x, args: ["$(params.o.url)", "$(params.o.commit)", "$(params.o.branch)", "$(params.s)"]}]
`,
		step: "pr-t/step-s", want: []string{"xyz", "sha", "main", "inner"},
	}, {
		name: "pipeline defaults may use other params, in chains",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: a, value: A}]
  pipelineSpec:
    params:
    - {name: a}
    - {name: b, default: "$(params.a)-b"}
    - {name: c, default: "$(params.b)-c"}
    tasks:
    - name: t
      params: [{name: c, value: $(params.c)}]
      taskSpec:
        params: [{name: c}]
        steps: [{name: s, image: x, args: ["$(params.c)"]}]
`,
		step: "pr-t/step-s", want: []string{"A-b-c"},
	}, {
		name: "context names: an inline taskSpec's task name is the TaskRun's, an inline pipeline's is the PipelineRun's",
		doc: `
kind: PipelineRun
metadata: {name: pr, namespace: ns}
spec:
  pipelineSpec:
    tasks:
    - name: t
      retries: 2
      params:
      - {name: p, value: $(context.pipeline.name)}
      - {name: r, value: $(context.pipelineTask.retries)}
      taskSpec:
        params: [{name: p}, {name: r}]
        steps: [{name: s, image: x, args: ["$(params.p)", "$(params.r)", "$(context.task.name)", "$(context.taskRun.name)", "$(context.taskRun.namespace)", "$(context.pipelineRun.name)"]}]
`,
		step: "pr-t/step-s", want: []string{"pr", "2", "pr-t", "pr-t", "ns", "pr"},
	}, {
		name: "context names of a referenced Task and Pipeline are theirs",
		doc: `
kind: Task
metadata: {name: the-task}
spec:
  params: [{name: p}]
  steps: [{name: s, image: x, args: ["$(context.task.name)", "$(params.p)"]}]
---
kind: Pipeline
metadata: {name: the-pipeline}
spec:
  tasks:
  - name: t
    taskRef: {name: the-task}
    params: [{name: p, value: $(context.pipeline.name)}]
---
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineRef: {name: the-pipeline}
`,
		step: "pr-t/step-s", want: []string{"the-task", "the-pipeline"},
	}, {
		name: "paths: results, step results, exit codes, workspaces, credentials",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  workspaces: [{name: src, emptyDir: {}}, {name: pvc, persistentVolumeClaim: {claimName: c1}}]
  taskSpec:
    results: [{name: r}]
    workspaces: [{name: src}, {name: pvc, mountPath: /data}, {name: opt, optional: true}]
    steps:
    - name: first
      image: x
      results: [{name: sr}]
      args:
      - $(results.r.path)
      - $(step.results.sr.path)
      - $(steps.step-first.exitCode.path)
      - $(workspaces.src.path)
      - $(workspaces.pvc.path)
      - $(workspaces.pvc.claim)
      - $(workspaces.opt.path)
      - $(workspaces.opt.bound)
      - $(workspaces.src.bound)
      - $(credentials.path)
`,
		step: "tr/step-first", want: []string{
			"/tekton/results/r", "/tekton/steps/step-first/results/sr", "/tekton/steps/step-first/exitCode",
			"/workspace/src", "/data", "c1", "", "false", "true", "/tekton/creds",
		},
	}, {
		name: "an undeclared workspace of an inline taskSpec is declared for it",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  workspaces: [{name: w, emptyDir: {}}]
  taskSpec:
    steps: [{name: s, image: x, args: ["$(workspaces.w.path)"]}]
`,
		step: "tr/step-s", want: []string{"/workspace/w"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, "apiVersion: tekton.dev/v1\n"+tc.doc, Options{})
			x := run(t, e, script{})
			p, ok := startedSteps(x)[tc.step]
			if !ok {
				t.Fatalf("step %s never started; log: %v", tc.step, x.log)
			}
			if diff := cmp.Diff(tc.want, p.Args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInvalidRuns(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		reason string
	}{{
		name: "a string given for an array param",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: list, value: x}]
  pipelineSpec:
    params: [{name: list, default: [a]}]
    tasks: [{name: t, taskSpec: {steps: [{name: s, image: x}]}}]
`,
		reason: ReasonParameterTypeMismatch,
	}, {
		name: "a missing pipeline param",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    params: [{name: p}]
    tasks: [{name: t, taskSpec: {steps: [{name: s, image: x}]}}]
`,
		reason: ReasonParameterMissing,
	}, {
		name: "an object param without a needed key",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: o, value: {a: "1"}}]
  pipelineSpec:
    params: [{name: o, type: object, properties: {a: {}, b: {}}}]
    tasks: [{name: t, taskSpec: {steps: [{name: s, image: x}]}}]
`,
		reason: ReasonObjectParameterMissKeys,
	}, {
		name: "a referenced Task gets only the params its PipelineTask passes",
		doc: `
kind: Task
metadata: {name: needs-msg}
spec:
  params: [{name: msg}]
  steps: [{name: s, image: x}]
---
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: msg, value: hi}]
  pipelineSpec:
    tasks: [{name: t, taskRef: {name: needs-msg}}]
`,
		reason: ReasonPipelineValidationFailed,
	}, {
		name: "pipeline defaults in a cycle",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    params:
    - {name: a, default: "$(params.b)"}
    - {name: b, default: "$(params.a)"}
    tasks: [{name: t, taskSpec: {steps: [{name: s, image: x}]}}]
`,
		reason: ReasonPipelineValidationFailed,
	}, {
		name: "a missing Task",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks: [{name: t, taskRef: {name: nope}}]
`,
		reason: ReasonCouldntGetTask,
	}, {
		name: "a missing Pipeline",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineRef: {name: nope}
`,
		reason: ReasonCouldntGetPipeline,
	}, {
		name: "a cycle",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - {name: a, runAfter: [b], taskSpec: {steps: [{name: s, image: x}]}}
    - {name: b, runAfter: [a], taskSpec: {steps: [{name: s, image: x}]}}
`,
		reason: ReasonPipelineInvalidGraph,
	}, {
		name: "a required workspace not bound",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    workspaces: [{name: w}]
    tasks: [{name: t, taskSpec: {steps: [{name: s, image: x}]}}]
`,
		reason: ReasonInvalidWorkspaceBindings,
	}, {
		name: "a taskRunSpec for no task",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  taskRunSpecs: [{pipelineTaskName: nope}]
  pipelineSpec:
    tasks: [{name: t, taskSpec: {steps: [{name: s, image: x}]}}]
`,
		reason: ReasonInvalidTaskRunSpecs,
	}, {
		name: "a result no task declares",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - {name: a, taskSpec: {steps: [{name: s, image: x}]}}
    - {name: b, params: [{name: p, value: $(tasks.a.results.nope)}], taskSpec: {params: [{name: p}], steps: [{name: s, image: x}]}}
`,
		reason: ReasonInvalidTaskResultReference,
	}, {
		name: "a pipeline result from an unknown task",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    results: [{name: r, value: $(tasks.nope.results.x)}]
    tasks: [{name: a, taskSpec: {steps: [{name: s, image: x}]}}]
`,
		reason: ReasonInvalidPipelineResultReference,
	}, {
		name: "CEL that is not a boolean",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks: [{name: a, when: [{cel: "'x'"}], taskSpec: {steps: [{name: s, image: x}]}}]
`,
		reason: ReasonCELEvaluationFailed,
	}, {
		name: "onError continue with retries",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks: [{name: a, onError: continue, retries: 1, taskSpec: {steps: [{name: s, image: x}]}}]
`,
		reason: ReasonPipelineValidationFailed,
	}, {
		name: "an optional pipeline workspace given to a required task workspace",
		doc: `
kind: Task
metadata: {name: needs-w}
spec:
  workspaces: [{name: w}]
  steps: [{name: s, image: x}]
---
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    workspaces: [{name: pw, optional: true}]
    tasks: [{name: t, taskRef: {name: needs-w}, workspaces: [{name: w, workspace: pw}]}]
`,
		reason: ReasonRequiredWorkspaceMarkedOptional,
	}, {
		name: "a task workspace bound to a workspace the pipeline lacks",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks: [{name: t, workspaces: [{name: w, workspace: nope}], taskSpec: {workspaces: [{name: w}], steps: [{name: s, image: x}]}}]
`,
		reason: ReasonPipelineValidationFailed,
	}, {
		name: "a referenced Task's required workspace left unbound",
		doc: `
kind: Task
metadata: {name: needs-w}
spec:
  workspaces: [{name: w}]
  steps: [{name: s, image: x}]
---
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks: [{name: t, taskRef: {name: needs-w}}]
`,
		reason: ReasonPipelineValidationFailed,
	}, {
		name: "a finally task with runAfter",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks: [{name: a, taskSpec: {steps: [{name: s, image: x}]}}]
    finally: [{name: f, runAfter: [a], taskSpec: {steps: [{name: s, image: x}]}}]
`,
		reason: ReasonPipelineInvalidGraph,
	}, {
		name: "a finally task using another finally task's result",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks: [{name: a, taskSpec: {steps: [{name: s, image: x}]}}]
    finally:
    - {name: f, taskSpec: {results: [{name: r}], steps: [{name: s, image: x}]}}
    - {name: g, params: [{name: p, value: $(tasks.f.results.r)}], taskSpec: {params: [{name: p}], steps: [{name: s, image: x}]}}
`,
		reason: ReasonInvalidTaskResultReference,
	}, {
		name: "finally without tasks",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    finally: [{name: f, taskSpec: {steps: [{name: s, image: x}]}}]
`,
		reason: ReasonPipelineValidationFailed,
	}, {
		name: "a task with both taskRef and taskSpec",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks: [{name: a, taskRef: {name: x}, taskSpec: {steps: [{name: s, image: x}]}}]
`,
		reason: ReasonPipelineValidationFailed,
	}, {
		name: "a custom task",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks: [{name: a, taskRef: {apiVersion: example.dev/v1, kind: Wait}}]
`,
		reason: ReasonCreateRunFailed,
	}, {
		name: "a task through a resolver",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks: [{name: a, taskRef: {resolver: git}}]
`,
		reason: ReasonCouldntGetTask,
	}, {
		name: "a pipeline result that is not a task result",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    results: [{name: r, value: $(params.x)}]
    tasks: [{name: a, taskSpec: {steps: [{name: s, image: x}]}}]
`,
		reason: ReasonInvalidPipelineResultReference,
	}, {
		name: "a pipeline result naming a result the task lacks",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    results: [{name: r, value: $(tasks.a.results.nope)}]
    tasks: [{name: a, taskSpec: {steps: [{name: s, image: x}]}}]
`,
		reason: ReasonInvalidPipelineResultReference,
	}, {
		name: "a param in both params and matrix",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks: [{name: a, params: [{name: p, value: x}], matrix: {params: [{name: p, value: [y]}]}, taskSpec: {params: [{name: p}], steps: [{name: s, image: x}]}}]
`,
		reason: ReasonPipelineValidationFailed,
	}, {
		name: "a PipelineTask param of another type than the Task's",
		doc: `
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: list, value: [a, b]}]
  pipelineSpec:
    params: [{name: list, type: array}]
    tasks:
    - name: t
      params: [{name: p, value: "$(params.list[*])"}]
      taskSpec: {params: [{name: p, type: string}], steps: [{name: s, image: x}]}
`,
		reason: ReasonPipelineValidationFailed,
	}, {
		name: "a TaskRun missing a param",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    params: [{name: p}]
    steps: [{name: s, image: x}]
`,
		reason: ReasonTaskRunValidationFailed,
	}, {
		name: "a TaskRun giving an object where a string is declared",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  params: [{name: p, value: {a: b}}]
  taskSpec:
    params: [{name: p}]
    steps: [{name: s, image: x}]
`,
		reason: ReasonTaskRunValidationFailed,
	}, {
		name: "a TaskRun without a required workspace",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    workspaces: [{name: w}]
    steps: [{name: s, image: x}]
`,
		reason: ReasonTaskRunValidationFailed,
	}, {
		name: "a TaskRun naming a missing Task",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  taskRef: {name: nope}
`,
		reason: ReasonTaskRunResolutionFailed,
	}, {
		name: "a TaskRun naming a missing StepAction",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps: [{name: s, ref: {name: nope}}]
`,
		reason: ReasonTaskRunResolutionFailed,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pr, tr, refs := objects(t, "apiVersion: tekton.dev/v1\n"+tc.doc)
			var err error
			if pr != nil {
				_, err = NewPipelineRun(pr, refs, Options{})
			} else {
				_, err = NewTaskRun(tr, refs, Options{})
			}
			var ire *InvalidRunError
			if !errors.As(err, &ire) {
				t.Fatalf("err = %v, want an *InvalidRunError", err)
			}
			if ire.Reason != tc.reason {
				t.Errorf("reason = %s (%v), want %s", ire.Reason, err, tc.reason)
			}
		})
	}
}

func TestStepActions(t *testing.T) {
	const action = `
apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata: {name: act}
spec:
  image: action-image
  params:
  - {name: s, default: "def"}
  - {name: arr, type: array, default: [d1, d2]}
  - {name: o, type: object, properties: {k1: {}, k2: {}}, default: {k1: a1, k2: a2}}
  - {name: ref, default: "$(params.s)-ref"}
  args: ["$(params.s)", "$(params.arr[*])", "$(params.o.k1)", "$(params.o.k2)", "$(params.ref)"]
  env: [{name: E, value: $(params.s)}]
---
`
	tests := []struct {
		name    string
		doc     string
		want    []string
		wantSC  *corev1.SecurityContext
		wantErr string
	}{{
		name: "defaults, with one that uses another param",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps: [{name: s, ref: {name: act}}]
`,
		want: []string{"def", "d1", "d2", "a1", "a2", "def-ref"},
	}, {
		name: "the task's params fill step params; object keys merge",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  params: [{name: tp, value: given}, {name: list, value: [l1]}, {name: obj, value: {k2: o2}}]
  taskSpec:
    params: [{name: tp}, {name: list, type: array}, {name: obj, type: object, properties: {k2: {}}}]
    steps:
    - name: s
      ref: {name: act}
      params:
      - {name: s, value: $(params.tp)}
      - {name: arr, value: "$(params.list[*])"}
      - {name: o, value: "$(params.obj[*])"}
`,
		want: []string{"given", "l1", "a1", "o2", "given-ref"},
	}, {
		name: "the StepAction's securityContext replaces the step's, even when empty",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps:
    - name: s
      ref: {name: act}
      securityContext: {privileged: true}
`,
		want:   []string{"def", "d1", "d2", "a1", "a2", "def-ref"},
		wantSC: nil,
	}, {
		name: "an undeclared param fails the TaskRun",
		doc: `
kind: TaskRun
metadata: {name: tr}
spec:
  taskSpec:
    steps:
    - name: s
      ref: {name: act}
      params: [{name: nope, value: x}]
`,
		wantErr: ReasonTaskRunValidationFailed,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, action+"apiVersion: tekton.dev/v1\n"+tc.doc, Options{})
			x := run(t, e, script{})
			if tc.wantErr != "" {
				c := e.Status().TaskRun.GetCondition()
				if c.Status != corev1.ConditionFalse || c.Reason != tc.wantErr {
					t.Errorf("condition = %+v, want False %s", c, tc.wantErr)
				}
				return
			}
			p := startedSteps(x)["tr/step-s"]
			if diff := cmp.Diff(tc.want, p.Args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
			if p.Image != "action-image" || len(p.Env) != 1 || p.Env[0].Value != tc.want[0] {
				t.Errorf("image %q env %v", p.Image, p.Env)
			}
			if diff := cmp.Diff(tc.wantSC, p.SecurityContext); diff != "" {
				t.Errorf("securityContext (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInputsParamsSpelling(t *testing.T) {
	e := newEngine(t, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  params: [{name: who, value: world}]
  taskSpec:
    params:
    - {name: who}
    - {name: list, type: array, default: [a, b]}
    - {name: obj, type: object, properties: {k: {}}, default: {k: v}}
    steps:
    - name: s
      image: x
      args: ["$(inputs.params.list[*])", "$(inputs.params.who)", "$(inputs.params.obj.k)", "$(inputs.params.list[1])"]
`, Options{})
	x := run(t, e, script{})
	if diff := cmp.Diff([]string{"a", "b", "world", "v", "b"}, startedSteps(x)["tr/step-s"].Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
}
