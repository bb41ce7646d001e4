package engine

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

// Refs looks up the objects a run names by reference. Lookups are in memory;
// the engine never fetches anything.
type Refs interface {
	Task(name string) (*v1.Task, bool)
	Pipeline(name string) (*v1.Pipeline, bool)
	StepAction(name string) (*v1beta1.StepAction, bool)
}

// Options are the limits upstream makes configurable.
type Options struct {
	// MaxResultSize bounds one result's value in bytes (default 4096).
	MaxResultSize int
	// MaxTotalResultSize bounds all results of a run together (default 1.5 MB).
	MaxTotalResultSize int
	// DefaultTimeout applies where a run or task sets none (default 1h).
	DefaultTimeout time.Duration
	// MaxMatrixCombinations bounds a matrix fan-out (default 256).
	MaxMatrixCombinations int
}

// AttemptID names one attempt of one TaskRun: the TaskRun name (as upstream
// would name it: "<pr>-<pipelineTask>" or "<pr>-<pipelineTask>-<i>" for a
// matrix run, or the TaskRun's own name) and the retry number (0 first).
type AttemptID struct {
	TaskRun string
	Retry   int
}

// Event is something an executor observed and reports to the engine.
type Event interface{ event() }

// StepFinished reports that a step's process ended. ExitCode is the process's
// code (or -1 if it never started). Results holds the files found in the
// step's results directory (/tekton/steps/<step>/results), TaskResults the
// files found in the task's results directory (/tekton/results) after the
// step; values are the raw file contents. Reason is "" for a normal exit, or
// one of TimeoutExceeded, Cancelled, OOMKilled, or StartFailed (with Message).
// Artifacts is the raw JSON the step wrote to $(step.artifacts.path), if any.
type StepFinished struct {
	Attempt     AttemptID
	Step        int
	ExitCode    int
	Results     map[string]string
	TaskResults map[string]string
	Artifacts   []byte
	Reason      string
	Message     string
	StartedAt   time.Time
	At          time.Time
}

// SidecarsReady reports that every sidecar of an attempt is ready, so its
// first step may start.
type SidecarsReady struct {
	Attempt AttemptID
	At      time.Time
}

// AttemptFailed reports that an executor could not run an attempt at all
// (sandbox set-up, a sidecar that failed, a volume it cannot provide).
// Reason is an upstream TaskRun reason such as SidecarFailed or
// CreateContainerConfigError.
type AttemptFailed struct {
	Attempt AttemptID
	Reason  string
	Message string
	At      time.Time
}

// CancelRequested reports that the user asked the run to stop. Mode is one
// of v1.PipelineRunSpecStatusCancelled, ...CancelledRunFinally or
// ...StoppedRunFinally (a TaskRun only knows Cancelled).
type CancelRequested struct {
	Mode v1.PipelineRunSpecStatus
	At   time.Time
}

func (StepFinished) event()    {}
func (SidecarsReady) event()   {}
func (AttemptFailed) event()   {}
func (CancelRequested) event() {}

// Action is something the engine asks its executor to do.
type Action interface{ action() }

// StartAttempt asks the executor to prepare one attempt of a TaskRun: its
// directories, volumes and workspaces, then start its sidecars (if any) and
// report SidecarsReady. Steps are started one by one with StartStep.
type StartAttempt struct {
	ID             AttemptID
	PipelineTask   string // "" for a standalone TaskRun
	DisplayName    string
	Finally        bool
	Spec           *v1.TaskSpec // substituted except step-time variables
	Workspaces     []Workspace
	Sidecars       []Process
	Timeout        time.Duration // 0: none
	ServiceAccount string
	PodTemplate    *v1.PodTemplate
	Labels         map[string]string
	Annotations    map[string]string
}

