package engine

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

// TaskRun condition reasons and messages, as upstream reports them.
const (
	v1TaskRunReasonRunning          = "Running"
	v1TaskRunReasonSucceeded        = "Succeeded"
	v1TaskRunReasonFailed           = "Failed"
	v1TaskRunReasonStepFailed       = "StepFailed"
	v1TaskRunReasonStepOOM          = "StepOOM"
	v1TaskRunReasonToBeRetried      = "ToBeRetried"
	v1TaskRunReasonCancelled        = "TaskRunCancelled"
	v1TaskRunReasonTimedOut         = "TaskRunTimeout"
	v1TaskRunReasonFailureIgnored   = "FailureIgnored"
	v1TaskRunReasonResultTooLarge   = "TaskRunResultLargerThanAllowedLimit"
	v1TaskRunReasonFailedValidation = ReasonTaskRunValidationFailed

	msgTaskRunRunning   = "Not all Steps in the Task have finished executing"
	msgTaskRunSucceeded = "All Steps have completed executing"

	// Messages a PipelineRun puts in spec.statusMessage of a TaskRun it cancels.
	msgCancelledByPipeline        = "TaskRun cancelled as the PipelineRun it belongs to has been cancelled."
	msgCancelledByPipelineTimeout = "TaskRun cancelled as the PipelineRun it belongs to has timed out."
)

// Step termination reasons.
const (
	stepReasonCompleted       = "Completed"
	stepReasonError           = "Error"
	stepReasonContinued       = "Continued"
	stepReasonSkipped         = "Skipped"
	stepReasonTimeoutExceeded = "TimeoutExceeded"
	stepReasonCancelled       = "Cancelled"
	stepReasonOOMKilled       = "OOMKilled"
	stepReasonStartFailed     = "StartFailed"
)

// taskRun is one TaskRun: a standalone run, or one child of a PipelineRun
// (one per matrix combination). Its attempts run one after another.
type taskRun struct {
	name         string
	namespace    string
	uid          string
	pipelineTask string
	displayName  string
	finally      bool
	// taskName is $(context.task.name): the Task's name for a taskRef, the
	// TaskRun's name for an inline spec.
	taskName string
	// spec is the resolved, defaulted spec, with pipeline-scope values
	// applied; params are applied per attempt.
	spec   *v1.TaskSpec
	params v1.Params
	// bindings are the TaskRun's workspace bindings; sources name the
	// PipelineRun workspace each comes from.
	bindings []v1.WorkspaceBinding
	sources  map[string]string

	retries         int
	timeout         time.Duration
	onErrorContinue bool
	serviceAccount  string
	podTemplate     *v1.PodTemplate
	labels          map[string]string
	annotations     map[string]string
	stepSpecs       []v1.TaskRunStepSpec
	sidecarSpecs    []v1.TaskRunSidecarSpec
	computeRes      *corev1.ResourceRequirements
	opts            Options
	stepActions     func(string) (*v1beta1.StepAction, bool)

	status v1.TaskRunStatus
	att    *attempt
	// cancelRequested is set on a standalone TaskRun by CancelRequested.
	cancelRequested v1.PipelineRunSpecStatus
	// cancelled is spec.status=TaskRunCancelled: no more attempts.
	cancelled bool
	// statusMessage is spec.statusMessage, set by a PipelineRun that
	// cancels the TaskRun.
	statusMessage string
	// stopReason is set once the TaskRun is asked to stop.
	stopReason string
	// setupErr fails the TaskRun before its first attempt.
	setupErr *InvalidRunError
	done     bool
}

// attempt is one try of a TaskRun: one Pod, upstream.
type attempt struct {
	id           AttemptID
	spec         *v1.TaskSpec
	steps        []*stepRun
	sidecars     []Process
	workspaces   []Workspace
	emitted      bool
	waitSidecars bool
	startedAt    time.Time
	next         int
	running      int
	// failedStep is the first step that failed the attempt (-1 none).
	failedStep  int
	stopReason  string
	stopMessage string
	// failure is an executor-reported failure (AttemptFailed).
	failReason, failMessage string
	taskResults             map[string]string
	taskResultOrder         []string
	stepResults             map[string]map[string]string
	stepArtifacts           map[string][]stepArtifact
	lastAt                  time.Time
	finalized               bool
}

