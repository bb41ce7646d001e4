package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Paths every colo container of a compiled Pod agrees on.
const (
	// Dir is where a task container sees its own control directory.
	Dir = "/colo/control"
	// BinDir holds the colo binary the init container copies for the
	// step containers, whose images do not have it.
	BinDir = "/colo/bin"
	// Colo is the colo binary in a step container.
	Colo = BinDir + "/colo"
	// TasksDir is where the orchestrator mounts the volume of every task:
	// TasksDir/<volume name>.
	TasksDir = "/colo/tasks"
	// StateDir is the orchestrator's scratch directory.
	StateDir = "/colo/state"
)

// Subdirectories of a task's volume.
const (
	// TektonSub is mounted at /tekton in the task's containers.
	TektonSub = "tekton"
	// WorkspaceSub is mounted at /workspace in the task's containers.
	WorkspaceSub = "workspace"
	// ControlSub holds one control directory per container:
	// ControlSub/<container name>, mounted at Dir in that container.
	ControlSub = "control"
)

// Op is what a command asks.
type Op string

// Commands.
const (
	// OpRun starts a process (a step, or a sidecar's main process).
	OpRun Op = "run"
	// OpStop stops the process that command Target started, if it still
	// runs: SIGTERM to its process group, SIGKILL after Grace.
	OpStop Op = "stop"
	// OpExit stops whatever runs and ends the runner: its container exits.
	OpExit Op = "exit"
)

// Command is one message from the orchestrator to a runner.
type Command struct {
	Seq    int  `json:"seq"`
	Op     Op   `json:"op"`
	Run    *Run `json:"run,omitempty"`
	Target int  `json:"target,omitempty"`
	// Grace is how long a stopped process has between SIGTERM and
	// SIGKILL (OpStop, OpExit).
	Grace Duration `json:"grace,omitempty"`
}

// Run says how to start one process.
type Run struct {
	// Argv is the program and its arguments, after Tekton's substitution;
	// $(VAR) references to the environment are expanded by the runner, as
	// the kubelet expands a container's command and args.
	Argv []string `json:"argv"`
	// Env is set over the container's own environment, in order; each
	// value may refer to variables set before it with $(VAR).
	Env []EnvVar `json:"env,omitempty"`
	// Dir is the working directory, made if missing ("" keeps the
	// container's).
	Dir string `json:"dir,omitempty"`
	// Timeout stops the process after this long and reports
	// ReasonTimeoutExceeded (0: none).
	Timeout Duration `json:"timeout,omitempty"`
	// Grace is how long a process stopped by its timeout has between
	// SIGTERM and SIGKILL.
	Grace Duration `json:"grace,omitempty"`
	// Stdout and Stderr are files the process's output is also written to.
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
	// Probe, for a sidecar, says when it is ready; without one it is ready
	// once started.
	Probe *Probe `json:"probe,omitempty"`
	// Label names the process in the runner's own messages.
	Label string `json:"label,omitempty"`
}

// EnvVar is one environment variable.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Probe is a readiness probe, run by the runner inside its container.
// Exactly one of Exec, TCPPort and HTTPPort is set.
type Probe struct {
	Exec     []string `json:"exec,omitempty"`
	TCPPort  int      `json:"tcpPort,omitempty"`
	HTTPPort int      `json:"httpPort,omitempty"`
	HTTPPath string   `json:"httpPath,omitempty"`
	HTTPS    bool     `json:"https,omitempty"`
	// InitialDelay is waited before the first try; Period between tries.
	InitialDelay Duration `json:"initialDelay,omitempty"`
	Period       Duration `json:"period,omitempty"`
	// Timeout bounds one try.
	Timeout Duration `json:"timeout,omitempty"`
}

// Kind is what an event reports.
type Kind string

// Events.
const (
	KindStarted Kind = "started"
	KindReady   Kind = "ready"
	KindDone    Kind = "done"
	KindExited  Kind = "exited"
)

// Reasons a runner gives in a done event.
const (
	// ReasonTimeoutExceeded: the process ran past Run.Timeout.
	ReasonTimeoutExceeded = "TimeoutExceeded"
	// ReasonStopped: an OpStop or OpExit command stopped it.
	ReasonStopped = "Stopped"
	// ReasonStartFailed: it could not be started (Message says why).
	ReasonStartFailed = "StartFailed"
	// ReasonOOMKilled: the kernel killed it for using more memory than
	// its container may.
	ReasonOOMKilled = "OOMKilled"
)

// Event is one message from a runner to the orchestrator, about command Seq.
type Event struct {
	Seq  int  `json:"seq"`
	Kind Kind `json:"kind"`
	// ExitCode is the process's exit code (128+signal when a signal
	// killed it), for KindDone; -1 when it never started.
	ExitCode  int       `json:"exitCode"`
	Reason    string    `json:"reason,omitempty"`
	Message   string    `json:"message,omitempty"`
	StartedAt time.Time `json:"startedAt,omitempty"`
	At        time.Time `json:"at"`
}

// Duration is a time.Duration written as Go's duration text ("1.5s").
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// CommandFile is the name of command seq.
func CommandFile(seq int) string { return fmt.Sprintf("c-%08d.json", seq) }

// EventFile is the name of the event of kind k about command seq.
func EventFile(seq int, k Kind) string { return fmt.Sprintf("e-%08d-%s.json", seq, k) }

// WriteCommand puts c into dir.
func WriteCommand(dir string, c Command) error {
	return writeJSON(dir, CommandFile(c.Seq), c)
}

// WriteEvent puts ev into dir.
func WriteEvent(dir string, ev Event) error {
	return writeJSON(dir, EventFile(ev.Seq, ev.Kind), ev)
}

// writeJSON writes v as dir/name atomically: a temporary file renamed.
func writeJSON(dir, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// ReadCommands returns the commands in dir numbered above after, in order.
func ReadCommands(dir string, after int) ([]Command, error) {
	var out []Command
	err := scan(dir, "c-", after, func(seq int, _ string, b []byte) error {
		var c Command
		if err := json.Unmarshal(b, &c); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// ReadEvents returns the events of dir whose files are not in seen, in
// order of command and then of kind (started, ready, done, exited), and
// adds their files to seen.
func ReadEvents(dir string, seen map[string]bool) ([]Event, error) {
	var out []Event
	err := scan(dir, "e-", 0, func(_ int, name string, b []byte) error {
		if seen[name] {
			return nil
		}
		var ev Event
		if err := json.Unmarshal(b, &ev); err != nil {
			return err
		}
		seen[name] = true
		out = append(out, ev)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Seq != out[j].Seq {
			return out[i].Seq < out[j].Seq
		}
		return kindOrder(out[i].Kind) < kindOrder(out[j].Kind)
	})
	return out, err
}

func kindOrder(k Kind) int {
	switch k {
	case KindStarted:
		return 0
	case KindReady:
		return 1
	case KindDone:
		return 2
	}
	return 3
}

// scan calls f with every message file of dir whose name starts with
// prefix and whose number is above after, in name order. Files that vanish
// meanwhile are skipped.
func scan(dir, prefix string, after int, f func(seq int, name string, b []byte) error) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ".json") {
			continue
		}
		num := strings.TrimPrefix(name, prefix)
		if i := strings.IndexAny(num, "-."); i >= 0 {
			num = num[:i]
		}
		seq, err := strconv.Atoi(num)
		if err != nil || seq <= after {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := f(seq, name, b); err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
	return nil
}