// Workspace is a task workspace as an attempt sees it.
type Workspace struct {
	Name      string // the task's workspace name
	MountPath string
	ReadOnly  bool
	// Binding is the run's binding, with PipelineRun and PipelineTask
	// subPaths joined into Binding.SubPath. Nil for an unbound optional one.
	Binding *v1.WorkspaceBinding
	// Source is the PipelineRun workspace it comes from, or the TaskRun's.
	Source string
}

// StartStep asks the executor to run one step of a started attempt. Process
// is fully substituted, including step results of earlier steps.
//
// Next, when set, is step Step+1 exactly as the engine will start it if
// this step exits 0 and nothing else ends the attempt first: it uses
// nothing this step produces. An executor may make it ready, or start it
// as soon as this step has exited 0, as Tekton's entrypoint starts a step
// once the one before has written its post file. It reports it only once
// the engine has asked for it with a StartStep of its own; a process it
// started ahead that the engine never asks for, it stops without a word.
type StartStep struct {
	Attempt AttemptID
	Step    int
	Process Process
	Next    *Process
}

// StopAttempt asks the executor to stop an attempt now: send SIGTERM to the
// running step, SIGKILL after a grace period, and stop its sidecars. It
// reports the stopped step with StepFinished{Reason: Cancelled}. The engine
// then ends the attempt with EndAttempt as usual (at once if no step was
// running).
type StopAttempt struct {
	Attempt AttemptID
	Reason  string // TaskRunCancelled or TaskRunTimeout
	Message string
}

// EndAttempt tells the executor an attempt has no more steps to run: stop
// its sidecars and release what it set up (workspaces stay). Every
// StartAttempt is followed by exactly one EndAttempt.
type EndAttempt struct {
	Attempt AttemptID
}

// Finish tells the executor the run is over; Status holds the final status.
type Finish struct{}

func (StartAttempt) action() {}
func (StartStep) action()    {}
func (StopAttempt) action()  {}
func (EndAttempt) action()   {}
func (Finish) action()       {}

// Process is one step or sidecar container, ready to run.
type Process struct {
	Name            string // container name: step-<name>, step-unnamed-<i>, sidecar-<name>
	Image           string
	Command         []string
	Args            []string
	Script          string // the script as written; the executor runs it per Tekton's rules
	WorkingDir      string
	Env             []corev1.EnvVar
	EnvFrom         []corev1.EnvFromSource
	VolumeMounts    []corev1.VolumeMount
	Workspaces      []v1.WorkspaceUsage
	SecurityContext *corev1.SecurityContext
	Resources       corev1.ResourceRequirements
	ReadinessProbe  *corev1.Probe
	StdoutPath      string
	StderrPath      string
	Timeout         time.Duration // 0: none
	OnError         v1.OnErrorType
}

// Plan is what Next returns: actions to carry out now, and when to call Next
// again if nothing is observed before then (zero: only on an event).
type Plan struct {
	Actions []Action
	WakeAt  time.Time
	Done    bool
}

// TaskRunState is a TaskRun's status as the engine tracks it.
type TaskRunState struct {
	Name         string
	PipelineTask string
	DisplayName  string
	Finally      bool
	Status       v1.TaskRunStatus
}

// PipelineRunState is the status of a PipelineRun that a PipelineTask of
// the run started (pipelines in pipelines).
type PipelineRunState struct {
	Name         string
	PipelineTask string
	// Parent is the name of the PipelineRun that started it.
	Parent string
	Status v1.PipelineRunStatus
}

// Status is a run's status in upstream's shape. Exactly one of PipelineRun
// and TaskRun is set, matching the run's kind; TaskRuns holds every TaskRun
// the run created (for a TaskRun, just itself), in creation order, child
// pipelines' TaskRuns included. PipelineRuns holds the child PipelineRuns
// that PipelineTasks with pipelineRef or pipelineSpec started, parents
// before their children.
type Status struct {
	PipelineRun  *v1.PipelineRunStatus
	TaskRun      *v1.TaskRunStatus
	TaskRuns     []TaskRunState
	PipelineRuns []PipelineRunState
}
