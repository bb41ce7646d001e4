package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/podspec"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Reconciler runs the claimed runs of one kind, PipelineRun or TaskRun: it
// makes each run's Pod and keeps the run's status in step with what the
// Pod's orchestrator reports. Reconcile is safe to call any number of times
// and from a restarted process: whatever it needs to know it reads from the
// run and its Pod.
type Reconciler struct {
	client    client.Client
	apiReader client.Reader
	scheme    *runtime.Scheme
	recorder  events.EventRecorder
	compiler  PodCompiler
	tracker   *tracker
	now       func() time.Time
	engine    engine.Options
	grace     time.Duration
	newRun    func() client.Object
	metrics   *metrics
}

// Reconcile brings one run a step closer to done.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	run := r.newRun()
	if err := r.client.Get(ctx, req.NamespacedName, run); err != nil {
		if apierrors.IsNotFound(err) {
			r.tracker.forget(req.NamespacedName)
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, err
	}
	if !Claimed(run) {
		r.tracker.forget(req.NamespacedName)
		return reconcile.Result{}, nil
	}
	if isDone(run) {
		r.tracker.forget(req.NamespacedName)
		return r.reap(ctx, run)
	}
	res, err := r.reconcile(ctx, run)
	if apierrors.IsConflict(err) {
		// The run changed since the cache saw it: look again soon.
		logf.FromContext(ctx).V(1).Info("the run changed while being reconciled; trying again")
		return reconcile.Result{RequeueAfter: 100 * time.Millisecond}, nil
	}
	return res, err
}

// reconcile handles a claimed run that has not finished.
func (r *Reconciler) reconcile(ctx context.Context, run client.Object) (reconcile.Result, error) {
	pod, err := r.getPod(ctx, run)
	if err != nil {
		return reconcile.Result{}, err
	}
	switch {
	case pod == nil && !isStarted(run):
		return r.start(ctx, run)
	case pod == nil:
		return reconcile.Result{}, r.fail(ctx, run, nil, failedReason(run),
			fmt.Sprintf("the Pod %q that ran %s %q was deleted before the run finished", PodName(run.GetName()), kindOf(run), run.GetName()))
	case !metav1.IsControlledBy(pod, run):
		// An earlier run of the same name left it, and it is being
		// deleted with that run; or someone else made it.
		logf.FromContext(ctx).Info("a Pod of the run's Pod name exists but is not the run's; waiting for it to go", "pod", pod.Name)
		return reconcile.Result{RequeueAfter: 2 * time.Second}, nil
	}
	return r.follow(ctx, run, pod)
}

// getPod returns the run's Pod, or nil when it has none. The cache may not
// have seen a Pod the controller just made, so a run that has started is
// checked against the API server before its Pod is taken as gone.
func (r *Reconciler) getPod(ctx context.Context, run client.Object) (*corev1.Pod, error) {
	key := types.NamespacedName{Namespace: run.GetNamespace(), Name: PodName(run.GetName())}
	pod := &corev1.Pod{}
	err := r.client.Get(ctx, key, pod)
	if err == nil {
		return pod, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, err
	}
	if !isStarted(run) {
		return nil, nil
	}
	err = r.apiReader.Get(ctx, key, pod)
	switch {
	case err == nil:
		return pod, nil
	case apierrors.IsNotFound(err):
		return nil, nil
	}
	return nil, err
}

