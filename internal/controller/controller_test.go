package controller_test

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/colo-ci/colo/internal/controller"
	"github.com/colo-ci/colo/internal/runstore"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

// TestController runs the controllers against a real API server without a
// node: Pods are made but never run, and the test plays the kubelet and
// the orchestrator where a case needs them.
func TestController(t *testing.T) {
	e := newEnv(t)
	comp, reader := &fakeCompiler{}, &fakeReader{}
	metricsAddr := freeAddr(t)
	e.startController(t, comp, reader, controllerOptions{grace: time.Second, metricsAddr: metricsAddr})

	t.Run("claims only runs managed by colo", func(t *testing.T) {
		ctx := t.Context()
		ns := e.namespace(t)
		mine := e.createPipelineRun(t, ns, "mine", `managedBy: colo.dev/pod`)
		tekton := e.createPipelineRun(t, ns, "tekton", `managedBy: tekton.dev/pipeline`)
		unset := e.createPipelineRun(t, ns, "unset", ``)
		other := e.createPipelineRun(t, ns, "other", `managedBy: example.com/other`)
		tr := e.createTaskRun(t, ns, "tr-unset", ``)
		e.waitForPod(t, ns, controller.PodName(mine.Name))
		// The controller handled "mine"; give it a moment more to go
		// wrong with the others.
		time.Sleep(time.Second)
		for _, obj := range []client.Object{tekton, unset, other, tr} {
			got := obj.DeepCopyObject().(client.Object)
			must(t, e.client.Get(ctx, client.ObjectKeyFromObject(obj), got))
			if diff := cmp.Diff(obj, got); diff != "" {
				t.Errorf("%s changed (-want +got):\n%s", obj.GetName(), diff)
			}
		}
		pods := &corev1.PodList{}
		must(t, e.client.List(ctx, pods, client.InNamespace(ns)))
		if len(pods.Items) != 1 {
			t.Errorf("%d Pods, want 1 (for %q only)", len(pods.Items), mine.Name)
		}
	})

	t.Run("makes one Pod, owned by the run, with a name derived from the run's", func(t *testing.T) {
		ctx := t.Context()
		ns := e.namespace(t)
		pr := e.createPipelineRun(t, ns, "build", `managedBy: colo.dev/pod`)
		pod := e.waitForPod(t, ns, "build-colo")
		want := []metav1.OwnerReference{{
			APIVersion: "tekton.dev/v1", Kind: "PipelineRun", Name: pr.Name, UID: pr.UID,
			Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
		}}
		if diff := cmp.Diff(want, pod.OwnerReferences); diff != "" {
			t.Errorf("owner references (-want +got):\n%s", diff)
		}
		if got := pod.Labels[controller.LabelManagedBy]; got != controller.ManagedByValue {
			t.Errorf("label %s = %q, want %q", controller.LabelManagedBy, got, controller.ManagedByValue)
		}
		if got := pod.Labels["from-compiler"]; got != "yes" {
			t.Errorf("the compiler's labels were lost: %v", pod.Labels)
		}
		wantMount := corev1.VolumeMount{Name: "colo-downward", MountPath: controller.DownwardDir, ReadOnly: true}
		if !slices.Contains(pod.Spec.Containers[0].VolumeMounts, wantMount) {
			t.Errorf("the orchestrator's mounts %v lack %v", pod.Spec.Containers[0].VolumeMounts, wantMount)
		}
		got := e.waitForCondition(t, pr, func(c *v1.Condition) bool { return c.Reason == "Started" })
		if got.Status.StartTime == nil {
			t.Error("no startTime")
		}
		e.waitForEvent(t, ns, pr.Name, "Started")
		// Nudge the run a few times: still one Pod, the same one.
		for i := range 3 {
			patchLabel(t, e.client, pr, "nudge", strings.Repeat("x", i+1))
		}
		time.Sleep(500 * time.Millisecond)
		pods := &corev1.PodList{}
		must(t, e.client.List(ctx, pods, client.InNamespace(ns)))
		if len(pods.Items) != 1 || pods.Items[0].UID != pod.UID {
			t.Errorf("Pods after reconciling again: %v, want only %s", podNames(pods), pod.Name)
		}
	})

	t.Run("a pending run makes no Pod until it is no longer pending", func(t *testing.T) {
		ctx := t.Context()
		ns := e.namespace(t)
		pr := e.createPipelineRun(t, ns, "later", "managedBy: colo.dev/pod\n  status: PipelineRunPending")
		got := e.waitForCondition(t, pr, func(c *v1.Condition) bool { return c.Reason == "PipelineRunPending" })
		wantCond := v1.Condition{Type: "Succeeded", Status: corev1.ConditionUnknown, Reason: "PipelineRunPending", Message: `PipelineRun "later" is pending`}
		if diff := cmp.Diff(wantCond, *got.Status.GetCondition(), ignoreTime()); diff != "" {
			t.Errorf("condition (-want +got):\n%s", diff)
		}
		if got.Status.StartTime != nil {
			t.Errorf("a pending run has startTime %v", got.Status.StartTime)
		}
		time.Sleep(500 * time.Millisecond)
		e.assertNoPods(t, ns)

		must(t, e.client.Get(ctx, client.ObjectKeyFromObject(pr), got))
		got.Spec.Status = ""
		must(t, e.client.Update(ctx, got))
		e.waitForPod(t, ns, "later-colo")
		e.waitForCondition(t, pr, func(c *v1.Condition) bool { return c.Reason == "Started" })
	})

	t.Run("an invalid run fails with every problem and makes no Pod", func(t *testing.T) {
		ns := e.namespace(t)
		pr := e.createPipelineRun(t, ns, "bad", `managedBy: colo.dev/pod
  params:
  - name: undeclared
    value: x
  pipelineSpec:
    params:
    - name: needed
    tasks:
    - name: a
      runAfter: [nowhere]
      taskSpec:
        steps:
        - image: alpine
          script: echo $(params.needed)
    - name: a
      taskSpec:
        steps:
        - image: alpine
          script: "true"`)
		got := e.waitForCondition(t, pr, isDone)
		c := got.Status.GetCondition()
		if c.Status != corev1.ConditionFalse {
			t.Errorf("condition %s %s, want False", c.Status, c.Reason)
		}
		for _, want := range []string{"spec.pipelineSpec.tasks[1].name", "spec.pipelineSpec.tasks[0].runAfter[0]", "needed"} {
			if !strings.Contains(c.Message, want) {
				t.Errorf("message does not name %q:\n%s", want, c.Message)
			}
		}
		if got.Status.StartTime == nil || got.Status.CompletionTime == nil {
			t.Errorf("startTime %v, completionTime %v: want both", got.Status.StartTime, got.Status.CompletionTime)
		}
		e.waitForEvent(t, ns, pr.Name, "Failed")
		e.assertNoPods(t, ns)
	})

	t.Run("references", func(t *testing.T) {
		tests := []struct {
			name   string
			spec   string
			reason string
			// message has each of these.
			message []string
		}{
			{
				name:    "missing pipeline",
				spec:    "pipelineRef:\n    name: nowhere",
				reason:  "CouldntGetPipeline",
				message: []string{"spec.pipelineRef", `pipelines.tekton.dev "nowhere" not found`},
			},
			{
				name:    "remote resolver",
				spec:    "pipelineRef:\n    resolver: git\n    params:\n    - name: url\n      value: https://example.com/p.git",
				reason:  "CouldntGetPipeline",
				message: []string{"spec.pipelineRef", `resolver "git" is not supported`},
			},
			{
				name:    "missing task",
				spec:    "pipelineSpec:\n    tasks:\n    - name: a\n      taskRef:\n        name: nowhere",
				reason:  "CouldntGetTask",
				message: []string{"spec.pipelineSpec.tasks[0].taskRef", `tasks.tekton.dev "nowhere" not found`},
			},
			{
				name:    "remote resolver for a task in a referenced pipeline",
				spec:    "pipelineRef:\n    name: uses-hub",
				reason:  "CouldntGetTask",
				message: []string{`Pipeline "uses-hub": spec.tasks[0].taskRef`, `resolver "hub" is not supported`},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ns := e.namespace(t)
				e.apply(t, ns, `
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: uses-hub
spec:
  tasks:
  - name: a
    taskRef:
      resolver: hub
      params:
      - name: name
        value: git-clone`)
				pr := e.createPipelineRun(t, ns, "run", "managedBy: colo.dev/pod\n  "+tt.spec)
				got := e.waitForCondition(t, pr, isDone)
				c := got.Status.GetCondition()
				if c.Status != corev1.ConditionFalse || c.Reason != tt.reason {
					t.Errorf("condition %s %s, want False %s: %s", c.Status, c.Reason, tt.reason, c.Message)
				}
				for _, want := range tt.message {
					if !strings.Contains(c.Message, want) {
						t.Errorf("message does not say %q:\n%s", want, c.Message)
					}
				}
				e.assertNoPods(t, ns)
			})
		}
	})

	t.Run("reads references by name and through the cluster resolver", func(t *testing.T) {
		ns := e.namespace(t)
		shared := e.namespace(t)
		e.apply(t, shared, `
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: shared-task
spec:
  steps:
  - ref:
      name: say
`)
		e.apply(t, ns, `
apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata:
  name: say
spec:
  image: alpine
  script: echo hi
---
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: local-task
spec:
  steps:
  - image: alpine
    script: echo local
---
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: p
spec:
  tasks:
  - name: local
    taskRef:
      name: local-task
  - name: shared
    taskRef:
      resolver: cluster
      params:
      - name: kind
        value: task
      - name: name
        value: shared-task
      - name: namespace
        value: `+shared)
		pr := e.createPipelineRun(t, ns, "refs", "managedBy: colo.dev/pod\n  pipelineRef:\n    resolver: cluster\n    params:\n    - name: kind\n      value: pipeline\n    - name: name\n      value: p")
		e.waitForPod(t, ns, "refs-colo")
		call, ok := comp.call(ns, pr.Name)
		if !ok {
			t.Fatal("the compiler was not called")
		}
		gotRun := call.run.(*v1.PipelineRun)
		if diff := cmp.Diff(&v1.PipelineRef{Name: "p"}, gotRun.Spec.PipelineRef); diff != "" {
			t.Errorf("pipelineRef given to the compiler (-want +got):\n%s", diff)
		}
		p := call.set.Pipelines["p"]
		if p == nil {
			t.Fatalf("the set has no Pipeline p: %v", call.set.Pipelines)
		}
		var refs []v1.TaskRef
		for _, pt := range p.Spec.Tasks {
			refs = append(refs, *pt.TaskRef)
		}
		if diff := cmp.Diff([]v1.TaskRef{{Name: "local-task"}, {Name: "shared-task"}}, refs); diff != "" {
			t.Errorf("task refs given to the compiler (-want +got):\n%s", diff)
		}
		var names []string
		for n, task := range call.set.Tasks {
			names = append(names, task.Namespace+"/"+n)
		}
		if diff := cmp.Diff([]string{ns + "/local-task", shared + "/shared-task"}, names, sortStrings()); diff != "" {
			t.Errorf("tasks given to the compiler (-want +got):\n%s", diff)
		}
		if call.set.StepActions["say"] == nil {
			t.Errorf("the StepAction was not given to the compiler: %v", call.set.StepActions)
		}
	})

	t.Run("reads fields and kinds spelled with other capitals, as upstream does", func(t *testing.T) {
		ns := e.namespace(t)
		for _, doc := range []string{`
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: creds
spec:
  workspaces:
  - name: creds
  steps:
  - image: alpine
    script: test -d /creds
    workspaces:
    - name: creds
      mountpath: /creds`, `
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: lower
spec:
  managedBy: colo.dev/pod
  taskRef:
    name: creds
    kind: task
  workspaces:
  - name: creds
    emptyDir: {}`} {
			u := &unstructured.Unstructured{}
			decode(t, doc, &u.Object)
			u.SetNamespace(ns)
			must(t, e.client.Create(t.Context(), u))
		}
		e.waitForPod(t, ns, "lower-colo")
		call, ok := comp.call(ns, "lower")
		if !ok {
			t.Fatal("the compiler was not called")
		}
		task := call.set.Tasks["creds"]
		if task == nil {
			t.Fatalf("the set has no Task creds: %v", call.set.Tasks)
		}
		want := []v1.WorkspaceUsage{{Name: "creds", MountPath: "/creds"}}
		if diff := cmp.Diff(want, task.Spec.Steps[0].Workspaces); diff != "" {
			t.Errorf("step workspaces given to the compiler (-want +got):\n%s", diff)
		}
	})

	t.Run("a deleted Pod fails the run within 10 seconds", func(t *testing.T) {
		ctx := t.Context()
		ns := e.namespace(t)
		pr := e.createPipelineRun(t, ns, "doomed", `managedBy: colo.dev/pod`)
		pod := e.waitForPod(t, ns, "doomed-colo")
		e.waitForCondition(t, pr, func(c *v1.Condition) bool { return c.Reason == "Started" })
		start := time.Now()
		must(t, e.client.Delete(ctx, pod, client.GracePeriodSeconds(0)))
		got := e.waitForCondition(t, pr, isDone)
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("the run failed %v after its Pod was deleted, want within 10s", took)
		}
		c := got.Status.GetCondition()
		if c.Status != corev1.ConditionFalse || c.Reason != "Failed" || !strings.Contains(c.Message, "was deleted") {
			t.Errorf("condition %s %s %q, want False Failed, saying the Pod was deleted", c.Status, c.Reason, c.Message)
		}
		time.Sleep(500 * time.Millisecond)
		e.assertNoPods(t, ns)
	})

	t.Run("an evicted Pod fails the run", func(t *testing.T) {
		ns := e.namespace(t)
		tr := e.createTaskRun(t, ns, "evictee", `managedBy: colo.dev/pod`)
		pod := e.waitForPod(t, ns, "evictee-colo")
		setPodStatus(t, e.client, pod, func(s *corev1.PodStatus) {
			s.Phase, s.Reason, s.Message = corev1.PodFailed, "Evicted", "The node was low on resource: memory."
		})
		got := e.waitForTaskRunCondition(t, tr, isDone)
		c := got.Status.GetCondition()
		if c.Status != corev1.ConditionFalse || c.Reason != "PodEvicted" || !strings.Contains(c.Message, "low on resource") {
			t.Errorf("condition %s %s %q, want False PodEvicted with the Pod's message", c.Status, c.Reason, c.Message)
		}
		if got.Status.PodName != pod.Name {
			t.Errorf("podName %q, want %q", got.Status.PodName, pod.Name)
		}
	})

	t.Run("a container that cannot start fails the run, and its Pod goes", func(t *testing.T) {
		tests := []struct {
			name, waiting, reason, message string
		}{
			{name: "image", waiting: "ImagePullBackOff", reason: "TaskRunImagePullFailed", message: `cannot pull the image "ghcr.io/colo-ci/colo:nope" of container "colo-orchestrator": ImagePullBackOff: Back-off pulling image`},
			{name: "config", waiting: "CreateContainerConfigError", reason: "CreateContainerConfigError", message: `cannot start container "colo-orchestrator": CreateContainerConfigError: secret "s" not found`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ns := e.namespace(t)
				tr := e.createTaskRun(t, ns, "unstartable", `managedBy: colo.dev/pod`)
				pod := e.waitForPod(t, ns, "unstartable-colo")
				msg := "Back-off pulling image"
				if tt.waiting == "CreateContainerConfigError" {
					msg = `secret "s" not found`
				}
				setPodStatus(t, e.client, pod, func(s *corev1.PodStatus) {
					s.Phase = corev1.PodPending
					s.ContainerStatuses = []corev1.ContainerStatus{{
						Name: controller.OrchestratorContainer, Image: "ghcr.io/colo-ci/colo:nope",
						State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: tt.waiting, Message: msg}},
					}}
				})
				got := e.waitForTaskRunCondition(t, tr, isDone)
				c := got.Status.GetCondition()
				if c.Status != corev1.ConditionFalse || c.Reason != tt.reason || !strings.Contains(c.Message, tt.message) {
					t.Errorf("condition %s %s %q, want False %s with %q", c.Status, c.Reason, c.Message, tt.reason, tt.message)
				}
				eventually(t, t.Context(), "the Pod to go", func() (bool, error) {
					p := &corev1.Pod{}
					err := e.client.Get(t.Context(), client.ObjectKeyFromObject(pod), p)
					return apierrors.IsNotFound(err) || (err == nil && p.DeletionTimestamp != nil), client.IgnoreNotFound(err)
				})
			})
		}
	})

	t.Run("status follows the orchestrator's reports", func(t *testing.T) {
		ns := e.namespace(t)
		pr := e.createPipelineRun(t, ns, "reported", `managedBy: colo.dev/pod`)
		pod := e.waitForPod(t, ns, "reported-colo")
		setPodStatus(t, e.client, pod, orchestratorRunning)

		running := pipelineRunReport(corev1.ConditionUnknown, "Running", "Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: 1, Skipped: 0")
		running.PipelineRun.Status.ChildReferences = []v1.ChildStatusReference{{
			TypeMeta: metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "TaskRun"}, Name: "reported-a", PipelineTaskName: "a",
		}}
		child := v1.TaskRun{
			TypeMeta: metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "TaskRun"},
			ObjectMeta: metav1.ObjectMeta{Name: "reported-a", Labels: map[string]string{
				"tekton.dev/pipelineRun": "reported", "tekton.dev/pipelineTask": "a", "tekton.dev/memberOf": "tasks",
			}},
		}
		child.Status.SetCondition(v1.Condition{Type: "Succeeded", Status: corev1.ConditionUnknown, Reason: "Running"})
		child.Status.TaskSpec = &v1.TaskSpec{Steps: []v1.Step{{Name: "s", Image: "alpine", Script: "echo hi"}}}
		running.TaskRuns = []v1.TaskRun{child}
		reader.write(ns, pod.Name, running, false)
		got := e.waitForCondition(t, pr, func(c *v1.Condition) bool { return c.Reason == "Running" })
		tr := &v1.TaskRun{}
		eventually(t, t.Context(), "the TaskRun of task a", func() (bool, error) {
			err := e.client.Get(t.Context(), key(ns, "reported-a"), tr)
			return err == nil, client.IgnoreNotFound(err)
		})
		if !metav1.IsControlledBy(tr, got) {
			t.Errorf("TaskRun owners %v: want the PipelineRun as controller", tr.OwnerReferences)
		}
		if tr.Spec.ManagedBy == nil || *tr.Spec.ManagedBy != controller.ManagedBy {
			t.Errorf("TaskRun spec.managedBy %v, want %s", tr.Spec.ManagedBy, controller.ManagedBy)
		}
		if diff := cmp.Diff(child.Status.TaskSpec, tr.Spec.TaskSpec); diff != "" {
			t.Errorf("TaskRun spec.taskSpec (-want +got):\n%s", diff)
		}
		if got, want := tr.Labels["tekton.dev/pipelineTask"], "a"; got != want {
			t.Errorf("TaskRun label tekton.dev/pipelineTask = %q, want %q", got, want)
		}
		if diff := cmp.Diff(running.PipelineRun.Status.ChildReferences, got.Status.ChildReferences); diff != "" {
			t.Errorf("childReferences (-want +got):\n%s", diff)
		}
		e.waitForEvent(t, ns, pr.Name, "Running")

		done := pipelineRunReport(corev1.ConditionTrue, "Succeeded", "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0")
		done.PipelineRun.Status.ChildReferences = running.PipelineRun.Status.ChildReferences
		doneChild := *child.DeepCopy()
		doneChild.Status.SetCondition(v1.Condition{Type: "Succeeded", Status: corev1.ConditionTrue, Reason: "Succeeded", Message: "All Steps have completed executing"})
		doneChild.Status.Results = []v1.TaskRunResult{{Name: "digest", Type: "string", Value: v1.NewString("sha256:abc")}}
		done.TaskRuns = []v1.TaskRun{doneChild}
		done.PipelineRun.Status.Results = []v1.PipelineRunResult{{Name: "digest", Value: v1.NewString("sha256:abc")}}
		done.PipelineRun.Status.CompletionTime = &metav1.Time{Time: time.Now().Truncate(time.Second)}
		// A progress report lacks results: even one saying the run is
		// over does not end it, the final one does.
		early := pipelineRunReport(corev1.ConditionTrue, "Succeeded", "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0")
		reader.write(ns, pod.Name, early, false)
		time.Sleep(300 * time.Millisecond)
		if c := e.waitForCondition(t, pr, func(*v1.Condition) bool { return true }).Status.GetCondition(); c.Reason != "Running" {
			t.Errorf("after a progress report of the end: reason %s, want Running still", c.Reason)
		}
		reader.write(ns, pod.Name, done, true)
		reader.end(ns, pod.Name)
		setPodStatus(t, e.client, pod, func(s *corev1.PodStatus) {
			s.Phase = corev1.PodSucceeded
			s.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}
		})
		got = e.waitForCondition(t, pr, isDone)
		wantCond := v1.Condition{Type: "Succeeded", Status: corev1.ConditionTrue, Reason: "Succeeded", Message: "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0"}
		if diff := cmp.Diff(wantCond, *got.Status.GetCondition(), ignoreTime()); diff != "" {
			t.Errorf("condition (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(done.PipelineRun.Status.Results, got.Status.Results); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
		if got.Status.CompletionTime == nil || got.Status.StartTime == nil {
			t.Errorf("startTime %v, completionTime %v: want both", got.Status.StartTime, got.Status.CompletionTime)
		}
		e.waitForEvent(t, ns, pr.Name, "Succeeded")
		must(t, e.client.Get(t.Context(), key(ns, "reported-a"), tr))
		if diff := cmp.Diff(doneChild.Status, tr.Status, ignoreTime()); diff != "" {
			t.Errorf("the TaskRun's final status (-want +got):\n%s", diff)
		}
		// The TaskRun shows a task of the PipelineRun's Pod: it is no run
		// of its own.
		if err := e.client.Get(t.Context(), key(ns, controller.PodName("reported-a")), &corev1.Pod{}); !apierrors.IsNotFound(err) {
			t.Errorf("getting a Pod for the TaskRun: %v, want none", err)
		}
	})

	t.Run("a TaskRun's status follows its report", func(t *testing.T) {
		ns := e.namespace(t)
		tr := e.createTaskRun(t, ns, "single", `managedBy: colo.dev/pod`)
		pod := e.waitForPod(t, ns, "single-colo")
		setPodStatus(t, e.client, pod, orchestratorRunning)
		st := v1.TaskRunStatus{}
		st.SetCondition(v1.Condition{Type: "Succeeded", Status: corev1.ConditionFalse, Reason: "StepFailed", Message: `"step-unnamed-0" exited with code 1`})
		st.Steps = []v1.StepState{{Name: "unnamed-0", Container: "step-unnamed-0", ContainerState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}}
		reader.write(ns, pod.Name, &runstore.Document{TaskRun: &v1.TaskRun{Status: st}}, true)
		got := e.waitForTaskRunCondition(t, tr, isDone)
		if c := got.Status.GetCondition(); c.Reason != "StepFailed" {
			t.Errorf("reason %s, want StepFailed", c.Reason)
		}
		if diff := cmp.Diff(st.Steps, got.Status.Steps); diff != "" {
			t.Errorf("steps (-want +got):\n%s", diff)
		}
		if got.Status.PodName != pod.Name {
			t.Errorf("podName %q, want %q", got.Status.PodName, pod.Name)
		}
		// Its Pod still runs after the end: a while later it goes.
		eventually(t, t.Context(), "the finished run's Pod to go", func() (bool, error) {
			p := &corev1.Pod{}
			err := e.client.Get(t.Context(), client.ObjectKeyFromObject(pod), p)
			return apierrors.IsNotFound(err) || (err == nil && p.DeletionTimestamp != nil), client.IgnoreNotFound(err)
		})
	})

	t.Run("a Pod that ends without a final report fails the run", func(t *testing.T) {
		ns := e.namespace(t)
		pr := e.createPipelineRun(t, ns, "crashed", `managedBy: colo.dev/pod`)
		pod := e.waitForPod(t, ns, "crashed-colo")
		setPodStatus(t, e.client, pod, orchestratorRunning)
		reader.write(ns, pod.Name, pipelineRunReport(corev1.ConditionUnknown, "Running", "Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: 1, Skipped: 0"), false)
		e.waitForCondition(t, pr, func(c *v1.Condition) bool { return c.Reason == "Running" })
		reader.end(ns, pod.Name)
		setPodStatus(t, e.client, pod, func(s *corev1.PodStatus) {
			s.Phase = corev1.PodFailed
			s.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error"}}
		})
		got := e.waitForCondition(t, pr, isDone)
		c := got.Status.GetCondition()
		if c.Status != corev1.ConditionFalse || c.Reason != "Failed" || !strings.Contains(c.Message, "exited with code 2") {
			t.Errorf("condition %s %s %q, want False Failed naming the exit code", c.Status, c.Reason, c.Message)
		}
	})

	t.Run("a finished Pod whose log cannot be read fails the run after a few tries", func(t *testing.T) {
		ns := e.namespace(t)
		pr := e.createPipelineRun(t, ns, "unreadable", `managedBy: colo.dev/pod`)
		pod := e.waitForPod(t, ns, "unreadable-colo")
		reader.fail(ns, pod.Name, errors.New("the node is gone"))
		setPodStatus(t, e.client, pod, func(s *corev1.PodStatus) {
			orchestratorRunning(s)
			s.Phase = corev1.PodSucceeded
			s.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}
		})
		got := e.waitForCondition(t, pr, isDone)
		c := got.Status.GetCondition()
		if c.Status != corev1.ConditionFalse || c.Reason != "Failed" || !strings.Contains(c.Message, "the node is gone") {
			t.Errorf("condition %s %s %q, want False Failed with the read error", c.Status, c.Reason, c.Message)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		tests := []struct {
			name    string
			status  v1.PipelineRunSpecStatus
			running bool
			// wantReason is the run's reason right after the cancel; ""
			// when the orchestrator decides.
			wantReason string
			wantPod    bool
		}{
			{name: "Cancelled before the orchestrator started", status: "Cancelled", wantReason: "Cancelled"},
			{name: "Cancelled while running", status: "Cancelled", running: true, wantPod: true},
			{name: "CancelledRunFinally while running", status: "CancelledRunFinally", running: true, wantPod: true},
			{name: "StoppedRunFinally while running", status: "StoppedRunFinally", running: true, wantPod: true},
			{name: "CancelledRunFinally before the orchestrator started", status: "CancelledRunFinally", wantPod: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				ns := e.namespace(t)
				pr := e.createPipelineRun(t, ns, "stop", `managedBy: colo.dev/pod`)
				pod := e.waitForPod(t, ns, "stop-colo")
				e.waitForCondition(t, pr, func(c *v1.Condition) bool { return c.Reason == "Started" })
				if tt.running {
					setPodStatus(t, e.client, pod, orchestratorRunning)
				}
				got := &v1.PipelineRun{}
				must(t, e.client.Get(ctx, client.ObjectKeyFromObject(pr), got))
				got.Spec.Status = tt.status
				must(t, e.client.Update(ctx, got))
				if tt.wantReason != "" {
					got = e.waitForCondition(t, pr, func(c *v1.Condition) bool { return c.Reason == tt.wantReason })
					if c := got.Status.GetCondition(); c.Message != `PipelineRun "stop" was cancelled` {
						t.Errorf("message %q", c.Message)
					}
				}
				if tt.wantPod {
					eventually(t, ctx, "the cancel on the Pod", func() (bool, error) {
						p := &corev1.Pod{}
						if err := e.client.Get(ctx, client.ObjectKeyFromObject(pod), p); err != nil {
							return false, err
						}
						return p.Annotations[controller.AnnotationSpecStatus] == string(tt.status), nil
					})
					return
				}
				eventually(t, ctx, "the Pod to go", func() (bool, error) {
					p := &corev1.Pod{}
					err := e.client.Get(ctx, client.ObjectKeyFromObject(pod), p)
					return apierrors.IsNotFound(err) || (err == nil && p.DeletionTimestamp != nil), client.IgnoreNotFound(err)
				})
			})
		}
	})

	t.Run("a TaskRun's cancel reaches its Pod as Cancelled", func(t *testing.T) {
		ctx := t.Context()
		ns := e.namespace(t)
		tr := e.createTaskRun(t, ns, "halt", `managedBy: colo.dev/pod`)
		pod := e.waitForPod(t, ns, "halt-colo")
		setPodStatus(t, e.client, pod, orchestratorRunning)
		e.waitForTaskRunCondition(t, tr, func(c *v1.Condition) bool { return c.Reason == "Started" })
		got := &v1.TaskRun{}
		must(t, e.client.Get(ctx, client.ObjectKeyFromObject(tr), got))
		got.Spec.Status, got.Spec.StatusMessage = "TaskRunCancelled", "enough"
		must(t, e.client.Update(ctx, got))
		eventually(t, ctx, "the cancel on the Pod", func() (bool, error) {
			p := &corev1.Pod{}
			if err := e.client.Get(ctx, client.ObjectKeyFromObject(pod), p); err != nil {
				return false, err
			}
			return p.Annotations[controller.AnnotationSpecStatus] == "Cancelled", nil
		})
	})

	t.Run("a cancelled run that never started makes no Pod", func(t *testing.T) {
		ns := e.namespace(t)
		tr := e.createTaskRun(t, ns, "never", "managedBy: colo.dev/pod\n  status: TaskRunCancelled\n  statusMessage: not today")
		got := e.waitForTaskRunCondition(t, tr, isDone)
		want := v1.Condition{Type: "Succeeded", Status: corev1.ConditionFalse, Reason: "TaskRunCancelled", Message: `TaskRun "never" was cancelled. not today`}
		if diff := cmp.Diff(want, *got.Status.GetCondition(), ignoreTime()); diff != "" {
			t.Errorf("condition (-want +got):\n%s", diff)
		}
		e.assertNoPods(t, ns)
	})

	t.Run("the controller enforces the timeout when the Pod does not", func(t *testing.T) {
		ns := e.namespace(t)
		pr := e.createPipelineRun(t, ns, "slow", "managedBy: colo.dev/pod\n  timeouts:\n    pipeline: 2s")
		e.waitForPod(t, ns, "slow-colo")
		got := e.waitForCondition(t, pr, isDone)
		want := v1.Condition{Type: "Succeeded", Status: corev1.ConditionFalse, Reason: "PipelineRunTimeout", Message: `PipelineRun "slow" failed to finish within "2s"`}
		if diff := cmp.Diff(want, *got.Status.GetCondition(), ignoreTime()); diff != "" {
			t.Errorf("condition (-want +got):\n%s", diff)
		}
		if took := got.Status.CompletionTime.Sub(got.Status.StartTime.Time); took < 2*time.Second || took > 6*time.Second {
			t.Errorf("the run timed out after %v, want a little over 2s + 1s grace", took)
		}
		eventually(t, t.Context(), "the Pod to go", func() (bool, error) {
			p := &corev1.Pod{}
			err := e.client.Get(t.Context(), key(ns, "slow-colo"), p)
			return apierrors.IsNotFound(err) || (err == nil && p.DeletionTimestamp != nil), client.IgnoreNotFound(err)
		})
		// The Pod's going must not change how the run ended.
		time.Sleep(500 * time.Millisecond)
		must(t, e.client.Get(t.Context(), client.ObjectKeyFromObject(pr), got))
		if diff := cmp.Diff(want, *got.Status.GetCondition(), ignoreTime()); diff != "" {
			t.Errorf("condition once the Pod is gone (-want +got):\n%s", diff)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		for _, want := range []string{
			`colo_runs_started_total{kind="PipelineRun"}`,
			`colo_runs_started_total{kind="TaskRun"}`,
			`colo_runs_finished_total{kind="PipelineRun",reason="PipelineRunTimeout",status="False"} 1`,
			`colo_runs_finished_total{kind="PipelineRun",reason="Succeeded",status="True"} 1`,
			`colo_runs_finished_total{kind="TaskRun",reason="TaskRunCancelled",status="False"} 1`,
			`colo_run_duration_seconds_count{kind="PipelineRun",status="True"} 1`,
			`controller_runtime_reconcile_total{controller="pipelinerun",result="success"}`,
		} {
			name, _, _ := strings.Cut(want, "{")
			lines := metricLines(t, metricsAddr, name)
			found := false
			for _, l := range lines {
				found = found || strings.HasPrefix(l, want)
			}
			if !found {
				t.Errorf("no metric %s in:\n%s", want, strings.Join(lines, "\n"))
			}
		}
	})
}

