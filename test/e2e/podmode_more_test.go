//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/podspec"
	"github.com/colo-ci/colo/internal/testcluster"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

func TestPodModeRetrySucceeds(t *testing.T) {
	const doc = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: retried
spec:
  workspaces:
    - name: ws
      emptyDir: {}
  pipelineSpec:
    workspaces:
      - name: ws
    tasks:
      - name: flaky
        retries: 1
        workspaces:
          - name: w
            workspace: ws
        taskSpec:
          workspaces:
            - name: w
          steps:
            - name: try
              image: busybox
              script: |
                echo "attempt $(context.task.retry-count)"
                if [ ! -f $(workspaces.w.path)/tried ]; then
                  touch $(workspaces.w.path)/tried
                  exit 1
                fi
`
	res := runOnPod(t, doc)
	if res.code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", res.code, res.out)
	}
	if c := res.doc.Condition(); c == nil || c.Reason != "Succeeded" {
		t.Errorf("PipelineRun condition = %+v, want reason Succeeded", c)
	}
	tr := podModeTask(t, res.doc, "flaky")
	if got := podModeReason(tr.Status.Conditions); got != "Succeeded" {
		t.Errorf("TaskRun reason = %q, want Succeeded", got)
	}
	var retries []string
	for _, r := range tr.Status.RetriesStatus {
		retries = append(retries, podModeReason(r.Conditions))
	}
	if diff := cmp.Diff([]string{"StepFailed"}, retries); diff != "" {
		t.Errorf("reasons of retriesStatus (-want +got):\n%s", diff)
	}
	for _, want := range []string{"[flaky : try] attempt 0", "[flaky : try] attempt 1"} {
		if !strings.Contains(res.out, want) {
			t.Errorf("output has no line %q", want)
		}
	}
}

func TestPodModeTaskTimeout(t *testing.T) {
	const doc = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: timed-out
spec:
  pipelineSpec:
    tasks:
      - name: slow
        timeout: 3s
        taskSpec:
          steps:
            - image: busybox
              script: echo started; sleep 120; echo never
`
	res := runOnPod(t, doc)
	if res.code != 1 {
		t.Errorf("exit code %d, want 1", res.code)
	}
	if res.took > 60*time.Second {
		t.Errorf("colo run took %s, want well under the step's 120s", res.took)
	}
	if strings.Contains(res.out, "never") {
		t.Errorf("the slow step was not stopped")
	}
	tr := podModeTask(t, res.doc, "slow")
	want := v1.Condition{Type: "Succeeded", Status: "False", Reason: "TaskRunTimeout",
		Message: `TaskRun "` + tr.Name + `" failed to finish within "3s"`}
	if diff := cmp.Diff(want, podModeCondition(tr.Status.Conditions)); diff != "" {
		t.Errorf("TaskRun condition (-want +got):\n%s", diff)
	}
	if c := res.doc.Condition(); c == nil || c.Status != "False" || c.Reason != "Failed" {
		t.Errorf("PipelineRun condition = %+v, want False/Failed", c)
	}
}

const podModeBigResult = `
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: big-result
spec:
  pipelineSpec:
    results:
      - name: big
        value: $(tasks.make.results.big)
    tasks:
      - name: make
        taskSpec:
          results:
            - name: big
          steps:
            - image: busybox
              script: head -c 1048576 /dev/zero | tr '\0' a > $(results.big.path)
`

func TestPodModeLargeResult(t *testing.T) {
	res := runOnPod(t, podModeBigResult, "--max-result-size", "2000000")
	if res.code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", res.code, res.out)
	}
	want := strings.Repeat("a", 1<<20)
	var got *v1.PipelineRunResult
	for i, r := range res.doc.PipelineRun.Status.Results {
		if r.Name == "big" {
			got = &res.doc.PipelineRun.Status.Results[i]
		}
	}
	if got == nil {
		t.Fatalf("status.json has no pipeline result big: %+v", res.doc.PipelineRun.Status.Results)
	}
	if len(got.Value.StringVal) != len(want) || got.Value.StringVal != want {
		t.Errorf("pipeline result big has %d bytes, want %d bytes of a", len(got.Value.StringVal), len(want))
	}
}

func TestPodModeLargeResultDefaultLimit(t *testing.T) {
	res := runOnPod(t, podModeBigResult)
	if res.code != 1 {
		t.Errorf("exit code %d, want 1", res.code)
	}
	tr := podModeTask(t, res.doc, "make")
	c := podModeCondition(tr.Status.Conditions)
	if c.Status != "False" || c.Reason != "TaskRunResultLargerThanAllowedLimit" {
		t.Errorf("TaskRun condition = %+v, want False/TaskRunResultLargerThanAllowedLimit", c)
	}
	if !strings.Contains(c.Message, "big") {
		t.Errorf("TaskRun message %q does not name the result", c.Message)
	}
	for _, r := range res.doc.PipelineRun.Status.Results {
		if r.Name == "big" {
			t.Errorf("pipeline result big is set (%d bytes), want none", len(r.Value.StringVal))
		}
	}
}