// stepRun is one step of an attempt, substituted at task scope.
type stepRun struct {
	index     int
	name      string // status name: the step's name or unnamed-<i>
	container string // step-<name>
	step      v1.Step
	started   bool
	done      bool
}

func (r *taskRun) cancelMessage() string {
	return fmt.Sprintf("TaskRun %q was cancelled. %s", r.name, r.statusMessage)
}

func (r *taskRun) timeoutMessage() string {
	return fmt.Sprintf("TaskRun %q failed to finish within %q", r.name, r.timeout.String())
}

// running reports whether the TaskRun has a started, unfinished attempt.
func (r *taskRun) running() bool {
	return r.att != nil && r.att.emitted && !r.att.finalized
}

// deadlines returns the times the TaskRun waits for.
func (r *taskRun) deadlines() []time.Time {
	if r.done || r.att == nil || !r.att.emitted || r.att.finalized || r.att.stopReason != "" {
		return nil
	}
	var out []time.Time
	if r.timeout > 0 {
		out = append(out, r.att.startedAt.Add(r.timeout))
	}
	if a := r.att; a.running >= 0 {
		st := r.status.Steps[a.running]
		if s := a.steps[a.running].step; s.Timeout != nil && s.Timeout.Duration > 0 && st.Running != nil {
			// The executor enforces step timeouts; waking up then lets
			// an executor that does not still see the step stopped.
			out = append(out, st.Running.StartedAt.Add(s.Timeout.Duration))
		}
	}
	return out
}

// checkTimeout stops the current attempt when its timeout has passed.
func (r *taskRun) checkTimeout(now time.Time) []Action {
	if r.done || r.timeout <= 0 || r.att == nil || !r.att.emitted || r.att.finalized || r.att.stopReason != "" {
		return nil
	}
	if now.Before(r.att.startedAt.Add(r.timeout)) {
		return nil
	}
	return r.stopAttempt(now, v1TaskRunReasonTimedOut, r.timeoutMessage())
}

// stop cancels the TaskRun: the current attempt is stopped and no other
// attempt starts. final says the TaskRun is cancelled (spec.status).
func (r *taskRun) stop(now time.Time, reason, message string, final bool) []Action {
	if r.done {
		return nil
	}
	if final {
		r.cancelled = true
	}
	r.stopReason = reason
	if r.att == nil || r.att.finalized || !r.att.emitted {
		// Nothing runs: the TaskRun ends now.
		r.att = nil
		r.finish(now, reason, message, nil)
		return nil
	}
	return r.stopAttempt(now, reason, message)
}

// stopAttempt asks the executor to stop the running attempt. The attempt
// ends when its running step is reported, or now if none runs.
func (r *taskRun) stopAttempt(now time.Time, reason, message string) []Action {
	a := r.att
	if a.stopReason != "" {
		return nil
	}
	a.stopReason, a.stopMessage = reason, message
	acts := []Action{StopAttempt{Attempt: a.id, Reason: reason, Message: message}}
	if a.running < 0 {
		acts = append(acts, r.finalizeAttempt(now)...)
	}
	return acts
}

// advance moves the TaskRun as far as it can go without an observation.
func (r *taskRun) advance(now time.Time) []Action {
	var acts []Action
	for !r.done {
		if r.att == nil {
			if r.setupErr != nil {
				r.finish(now, r.setupErr.Reason, r.setupErr.Message(), nil)
				break
			}
			a, err := r.newAttempt(len(r.status.RetriesStatus), now)
			if err != nil {
				r.finish(now, err.Reason, err.Message(), nil)
				break
			}
			r.att = a
			acts = append(acts, r.startAction())
			continue
		}
		a := r.att
		if a.finalized || a.running >= 0 {
			break
		}
		if a.stopReason != "" {
			acts = append(acts, r.finalizeAttempt(now)...)
			continue
		}
		if a.waitSidecars {
			break
		}
		if a.next >= len(a.steps) {
			acts = append(acts, r.finalizeAttempt(now)...)
			continue
		}
		acts = append(acts, r.startNextStep(now)...)
	}
	return acts
}