// metricLines returns the lines of the metrics served at addr that start
// with prefix.
func metricLines(t *testing.T, addr, prefix string) []string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// TestRestartMakesNoSecondPod stops the controller right after it made a
// run's Pod, loses the run's status as if the status write never landed,
// and starts a new controller: it adopts the Pod it finds.
func TestRestartMakesNoSecondPod(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	ns := e.namespace(t)
	comp, reader := &fakeCompiler{}, &fakeReader{}
	stop := e.startController(t, comp, reader, controllerOptions{})
	pr := e.createPipelineRun(t, ns, "again", `managedBy: colo.dev/pod`)
	pod := e.waitForPod(t, ns, "again-colo")
	e.waitForCondition(t, pr, func(c *v1.Condition) bool { return c.Reason == "Started" })
	stop()

	got := &v1.PipelineRun{}
	must(t, e.client.Get(ctx, client.ObjectKeyFromObject(pr), got))
	got.Status = v1.PipelineRunStatus{}
	must(t, e.client.Status().Update(ctx, got))

	e.startController(t, comp, reader, controllerOptions{})
	got = e.waitForCondition(t, pr, func(c *v1.Condition) bool { return c.Reason == "Started" })
	if got.Status.StartTime == nil {
		t.Error("no startTime after the restart")
	}
	time.Sleep(500 * time.Millisecond)
	pods := &corev1.PodList{}
	must(t, e.client.List(ctx, pods, client.InNamespace(ns)))
	if len(pods.Items) != 1 || pods.Items[0].UID != pod.UID {
		t.Errorf("Pods after the restart: %v, want only the first %s", podNames(pods), pod.Name)
	}
}