// start makes the Pod of a run that has none, or says why it makes none.
func (r *Reconciler) start(ctx context.Context, run client.Object) (reconcile.Result, error) {
	log := logf.FromContext(ctx)
	if isPending(run) {
		orig := run.DeepCopyObject().(client.Object)
		statusOf(run).SetCondition(r.condition(corev1.ConditionUnknown, pendingReason(run), pendingMessage(run)))
		return reconcile.Result{}, r.patchStatus(ctx, orig, run)
	}
	if isHardCancel(run) {
		return reconcile.Result{}, r.fail(ctx, run, nil, cancelledReason(run), cancelledMessage(run))
	}
	p, inv, err := prepare(ctx, r.apiReader, run, r.engine)
	if err != nil {
		return reconcile.Result{}, err
	}
	if inv != nil {
		log.V(1).Info("the run is invalid", "reason", inv.reason)
		return reconcile.Result{}, r.fail(ctx, run, nil, inv.reason, inv.message)
	}
	pod, err := r.compiler.Compile(ctx, p.run, p.set)
	var ire *engine.InvalidRunError
	switch {
	case errors.As(err, &ire):
		return reconcile.Result{}, r.fail(ctx, run, nil, ire.Reason, ire.Message())
	case err != nil:
		return reconcile.Result{}, r.fail(ctx, run, nil, createFailedReason(run), fmt.Sprintf("building the Pod: %v", err))
	}
	if err := r.dress(pod, run); err != nil {
		return reconcile.Result{}, err
	}
	err = r.client.Create(ctx, pod)
	switch {
	case err == nil:
		log.Info("created the run's Pod", "pod", pod.Name)
	case apierrors.IsAlreadyExists(err):
		// Made by an earlier reconcile whose status update did not land,
		// or not the run's at all: Reconcile sorts that out.
		if err := r.apiReader.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return reconcile.Result{}, err
		}
		if !metav1.IsControlledBy(pod, run) {
			return reconcile.Result{RequeueAfter: 2 * time.Second}, nil
		}
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) || (apierrors.IsForbidden(err) && !isQuota(err)):
		return reconcile.Result{}, r.fail(ctx, run, nil, createFailedReason(run), fmt.Sprintf("creating the Pod: %v", err))
	default:
		return reconcile.Result{}, fmt.Errorf("creating the Pod: %w", err)
	}
	return r.follow(ctx, run, pod)
}

// isQuota reports whether a Pod was refused for a resource quota, which
// may leave room later.
func isQuota(err error) bool {
	var st apierrors.APIStatus
	if s, ok := err.(apierrors.APIStatus); ok {
		st = s
	}
	return st != nil && containsFold(st.Status().Message, "exceeded quota")
}

// dress names the Pod, makes the run its controller and adds the labels
// and annotations the controller relies on.
func (r *Reconciler) dress(pod *corev1.Pod, run client.Object) error {
	pod.Name = PodName(run.GetName())
	pod.Namespace = run.GetNamespace()
	pod.GenerateName = ""
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[LabelManagedBy] = ManagedByValue
	if isCancel(run) {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[AnnotationSpecStatus] = cancelMode(run)
	}
	addDownward(pod)
	pod.OwnerReferences = nil
	return controllerutil.SetControllerReference(run, pod, r.scheme)
}

// maxReadFailures is how often the controller tries to read the log of a
// Pod that has ended before it gives the run up.
const maxReadFailures = 5