// startAction returns the StartAttempt of the current attempt and marks
// the TaskRun running.
func (r *taskRun) startAction() Action {
	a := r.att
	a.emitted = true
	t := metav1.NewTime(a.startedAt)
	r.status.StartTime = &t
	r.status.CompletionTime = nil
	r.status.PodName = ""
	r.status.Results = nil
	r.status.Artifacts = nil
	r.status.TaskSpec = a.spec.DeepCopy()
	r.status.Steps = make([]v1.StepState, len(a.steps))
	for i, s := range a.steps {
		r.status.Steps[i] = v1.StepState{
			ContainerState: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}},
			Name:           s.name,
			Container:      s.container,
		}
	}
	r.status.Sidecars = nil
	for _, sc := range a.sidecars {
		r.status.Sidecars = append(r.status.Sidecars, v1.SidecarState{
			ContainerState: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}},
			Name:           trimPrefix(sc.Name, "sidecar-"),
			Container:      sc.Name,
		})
	}
	r.setCondition(a.startedAt, corev1.ConditionUnknown, v1TaskRunReasonRunning, msgTaskRunRunning)
	var ws []Workspace
	for _, w := range a.workspaces {
		ws = append(ws, copyWorkspace(w))
	}
	return StartAttempt{
		ID:             a.id,
		PipelineTask:   r.pipelineTask,
		DisplayName:    r.displayName,
		Finally:        r.finally,
		Spec:           a.spec.DeepCopy(),
		Workspaces:     ws,
		Sidecars:       copyProcesses(a.sidecars),
		Timeout:        r.timeout,
		ServiceAccount: r.serviceAccount,
		PodTemplate:    copyPodTemplate(r.podTemplate),
		Labels:         copyMap(r.labels),
		Annotations:    copyMap(r.annotations),
	}
}

// sidecarsReady records that the attempt's sidecars are ready.
func (r *taskRun) sidecarsReady(at time.Time) {
	a := r.att
	if !a.waitSidecars {
		return
	}
	a.waitSidecars = false
	for i := range r.status.Sidecars {
		r.status.Sidecars[i].ContainerState = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(at)}}
	}
}

// attemptFailed records that the executor could not run the attempt.
func (r *taskRun) attemptFailed(ev AttemptFailed) {
	a := r.att
	if a.failReason == "" {
		a.failReason, a.failMessage = ev.Reason, ev.Message
		if a.failReason == "" {
			a.failReason = v1TaskRunReasonFailed
		}
	}
	a.lastAt = ev.At
	if a.running >= 0 {
		// The executor gave up on the step as well.
		r.terminateStep(a.running, 1, stepReasonError, ev.Reason, time.Time{}, ev.At)
		a.running = -1
	}
	a.next = len(a.steps)
	a.waitSidecars = false
}

// startNextStep starts (or skips) the next step of the attempt.
func (r *taskRun) startNextStep(now time.Time) []Action {
	a := r.att
	i := a.next
	s := a.steps[i]
	a.next++
	if a.failedStep >= 0 || a.failReason != "" {
		// An earlier step failed: this one is skipped and exits 1.
		r.terminateStep(i, 1, stepReasonError, stepReasonSkipped, now, now)
		return nil
	}
	vals := a.stepTimeValues(s)
	step := a.substituteStep(s, vals)
	when := applyWhen(vals, step.When)
	ok, err := evalWhen(when)
	if err != nil {
		a.failReason = ReasonTaskRunValidationFailed
		a.failMessage = fmt.Sprintf("step %q: %v", s.name, err)
		r.terminateStep(i, 1, stepReasonError, stepReasonSkipped, now, now)
		return nil
	}
	if !ok {
		r.terminateStep(i, 0, stepReasonCompleted, stepReasonSkipped, now, now)
		return nil
	}
	s.started = true
	a.running = i
	r.status.Steps[i].ContainerState = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(now)}}
	return []Action{StartStep{Attempt: a.id, Step: i, Process: r.stepProcess(s, step), Next: r.foreseeStep(i + 1)}}
}