func isDone(c *v1.Condition) bool { return c.Status != corev1.ConditionUnknown }

func orchestratorRunning(s *corev1.PodStatus) {
	s.Phase = corev1.PodRunning
	s.ContainerStatuses = []corev1.ContainerStatus{{
		Name:  controller.OrchestratorContainer,
		Image: "ghcr.io/colo-ci/colo",
		Ready: true,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}},
	}}
}

func pipelineRunReport(status corev1.ConditionStatus, reason, message string) *runstore.Document {
	pr := &v1.PipelineRun{TypeMeta: metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "PipelineRun"}}
	pr.Status.SetCondition(v1.Condition{Type: "Succeeded", Status: status, Reason: reason, Message: message})
	pr.Status.StartTime = &metav1.Time{Time: time.Now().Truncate(time.Second)}
	return &runstore.Document{PipelineRun: pr}
}

func (e *env) createPipelineRun(t *testing.T, ns, name, spec string) *v1.PipelineRun {
	t.Helper()
	if !strings.Contains(spec, "pipelineRef") && !strings.Contains(spec, "pipelineSpec") {
		spec += "\n  pipelineSpec:\n    tasks:\n    - name: a\n      taskSpec:\n        steps:\n        - image: alpine\n          script: echo hi"
	}
	pr := &v1.PipelineRun{}
	decode(t, "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n  name: "+name+"\nspec:\n  "+spec, pr)
	pr.Namespace = ns
	must(t, e.client.Create(t.Context(), pr))
	return pr
}