// follow carries a run whose Pod exists on: it passes a cancel to the Pod,
// applies the orchestrator's latest report, and fails the run when its Pod
// is gone, ended without a final report, or outlived the run's timeout.
func (r *Reconciler) follow(ctx context.Context, run client.Object, pod *corev1.Pod) (reconcile.Result, error) {
	log := logf.FromContext(ctx)
	key := client.ObjectKeyFromObject(run)
	orig := run.DeepCopyObject().(client.Object)
	now := r.now()

	if !isStarted(run) {
		r.markStarted(run, pod)
	}
	orchestrator := containerState(pod, OrchestratorContainer)
	orchestratorRan := orchestrator != nil && (orchestrator.Running != nil || orchestrator.Terminated != nil)

	if isCancel(run) {
		if isHardCancel(run) && !orchestratorRan && pod.DeletionTimestamp == nil {
			// Nothing ran yet that could report: the run ends here.
			return reconcile.Result{}, r.kill(ctx, orig, run, pod, cancelledReason(run), cancelledMessage(run))
		}
		if mode := cancelMode(run); pod.Annotations[AnnotationSpecStatus] != mode {
			p := pod.DeepCopy()
			if p.Annotations == nil {
				p.Annotations = map[string]string{}
			}
			p.Annotations[AnnotationSpecStatus] = mode
			if err := r.client.Patch(ctx, p, client.MergeFrom(pod)); err != nil && !apierrors.IsNotFound(err) {
				return reconcile.Result{}, fmt.Errorf("passing the cancel (%s) to the Pod: %w", mode, err)
			}
			log.Info("passed the cancel request to the Pod", "mode", mode)
		}
	}

	var retry time.Duration
	if orchestratorRan {
		follow := orchestrator.Terminated == nil && !podDone(pod)
		retry = r.tracker.read(key, pod, follow)
	}
	read := r.tracker.state(key, pod.UID)
	if read.err != nil {
		log.Error(read.err, "reading the orchestrator's status reports", "failures", read.failures)
	}
	if latest := read.latest; latest != nil {
		if pr, ok := run.(*v1.PipelineRun); ok && latest.Document != nil {
			if err := r.syncTaskRuns(ctx, pr, latest.Document); err != nil {
				return reconcile.Result{}, err
			}
		}
		applyReport(run, latest)
	}
	if pod.DeletionTimestamp != nil && !isCancel(run) && (!isDone(run) || statusOf(run).GetCondition().Reason == cancelledReason(run)) {
		// Someone deleted the Pod mid-run. Its orchestrator, stopped,
		// may have reported the run cancelled; it was not.
		return reconcile.Result{}, r.failFrom(ctx, orig, run, pod, failedReason(run),
			fmt.Sprintf("the Pod %q that ran %s %q was deleted before the run finished", pod.Name, kindOf(run), run.GetName()))
	}
	if isDone(run) {
		r.tracker.forget(key)
		var res reconcile.Result
		if !podDone(pod) {
			// Its orchestrator exits right after the end; see reap.
			res.RequeueAfter = 2*r.grace + time.Second
		}
		return res, r.patchStatus(ctx, orig, run)
	}

	switch {
	case pod.DeletionTimestamp != nil:
		return reconcile.Result{}, r.failFrom(ctx, orig, run, pod, cancelledReason(run), cancelledMessage(run))
	case podDone(pod) && pod.Status.Reason == "Evicted":
		return reconcile.Result{}, r.failFrom(ctx, orig, run, pod, evictedReason(run),
			fmt.Sprintf("the Pod %q that ran %s %q was evicted: %s", pod.Name, kindOf(run), run.GetName(), pod.Status.Message))
	case podDone(pod) && pod.Status.Reason == "DeadlineExceeded":
		return reconcile.Result{}, r.failFrom(ctx, orig, run, pod, timeoutReason(run), timeoutMessage(run))
	case podDone(pod) && (!orchestratorRan || read.complete):
		return reconcile.Result{}, r.failFrom(ctx, orig, run, pod, failedReason(run),
			fmt.Sprintf("the Pod %q that ran %s %q ended without reporting the run's end: %s", pod.Name, kindOf(run), run.GetName(), podSummary(pod)))
	case podDone(pod) && read.failures >= maxReadFailures:
		return reconcile.Result{}, r.failFrom(ctx, orig, run, pod, failedReason(run),
			fmt.Sprintf("the Pod %q that ran %s %q ended, and its orchestrator's log cannot be read: %v", pod.Name, kindOf(run), run.GetName(), read.err))
	}

	if w, container, image := podspec.CannotStart(pod); w != nil {
		what := fmt.Sprintf("cannot pull the image %q of container %q", image, container)
		if w.Reason == "CreateContainerConfigError" {
			what = fmt.Sprintf("cannot start container %q", container)
		}
		return reconcile.Result{}, r.kill(ctx, orig, run, pod, cannotStartReason(run, w.Reason),
			fmt.Sprintf("the Pod %q of %s %q %s: %s: %s", pod.Name, kindOf(run), run.GetName(), what, w.Reason, w.Message))
	}

	res := reconcile.Result{RequeueAfter: retry}
	if d := timeout(run); d > 0 {
		start, _ := timesOf(run)
		deadline := (*start).Add(d + r.grace)
		if !now.Before(deadline) {
			return reconcile.Result{}, r.kill(ctx, orig, run, pod, timeoutReason(run), timeoutMessage(run))
		}
		if wait := deadline.Sub(now); res.RequeueAfter == 0 || wait < res.RequeueAfter {
			res.RequeueAfter = wait
		}
	}
	return res, r.patchStatus(ctx, orig, run)
}

// markStarted records that the run's Pod exists: the run's start time and
// its Started condition (and, for a TaskRun, its Pod's name).
func (r *Reconciler) markStarted(run client.Object, pod *corev1.Pod) {
	start, _ := timesOf(run)
	if *start == nil {
		t := metav1.NewTime(r.now())
		if !pod.CreationTimestamp.IsZero() && pod.CreationTimestamp.Before(&t) {
			t = pod.CreationTimestamp
		}
		*start = &t
	}
	if tr, ok := run.(*v1.TaskRun); ok {
		tr.Status.PodName = pod.Name
	}
	statusOf(run).SetCondition(r.condition(corev1.ConditionUnknown, reasonStarted, ""))
}

// fail ends a run that has not finished: False with reason and message,
// and a completion time. With pod, the run's Pod, it is marked started
// first, as a run that had a Pod has.
func (r *Reconciler) fail(ctx context.Context, run client.Object, pod *corev1.Pod, reason, message string) error {
	return r.failFrom(ctx, run.DeepCopyObject().(client.Object), run, pod, reason, message)
}