func TestPodModeSecretOnlyWhereBound(t *testing.T) {
	const doc = `
apiVersion: v1
kind: Secret
metadata:
  name: pod-mode-secret
stringData:
  token: s3cr3t-value
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: secrets
spec:
  workspaces:
    - name: creds
      secret:
        secretName: pod-mode-secret
  pipelineSpec:
    workspaces:
      - name: creds
    tasks:
      - name: reader
        workspaces:
          - name: creds
            workspace: creds
        taskSpec:
          workspaces:
            - name: creds
              mountPath: /creds
          steps:
            - name: read
              image: busybox
              env:
                - name: TOKEN
                  valueFrom:
                    secretKeyRef:
                      name: pod-mode-secret
                      key: token
              script: |
                echo "file=$(cat /creds/token)"
                echo "env=$TOKEN"
      - name: other
        runAfter: [reader]
        taskSpec:
          steps:
            - name: peek
              image: busybox
              script: |
                echo "env=${TOKEN:-none}"
                cat /creds/token
`
	res := runOnPod(t, doc, "--keep")
	if res.code != 1 {
		t.Errorf("exit code %d, want 1 (other cannot read the secret)", res.code)
	}
	for _, want := range []string{"[reader : read] file=s3cr3t-value", "[reader : read] env=s3cr3t-value", "[other : peek] env=none"} {
		if !strings.Contains(res.out, want) {
			t.Errorf("output has no line %q", want)
		}
	}
	if strings.Contains(podModeLog(t, res, "other", "step-peek"), "s3cr3t-value") {
		t.Errorf("other's step saw the secret")
	}
	if got := podModeReason(podModeTask(t, res.doc, "reader").Status.Conditions); got != "Succeeded" {
		t.Errorf("reader's reason = %q, want Succeeded", got)
	}
	if got := podModeReason(podModeTask(t, res.doc, "other").Status.Conditions); got == "Succeeded" {
		t.Errorf("other's reason = %q, want a failure", got)
	}

	c := testcluster.Start(t)
	pods, err := c.Client.CoreV1().Pods(res.ns).List(t.Context(), metav1.ListOptions{})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("want the one kept pod: %v %v", pods, err)
	}
	pod := pods.Items[0]
	t.Cleanup(func() {
		_ = c.Client.CoreV1().Pods(res.ns).Delete(t.Context(), pod.Name, metav1.DeleteOptions{})
	})
	secretVolumes := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		if podModeVolumeHasSecret(v, "pod-mode-secret") {
			secretVolumes[v.Name] = true
		}
	}
	if len(secretVolumes) == 0 {
		t.Fatalf("no volume of the pod holds the secret: %+v", pod.Spec.Volumes)
	}
	bundle, err := podspec.BundleOf(&pod)
	if err != nil {
		t.Fatal(err)
	}
	readers := map[string]bool{}
	for _, tl := range bundle.Layout.Tasks {
		if tl.PipelineTask == "reader" {
			for _, cl := range tl.Steps {
				readers[cl.Container] = true
			}
		}
	}
	got := map[string]bool{}
	for _, ct := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if podModeUsesSecret(ct, secretVolumes, "pod-mode-secret") {
			got[ct.Name] = true
		}
	}
	if diff := cmp.Diff(readers, got); diff != "" {
		t.Errorf("containers that use the secret (-want reader's +got):\n%s", diff)
	}
	if got[podspec.OrchestratorContainer] {
		t.Errorf("the orchestrator container uses the secret")
	}
}

func podModeVolumeHasSecret(v corev1.Volume, secret string) bool {
	if v.Secret != nil && v.Secret.SecretName == secret {
		return true
	}
	if v.Projected != nil {
		for _, s := range v.Projected.Sources {
			if s.Secret != nil && s.Secret.Name == secret {
				return true
			}
		}
	}
	return false
}

func podModeUsesSecret(c corev1.Container, volumes map[string]bool, secret string) bool {
	for _, m := range c.VolumeMounts {
		if volumes[m.Name] {
			return true
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == secret {
			return true
		}
	}
	for _, e := range c.EnvFrom {
		if e.SecretRef != nil && e.SecretRef.Name == secret {
			return true
		}
	}
	return false
}

func podModeCondition(conds []v1.Condition) v1.Condition {
	for _, c := range conds {
		if c.Type == "Succeeded" {
			return v1.Condition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message}
		}
	}
	return v1.Condition{}
}