func (e *env) createTaskRun(t *testing.T, ns, name, spec string) *v1.TaskRun {
	t.Helper()
	spec += "\n  taskSpec:\n    steps:\n    - image: alpine\n      script: echo hi"
	tr := &v1.TaskRun{}
	decode(t, "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: "+name+"\nspec:\n  "+spec, tr)
	tr.Namespace = ns
	must(t, e.client.Create(t.Context(), tr))
	return tr
}

// apply creates the Tasks, Pipelines and StepActions in a YAML stream.
func (e *env) apply(t *testing.T, ns, docs string) {
	t.Helper()
	for _, doc := range strings.Split(docs, "\n---\n") {
		var tm metav1.TypeMeta
		decode(t, doc, &tm)
		var obj client.Object
		switch tm.Kind {
		case "Task":
			obj = &v1.Task{}
		case "Pipeline":
			obj = &v1.Pipeline{}
		case "StepAction":
			obj = &v1beta1.StepAction{}
		default:
			t.Fatalf("cannot apply a %s", tm.Kind)
		}
		decode(t, doc, obj)
		obj.SetNamespace(ns)
		must(t, e.client.Create(t.Context(), obj))
	}
}

func decode(t *testing.T, doc string, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
		if err := yaml.Unmarshal([]byte(doc), into); err != nil {
			t.Fatalf("decoding:\n%s\n%v", doc, err)
		}
	}
}