// foreseeStep returns step i as startNextStep will start it once the step
// before has exited 0, or nil when that depends on what the step before
// produces: a step with a when of its own, or one that names any step's
// results or artifacts, is left to then. Without either, the step's
// step-time substitution changes nothing.
func (r *taskRun) foreseeStep(i int) *Process {
	a := r.att
	if i >= len(a.steps) {
		return nil
	}
	s := a.steps[i]
	if len(s.step.When) > 0 || namesSteps(&s.step) {
		return nil
	}
	p := r.stepProcess(s, a.substituteStep(s, a.stepTimeValues(s)))
	return &p
}

// namesSteps reports whether a step's substituted fields name a step
// variable, $(steps.<name>...).
func namesSteps(s *v1.Step) bool {
	has := func(v string) bool { return strings.Contains(v, "$(steps.") || strings.Contains(v, "$(steps[") }
	if has(s.Script) || slices.ContainsFunc(s.Command, has) || slices.ContainsFunc(s.Args, has) {
		return true
	}
	for _, e := range s.Env {
		if has(e.Value) {
			return true
		}
	}
	return false
}

// substituteStep returns a copy of s's step with the step-time values vals
// applied.
func (a *attempt) substituteStep(s *stepRun, vals *subst.Values) *v1.Step {
	step := s.step.DeepCopy()
	step.Env = applyEnv(vals, step.Env)
	step.Command = vals.ApplyArgs(step.Command)
	step.Args = vals.ApplyArgs(step.Args)
	step.Script = a.artifactValues(s).Apply(step.Script)
	return step
}

// terminateStep records step i as terminated.
func (r *taskRun) terminateStep(i, exitCode int, k8sReason, terminationReason string, startedAt, at time.Time) {
	a := r.att
	a.steps[i].done = true
	if startedAt.IsZero() {
		if st := r.status.Steps[i].Running; st != nil {
			startedAt = st.StartedAt.Time
		} else {
			startedAt = at
		}
	}
	r.status.Steps[i].ContainerState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode:   int32(exitCode),
		Reason:     k8sReason,
		StartedAt:  metav1.NewTime(startedAt),
		FinishedAt: metav1.NewTime(at),
	}}
	r.status.Steps[i].TerminationReason = terminationReason
	if at.After(a.lastAt) {
		a.lastAt = at
	}
}

// stepFinished records a step's end.
func (r *taskRun) stepFinished(ev StepFinished) {
	a := r.att
	i := ev.Step
	if i < 0 || i >= len(a.steps) || i != a.running {
		return
	}
	a.running = -1
	s := a.steps[i]
	// Results are recorded whatever the outcome: dependents of a failed
	// task that is allowed to fail may use them.
	if len(ev.Results) > 0 {
		if a.stepResults[s.name] == nil {
			a.stepResults[s.name] = map[string]string{}
		}
		for k, v := range ev.Results {
			a.stepResults[s.name][k] = v
		}
	}
	for _, k := range sortedKeys(ev.TaskResults) {
		if _, seen := a.taskResults[k]; !seen {
			a.taskResultOrder = append(a.taskResultOrder, k)
		}
		a.taskResults[k] = ev.TaskResults[k]
	}
	if len(ev.Artifacts) > 0 {
		r.recordArtifacts(i, ev.Artifacts)
	}
	code := ev.ExitCode
	switch ev.Reason {
	case stepReasonTimeoutExceeded:
		if code == 0 {
			code = 1
		}
		r.terminateStep(i, code, stepReasonError, stepReasonTimeoutExceeded, ev.StartedAt, ev.At)
		r.failStep(i)
	case stepReasonCancelled:
		reason := a.stopReason
		if reason == "" {
			reason = stepReasonCancelled
		}
		if code == 0 || a.stopReason != "" {
			// As upstream marks a step of a Pod it deleted.
			code = 1
		}
		r.terminateStep(i, code, reason, reason, ev.StartedAt, ev.At)
		if a.stopReason == "" {
			r.failStep(i)
		}
	case stepReasonOOMKilled:
		if code == 0 {
			code = 137
		}
		r.terminateStep(i, code, stepReasonOOMKilled, stepReasonOOMKilled, ev.StartedAt, ev.At)
		r.failStep(i)
	case stepReasonStartFailed:
		if code == 0 || code == -1 {
			code = 1
		}
		r.terminateStep(i, code, stepReasonError, stepReasonError, ev.StartedAt, ev.At)
		r.failStep(i)
		if a.failMessage == "" && ev.Message != "" {
			a.failMessage = fmt.Sprintf("%q exited with code %d: %s", s.container, code, ev.Message)
		}
	default:
		switch {
		case code == 0:
			r.terminateStep(i, 0, stepReasonCompleted, stepReasonCompleted, ev.StartedAt, ev.At)
		case s.step.OnError == v1.Continue:
			// The step's container exits 0; the real code is recorded.
			r.terminateStep(i, code, stepReasonCompleted, stepReasonContinued, ev.StartedAt, ev.At)
		default:
			if code < 0 {
				code = 1
			}
			r.terminateStep(i, code, stepReasonError, stepReasonError, ev.StartedAt, ev.At)
			r.failStep(i)
		}
	}
	if a.stopReason != "" {
		a.next = len(a.steps)
	}
}