// failFrom is fail for a run already changed from orig.
func (r *Reconciler) failFrom(ctx context.Context, orig, run client.Object, pod *corev1.Pod, reason, message string) error {
	now := metav1.NewTime(r.now())
	start, completion := timesOf(run)
	if *start == nil {
		if pod != nil {
			r.markStarted(run, pod)
		} else {
			*start = &now
		}
	}
	*completion = &now
	statusOf(run).SetCondition(r.condition(corev1.ConditionFalse, reason, message))
	r.tracker.forget(client.ObjectKeyFromObject(run))
	return r.patchStatus(ctx, orig, run)
}

// kill ends a run the controller gives up on, then deletes its Pod. Should
// the deletion fail, reap deletes the Pod later.
func (r *Reconciler) kill(ctx context.Context, orig, run client.Object, pod *corev1.Pod, reason, message string) error {
	if err := r.failFrom(ctx, orig, run, pod, reason, message); err != nil {
		return err
	}
	logf.FromContext(ctx).Info("ended the run and deletes its Pod", "reason", reason, "pod", pod.Name)
	return r.deletePod(ctx, pod)
}

// reap deletes the Pod of a finished run that is still running a while
// after the run's end: its orchestrator exits right after it reports the
// end, so such a Pod was given up by the controller, or is stuck.
func (r *Reconciler) reap(ctx context.Context, run client.Object) (reconcile.Result, error) {
	pod := &corev1.Pod{}
	err := r.client.Get(ctx, types.NamespacedName{Namespace: run.GetNamespace(), Name: PodName(run.GetName())}, pod)
	if err != nil || podDone(pod) || pod.DeletionTimestamp != nil || !metav1.IsControlledBy(pod, run) {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	var end time.Time
	if _, completion := timesOf(run); *completion != nil {
		end = (*completion).Time
	} else if c := statusOf(run).GetCondition(); c != nil {
		end = c.LastTransitionTime.Time
	}
	if wait := end.Add(2 * r.grace).Sub(r.now()); wait > 0 {
		return reconcile.Result{RequeueAfter: wait}, nil
	}
	logf.FromContext(ctx).Info("deleting the Pod of a finished run, still running", "pod", pod.Name)
	return reconcile.Result{}, r.deletePod(ctx, pod)
}

func (r *Reconciler) deletePod(ctx context.Context, pod *corev1.Pod) error {
	err := r.client.Delete(ctx, pod, client.Preconditions{UID: &pod.UID})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting the Pod: %w", err)
	}
	return nil
}

func (r *Reconciler) condition(status corev1.ConditionStatus, reason, message string) v1.Condition {
	return v1.Condition{
		Type:               v1.ConditionSucceeded,
		Status:             status,
		Reason:             reason,
		Message:            message,
		LastTransitionTime: metav1.NewTime(r.now()),
	}
}

// applyReport puts the status in the orchestrator's report into the run's.
// The run keeps the start time the controller gave it (when its Pod was
// made) and, for a TaskRun, its Pod's name. Only the final report ends the
// run: a progress report that says the run is over lacks its results, and
// the final one follows.
func applyReport(run client.Object, rep *Report) {
	doc := rep.Document
	if doc == nil {
		return
	}
	var st *v1.Status
	switch run.(type) {
	case *v1.PipelineRun:
		if doc.PipelineRun == nil {
			return
		}
		st = &doc.PipelineRun.Status.Status
	case *v1.TaskRun:
		if doc.TaskRun == nil {
			return
		}
		st = &doc.TaskRun.Status.Status
	}
	if c := st.GetCondition(); !rep.Final && c != nil && c.Status != corev1.ConditionUnknown {
		return
	}
	switch o := run.(type) {
	case *v1.PipelineRun:
		s := copyJSON(&doc.PipelineRun.Status)
		s.StartTime = earlier(o.Status.StartTime, s.StartTime)
		s.ObservedGeneration = o.Generation
		keepTransitionTime(&o.Status.Status, &s.Status)
		o.Status = *s
	case *v1.TaskRun:
		s := copyJSON(&doc.TaskRun.Status)
		s.StartTime = earlier(o.Status.StartTime, s.StartTime)
		s.PodName = o.Status.PodName
		s.ObservedGeneration = o.Generation
		keepTransitionTime(&o.Status.Status, &s.Status)
		o.Status = *s
	}
}

