package controller

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Condition reasons the controller sets itself; the orchestrator reports
// every other one.
const (
	reasonStarted             = "Started"
	reasonFailed              = "Failed"
	reasonPipelineRunPending  = "PipelineRunPending"
	reasonTaskRunPending      = "TaskRunPending"
	reasonCancelled           = "Cancelled"
	reasonTaskRunCancelled    = "TaskRunCancelled"
	reasonPipelineRunTimeout  = "PipelineRunTimeout"
	reasonTaskRunTimeout      = "TaskRunTimeout"
	reasonPodEvicted          = "PodEvicted"
	reasonCreateRunFailed     = "CreateRunFailed"
	reasonPodCreationFailed   = "PodCreationFailed"
	reasonImagePullFailed     = "TaskRunImagePullFailed"
	reasonContainerConfig     = "CreateContainerConfigError"
	reasonCouldntCancel       = "PipelineRunCouldntCancel"
	specStatusTaskRunCanceled = string(v1.TaskRunSpecStatusCancelled)
)

// The functions below see a *v1.PipelineRun or a *v1.TaskRun through what
// the controller needs of either.

func kindOf(run client.Object) string {
	if _, ok := run.(*v1.PipelineRun); ok {
		return v1.KindPipelineRun
	}
	return v1.KindTaskRun
}

// statusOf returns the part of the run's status every run shares.
func statusOf(run client.Object) *v1.Status {
	switch o := run.(type) {
	case *v1.PipelineRun:
		return &o.Status.Status
	case *v1.TaskRun:
		return &o.Status.Status
	}
	return nil
}

// timesOf returns where the run keeps its start and completion times.
func timesOf(run client.Object) (start, completion **metav1.Time) {
	switch o := run.(type) {
	case *v1.PipelineRun:
		return &o.Status.StartTime, &o.Status.CompletionTime
	case *v1.TaskRun:
		return &o.Status.StartTime, &o.Status.CompletionTime
	}
	return new(*metav1.Time), new(*metav1.Time)
}

// specStatus is the run's spec.status: what its user asks of it.
func specStatus(run client.Object) string {
	switch o := run.(type) {
	case *v1.PipelineRun:
		return string(o.Spec.Status)
	case *v1.TaskRun:
		return string(o.Spec.Status)
	}
	return ""
}

func isPending(run client.Object) bool {
	s := specStatus(run)
	return s == string(v1.PipelineRunSpecStatusPending) || s == string(v1.TaskRunSpecStatusPending)
}

// isHardCancel reports whether the run is cancelled at once: no finally
// tasks run.
func isHardCancel(run client.Object) bool {
	s := specStatus(run)
	return s == string(v1.PipelineRunSpecStatusCancelled) || s == specStatusTaskRunCanceled
}

// isCancel reports whether the run is asked to stop in any way.
func isCancel(run client.Object) bool { return cancelMode(run) != "" }

// cancelMode is how the run is asked to stop, as the orchestrator takes
// it, or "" when it is not.
func cancelMode(run client.Object) string {
	switch s := specStatus(run); s {
	case specStatusTaskRunCanceled:
		return string(v1.PipelineRunSpecStatusCancelled)
	case string(v1.PipelineRunSpecStatusCancelled), string(v1.PipelineRunSpecStatusCancelledRunFinally),
		string(v1.PipelineRunSpecStatusStoppedRunFinally):
		return s
	}
	return ""
}

// isDone reports whether the run has finished: its Succeeded condition is
// True or False.
func isDone(run client.Object) bool {
	c := statusOf(run).GetCondition()
	return c != nil && c.Status != corev1.ConditionUnknown
}

// isStarted reports whether the controller started the run: it has a start
// time, which the controller sets once the run's Pod exists.
func isStarted(run client.Object) bool {
	start, _ := timesOf(run)
	return *start != nil
}

// timeout is how long the run may take; 0 means no limit.
func timeout(run client.Object) time.Duration {
	switch o := run.(type) {
	case *v1.PipelineRun:
		if t := o.Spec.Timeouts; t != nil && t.Pipeline != nil {
			return t.Pipeline.Duration
		}
	case *v1.TaskRun:
		if o.Spec.Timeout != nil {
			return o.Spec.Timeout.Duration
		}
	}
	return v1.DefaultTimeout
}

func failedReason(run client.Object) string { return reasonFailed }

func pendingReason(run client.Object) string {
	if kindOf(run) == v1.KindPipelineRun {
		return reasonPipelineRunPending
	}
	return reasonTaskRunPending
}

func cancelledReason(run client.Object) string {
	if kindOf(run) == v1.KindPipelineRun {
		return reasonCancelled
	}
	return reasonTaskRunCancelled
}

func timeoutReason(run client.Object) string {
	if kindOf(run) == v1.KindPipelineRun {
		return reasonPipelineRunTimeout
	}
	return reasonTaskRunTimeout
}

func createFailedReason(run client.Object) string {
	if kindOf(run) == v1.KindPipelineRun {
		return reasonCreateRunFailed
	}
	return reasonPodCreationFailed
}

func evictedReason(run client.Object) string {
	if kindOf(run) == v1.KindPipelineRun {
		return reasonFailed
	}
	return reasonPodEvicted
}

// cancelledMessage is upstream's message for a run cancelled before it ran.
func cancelledMessage(run client.Object) string {
	if tr, ok := run.(*v1.TaskRun); ok {
		return fmt.Sprintf("TaskRun %q was cancelled. %s", tr.Name, tr.Spec.StatusMessage)
	}
	return fmt.Sprintf("PipelineRun %q was cancelled", run.GetName())
}

// timeoutMessage is upstream's message for a run that timed out.
func timeoutMessage(run client.Object) string {
	return fmt.Sprintf("%s %q failed to finish within %q", kindOf(run), run.GetName(), timeout(run).String())
}

// pendingMessage is upstream's message for a pending run.
func pendingMessage(run client.Object) string {
	return fmt.Sprintf("%s %q is pending", kindOf(run), run.GetName())
}

// cannotStartReason is the reason a run fails with when a container of its
// Pod cannot start for the kubelet's reason waiting: upstream's TaskRun
// reasons, and Failed for a PipelineRun (whose task failed).
func cannotStartReason(run client.Object, waiting string) string {
	if kindOf(run) == v1.KindPipelineRun {
		return reasonFailed
	}
	if waiting == "CreateContainerConfigError" {
		return reasonContainerConfig
	}
	return reasonImagePullFailed
}