func (e *env) waitForPod(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{}
	eventually(t, t.Context(), "Pod "+name, func() (bool, error) {
		err := e.client.Get(t.Context(), key(ns, name), pod)
		return err == nil, client.IgnoreNotFound(err)
	})
	return pod
}

func (e *env) assertNoPods(t *testing.T, ns string) {
	t.Helper()
	pods := &corev1.PodList{}
	must(t, e.client.List(t.Context(), pods, client.InNamespace(ns)))
	var live []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			live = append(live, p.Name)
		}
	}
	if len(live) > 0 {
		t.Errorf("Pods %v, want none", live)
	}
}

func (e *env) waitForCondition(t *testing.T, pr *v1.PipelineRun, ok func(*v1.Condition) bool) *v1.PipelineRun {
	t.Helper()
	got := &v1.PipelineRun{}
	eventually(t, t.Context(), "PipelineRun "+pr.Name+"'s condition", func() (bool, error) {
		if err := e.client.Get(t.Context(), client.ObjectKeyFromObject(pr), got); err != nil {
			return false, err
		}
		c := got.Status.GetCondition()
		return c != nil && ok(c), nil
	})
	return got
}

func (e *env) waitForTaskRunCondition(t *testing.T, tr *v1.TaskRun, ok func(*v1.Condition) bool) *v1.TaskRun {
	t.Helper()
	got := &v1.TaskRun{}
	eventually(t, t.Context(), "TaskRun "+tr.Name+"'s condition", func() (bool, error) {
		if err := e.client.Get(t.Context(), client.ObjectKeyFromObject(tr), got); err != nil {
			return false, err
		}
		c := got.Status.GetCondition()
		return c != nil && ok(c), nil
	})
	return got
}