// failStep marks step i as the one that failed the attempt, if none did yet.
func (r *taskRun) failStep(i int) {
	if r.att.failedStep < 0 {
		r.att.failedStep = i
	}
}

// finalizeAttempt ends the current attempt: it settles the status of
// unfinished steps, computes results and the outcome, then either retries
// or finishes the TaskRun.
func (r *taskRun) finalizeAttempt(now time.Time) []Action {
	a := r.att
	if a.finalized {
		return nil
	}
	a.finalized = true
	end := now
	if a.stopReason == "" && !a.lastAt.IsZero() {
		end = a.lastAt
	}
	var acts []Action
	if a.emitted {
		acts = append(acts, EndAttempt{Attempt: a.id})
	}
	// Steps that never finished: a stopped attempt marks them with the
	// stop reason, as upstream does when it deletes the Pod.
	for i, s := range a.steps {
		if s.done {
			continue
		}
		reason := a.stopReason
		if reason == "" {
			reason = a.failReason
		}
		if reason == "" {
			reason = stepReasonSkipped
		}
		r.terminateStep(i, 1, reason, reason, time.Time{}, end)
	}
	for i := range r.status.Sidecars {
		started := metav1.NewTime(a.startedAt)
		if rs := r.status.Sidecars[i].Running; rs != nil {
			started = rs.StartedAt
		}
		r.status.Sidecars[i].ContainerState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 0, Reason: stepReasonCompleted, StartedAt: started, FinishedAt: metav1.NewTime(end),
		}}
	}

	results, resErr := r.collectResults()
	if a.stopReason == "" {
		r.status.Results = results
	}
	reason, message := "", ""
	switch {
	case a.stopReason != "":
		reason, message = a.stopReason, a.stopMessage
	case a.failReason != "":
		reason, message = a.failReason, a.failMessage
		if message == "" {
			message = fmt.Sprintf("TaskRun %q failed: %s", r.name, reason)
		}
	case a.failedStep >= 0:
		reason, message = r.stepFailure(a.failedStep)
	case resErr != nil:
		reason, message = resErr.Reason, resErr.Message()
	}
	if reason == "" {
		r.finish(end, "", "", nil)
		return acts
	}
	retryable := !r.cancelled && reason != v1TaskRunReasonCancelled
	if retryable && len(r.status.RetriesStatus) < r.retries {
		r.archive(end, reason, message)
		return acts
	}
	r.finish(end, reason, message, nil)
	return acts
}