// keepTransitionTime keeps the condition's last transition time when a
// report does not change the condition, so that status is only written
// when something changed.
func keepTransitionTime(old, updated *v1.Status) {
	oc, nc := old.GetCondition(), updated.GetCondition()
	if oc != nil && nc != nil && oc.Status == nc.Status && oc.Reason == nc.Reason && oc.Message == nc.Message {
		nc.LastTransitionTime = oc.LastTransitionTime
	}
}

func earlier(a, b *metav1.Time) *metav1.Time {
	switch {
	case a == nil:
		return b
	case b == nil || a.Before(b):
		return a
	}
	return b
}

// patchStatus writes run's status if it differs from orig's, and emits the
// Event upstream emits for the change of its Succeeded condition.
func (r *Reconciler) patchStatus(ctx context.Context, orig, run client.Object) error {
	if statusJSON(orig) == statusJSON(run) {
		return nil
	}
	// The lock makes a reconcile that read a stale run (the cache lags
	// behind the controller's own writes) fail, and retry, rather than
	// overwrite what a newer one wrote.
	if err := r.client.Status().Patch(ctx, run, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("updating the run's status: %w", err)
	}
	before, after := statusOf(orig).GetCondition(), statusOf(run).GetCondition()
	r.emit(run, before, after)
	r.count(run, before, after)
	return nil
}

// count counts a run that started or ended with this status update.
func (r *Reconciler) count(run client.Object, before, after *v1.Condition) {
	if after == nil || (before != nil && before.Status == after.Status && before.Reason == after.Reason) {
		return
	}
	switch {
	case after.Reason == reasonStarted && (before == nil || before.Reason != reasonStarted):
		r.metrics.runStarted(kindOf(run))
	case after.Status != corev1.ConditionUnknown && (before == nil || before.Status == corev1.ConditionUnknown):
		took := time.Duration(-1)
		if start, end := timesOf(run); *start != nil && *end != nil {
			took = max(0, (*end).Sub((*start).Time))
		}
		r.metrics.runFinished(kindOf(run), string(after.Status), after.Reason, took)
	}
}

// emit sends the Event upstream sends when a run's Succeeded condition
// changes: Started when it first appears, its reason while Unknown,
// Succeeded when True, Failed (a warning) when False.
func (r *Reconciler) emit(run client.Object, before, after *v1.Condition) {
	if r.recorder == nil || after == nil {
		return
	}
	if before != nil && before.Status == after.Status && before.Reason == after.Reason && before.Message == after.Message {
		return
	}
	const action = "Reconcile"
	switch after.Status {
	case corev1.ConditionUnknown:
		if before == nil || after.Reason == reasonStarted {
			r.recorder.Eventf(run, nil, corev1.EventTypeNormal, reasonStarted, action, "")
			return
		}
		r.recorder.Eventf(run, nil, corev1.EventTypeNormal, after.Reason, action, "%s", eventNote(after.Message))
	case corev1.ConditionTrue:
		r.recorder.Eventf(run, nil, corev1.EventTypeNormal, "Succeeded", action, "%s", eventNote(after.Message))
	case corev1.ConditionFalse:
		r.recorder.Eventf(run, nil, corev1.EventTypeWarning, reasonFailed, action, "%s", eventNote(after.Message))
	}
}

// eventNote fits a message into an Event's note (at most 1 kB).
func eventNote(s string) string {
	const max = 1024
	if len(s) <= max {
		return s
	}
	return s[:max-3] + "..."
}

// statusJSON is a run's status as JSON, to compare.
func statusJSON(run client.Object) string {
	switch o := run.(type) {
	case *v1.PipelineRun:
		return jsonOf(o.Status)
	case *v1.TaskRun:
		return jsonOf(o.Status)
	}
	return ""
}

// podSummary says in a line how a Pod ended.
func podSummary(pod *corev1.Pod) string {
	s := string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		s += ", " + pod.Status.Reason
	}
	if pod.Status.Message != "" {
		s += ": " + pod.Status.Message
	}
	if st := containerState(pod, OrchestratorContainer); st != nil && st.Terminated != nil {
		t := st.Terminated
		s += fmt.Sprintf("; container %s exited with code %d", OrchestratorContainer, t.ExitCode)
		if t.Reason != "" {
			s += " (" + t.Reason + ")"
		}
		if t.Message != "" {
			s += ": " + t.Message
		}
	}
	return s
}

func copyJSON[T any](in *T) *T {
	b, err := json.Marshal(in)
	if err != nil {
		panic(fmt.Sprintf("copy %T: %v", in, err))
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("copy %T: %v", in, err))
	}
	return out
}