// waitForEvent waits for an Event about the named object with reason.
func (e *env) waitForEvent(t *testing.T, ns, name, reason string) {
	t.Helper()
	eventually(t, t.Context(), reason+" Event for "+name, func() (bool, error) {
		list := &eventsv1.EventList{}
		if err := e.client.List(t.Context(), list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		for _, ev := range list.Items {
			if ev.Regarding.Name == name && ev.Reason == reason {
				return true, nil
			}
		}
		return false, nil
	})
}

func setPodStatus(t *testing.T, c client.Client, pod *corev1.Pod, change func(*corev1.PodStatus)) {
	t.Helper()
	p := &corev1.Pod{}
	must(t, c.Get(t.Context(), client.ObjectKeyFromObject(pod), p))
	change(&p.Status)
	must(t, c.Status().Update(t.Context(), p))
}

func patchLabel(t *testing.T, c client.Client, obj client.Object, k, v string) {
	t.Helper()
	o := obj.DeepCopyObject().(client.Object)
	must(t, c.Get(t.Context(), client.ObjectKeyFromObject(obj), o))
	l := o.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[k] = v
	o.SetLabels(l)
	must(t, c.Update(t.Context(), o))
}

func podNames(l *corev1.PodList) []string {
	var out []string
	for _, p := range l.Items {
		out = append(out, p.Name+" ("+string(p.UID)+")")
	}
	return out
}

func ignoreTime() cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".LastTransitionTime" }, cmp.Ignore())
}