// stepFailure returns the reason and message of a failed step.
func (r *taskRun) stepFailure(i int) (string, string) {
	st := r.status.Steps[i]
	switch st.TerminationReason {
	case stepReasonTimeoutExceeded:
		return v1TaskRunReasonStepFailed, fmt.Sprintf("%q exited because the step exceeded the specified timeout limit", st.Container)
	case stepReasonOOMKilled:
		return v1TaskRunReasonStepOOM, fmt.Sprintf("%q exited because the step exceeded the specified memory limit", st.Container)
	}
	if r.att.failMessage != "" {
		return v1TaskRunReasonStepFailed, r.att.failMessage
	}
	code := int32(1)
	if st.Terminated != nil {
		code = st.Terminated.ExitCode
	}
	return v1TaskRunReasonStepFailed, fmt.Sprintf("%q exited with code %d", st.Container, code)
}

// archive moves the status of a failed attempt into retriesStatus and
// clears the TaskRun for the next attempt.
func (r *taskRun) archive(at time.Time, reason, message string) {
	t := metav1.NewTime(at)
	r.status.CompletionTime = &t
	r.setCondition(at, corev1.ConditionFalse, reason, message)
	old := *deepCopyTaskRunStatus(&r.status)
	old.RetriesStatus = nil
	r.status.RetriesStatus = append(r.status.RetriesStatus, old)
	r.status.StartTime = nil
	r.status.CompletionTime = nil
	r.status.PodName = ""
	r.status.Results = nil
	r.setCondition(at, corev1.ConditionUnknown, v1TaskRunReasonToBeRetried, message)
	r.att = nil
}

// finish ends the TaskRun. An empty reason means it succeeded.
func (r *taskRun) finish(at time.Time, reason, message string, _ error) {
	r.done = true
	if r.status.StartTime == nil {
		t := metav1.NewTime(at)
		r.status.StartTime = &t
	}
	t := metav1.NewTime(at)
	r.status.CompletionTime = &t
	if reason == "" {
		r.setCondition(at, corev1.ConditionTrue, v1TaskRunReasonSucceeded, msgTaskRunSucceeded)
		return
	}
	if r.onErrorContinue && (reason == v1TaskRunReasonStepFailed || reason == v1TaskRunReasonStepOOM || reason == v1TaskRunReasonFailed) {
		reason = v1TaskRunReasonFailureIgnored
	}
	r.setCondition(at, corev1.ConditionFalse, reason, message)
}

func (r *taskRun) setCondition(at time.Time, status corev1.ConditionStatus, reason, message string) {
	r.status.SetCondition(v1.Condition{
		Type:               v1.ConditionSucceeded,
		Status:             status,
		LastTransitionTime: metav1.NewTime(at),
		Reason:             reason,
		Message:            message,
	})
}

// condition returns the TaskRun's Succeeded condition, or nil.
func (r *taskRun) condition() *v1.Condition { return r.status.GetCondition() }

func (r *taskRun) statusSnapshot() *v1.TaskRunStatus {
	return deepCopyTaskRunStatus(&r.status)
}

// stepProcess builds the Process of a step whose step-time variables are
// applied.
func (r *taskRun) stepProcess(s *stepRun, step *v1.Step) Process {
	p := Process{
		Name:            s.container,
		Image:           step.Image,
		Command:         step.Command,
		Args:            step.Args,
		Script:          step.Script,
		WorkingDir:      step.WorkingDir,
		Env:             step.Env,
		EnvFrom:         step.EnvFrom,
		VolumeMounts:    step.VolumeMounts,
		Workspaces:      step.Workspaces,
		SecurityContext: step.SecurityContext,
		Resources:       step.ComputeResources,
		OnError:         step.OnError,
	}
	if r.computeRes != nil {
		p.Resources = *r.computeRes.DeepCopy()
	}
	for _, ss := range r.stepSpecs {
		if ss.Name == step.Name {
			p.Resources = *ss.ComputeResources.DeepCopy()
		}
	}
	if step.StdoutConfig != nil {
		p.StdoutPath = step.StdoutConfig.Path
	}
	if step.StderrConfig != nil {
		p.StderrPath = step.StderrConfig.Path
	}
	if step.Timeout != nil {
		p.Timeout = step.Timeout.Duration
	}
	return p
}

// stepName returns the status name of step i: its name or unnamed-<i>.
func stepName(name string, i int) string {
	if name != "" {
		return name
	}
	return "unnamed-" + strconv.Itoa(i)
}

func trimPrefix(s, prefix string) string {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):]
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