func sortStrings() cmp.Option {
	return cmp.Transformer("sort", func(in []string) []string {
		out := slices.Clone(in)
		slices.Sort(out)
		return out
	})
}

// TestTwoReplicas runs two controllers that elect a leader: only the
// leader makes Pods, and when it stops the other takes over.
func TestTwoReplicas(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	ns := e.namespace(t)
	lease := e.namespace(t)
	comp, reader := &fakeCompiler{}, &fakeReader{}
	replicas := []*runningController{
		e.start(t, comp, reader, controllerOptions{leaderNamespace: lease}),
		e.start(t, comp, reader, controllerOptions{leaderNamespace: lease}),
	}
	var leader, standby *runningController
	select {
	case <-replicas[0].mgr.Elected():
		leader, standby = replicas[0], replicas[1]
	case <-replicas[1].mgr.Elected():
		leader, standby = replicas[1], replicas[0]
	case <-time.After(30 * time.Second):
		t.Fatal("no replica was elected")
	}
	select {
	case <-standby.mgr.Elected():
		t.Fatal("both replicas were elected")
	default:
	}

	first := e.createPipelineRun(t, ns, "first", `managedBy: colo.dev/pod`)
	e.waitForPod(t, ns, "first-colo")
	e.waitForCondition(t, first, func(c *v1.Condition) bool { return c.Reason == "Started" })

	start := time.Now()
	leader.stop()
	second := e.createPipelineRun(t, ns, "second", `managedBy: colo.dev/pod`)
	select {
	case <-standby.mgr.Elected():
		t.Logf("the standby took over %v after the leader stopped", time.Since(start).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("the standby was not elected after the leader stopped")
	}
	e.waitForPod(t, ns, "second-colo")
	e.waitForCondition(t, second, func(c *v1.Condition) bool { return c.Reason == "Started" })
	time.Sleep(500 * time.Millisecond)
	pods := &corev1.PodList{}
	must(t, e.client.List(ctx, pods, client.InNamespace(ns)))
	if got := podNames(pods); len(got) != 2 {
		t.Errorf("Pods %v, want one for each run", got)
	}
}
