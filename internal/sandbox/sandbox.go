package sandbox

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// SupervisorArg is the hidden first argument that makes the program act as
// a sandbox's supervisor. A program that uses this package must call Main
// and exit with its result when IsSupervisor(os.Args) is true, before it
// parses flags or does anything else.
const SupervisorArg = "__colo-sandbox"

// IsSupervisor reports whether args (os.Args) ask this process to be a
// sandbox supervisor.
func IsSupervisor(args []string) bool {
	return len(args) > 1 && args[1] == SupervisorArg
}

// ErrUnsupported means this system cannot give a process its own mount
// namespace (not Linux, or namespaces are denied). Callers fall back to
// running without a sandbox. It also matches errors.ErrUnsupported.
var ErrUnsupported = fmt.Errorf("mount namespaces are not available: %w", errors.ErrUnsupported)

// ErrClosed is returned for operations on a closed sandbox and by Wait for
// processes whose end the sandbox could no longer report.
var ErrClosed = errors.New("sandbox closed")

// ErrNotStarted is returned by Group.StartAfter when the process to follow
// did not exit 0.
var ErrNotStarted = errors.New("not started: the process it was to follow did not exit 0")

// Mount makes the host path Source visible at Target inside the sandbox.
type Mount struct {
	// Source is a host directory or file. A relative path is taken from the
	// caller's working directory; symbolic links are followed on the host.
	Source string
	// Target is an absolute path inside the sandbox. Symbolic links in it
	// are followed inside the sandbox; missing directories are created in
	// the sandbox's own memory, never on the host.
	Target string
	// ReadOnly makes the mount, and every mount below it, read-only.
	ReadOnly bool
}

// Spec describes a sandbox.
type Spec struct {
	// Mounts are applied shallowest target first, so a mount at /a/b is
	// visible through a mount at /a. Among equally deep targets, later
	// mounts win.
	Mounts []Mount
	// Hostname, if set, gives the sandbox its own UTS namespace with this
	// host name (as a Pod's containers see the Pod's name).
	Hostname string
	// Memory, if set, is an absolute path inside the sandbox where a
	// directory in the sandbox's memory (a tmpfs) is mounted. The caller
	// reaches it at Sandbox.Memory and may name paths in it as the
	// Sources of a Group's or a process's Mounts. Its contents vanish
	// with the sandbox. Only a Sandbox's Spec may set it.
	Memory string
	// Supervisor, if set, is a program to run as the supervisor in place
	// of the running program: one whose main calls Main first thing when
	// IsSupervisor(os.Args), and little else, so that it starts faster
	// than a large program would. Start falls back to re-executing the
	// running program when it cannot be run or was built from another
	// version of this package. Only a Sandbox's Spec may set it.
	Supervisor string
}

// Cmd is a process to run inside a sandbox.
type Cmd struct {
	// Path is the program. A name without a slash is looked up in the PATH
	// of Env, inside the sandbox; a relative path with a slash is taken
	// from Dir.
	Path string
	// Args holds the command line, starting with the program name as
	// exec.Cmd does. Empty means [Path].
	Args []string
	// Env is the environment. Nil means the caller's own environment.
	Env []string
	// Dir is the working directory inside the sandbox. Empty means "/", a
	// relative path is taken from "/".
	Dir string
	// MkdirDir creates Dir and its missing parents before the process
	// starts, as a container runtime does for a workingDir. Directories
	// that do not exist on the host are created in sandbox memory.
	MkdirDir bool
	// Stdin, Stdout and Stderr are given to the process as its fds 0, 1
	// and 2. Nil means /dev/null. The caller may close its copies as soon
	// as Start returns.
	Stdin, Stdout, Stderr *os.File
	// UID and GID, if set, are the process's user and group ids. Without a
	// user namespace mapping more than one id (see Start), only 0 is valid.
	UID, GID *int
	// Mounts are seen by this process (and its children) alone, on top of
	// the sandbox's own, as a Pod's containers each have their own
	// volumeMounts over the volumes they share. They are applied in order.
	// Sources are opened by the caller; targets are handled as Spec.Mounts
	// targets are.
	Mounts []Mount
	// Hostname, if set, gives this process (and its children) its own UTS
	// namespace with this host name. In a Group, only the group's own host
	// name is accepted.
	Hostname string
	// Exclusive, in a Group, makes Mounts for as long as the process runs
	// in a mount namespace the group keeps for its exclusive processes,
	// instead of in a copy made for the process: starting and ending a
	// process without a mount namespace of its own costs markedly less.
	// A group runs one exclusive process at a time (as a Pod's steps run
	// one after another), and undoes its mounts once it has ended, before
	// the group's next process starts. The group's other processes each
	// get a copy of the group's own namespace, which never holds an
	// exclusive process's mounts.
	Exclusive bool
	// ExitCodeFile, if set, is a file in the sandbox's memory directory,
	// relative to it, that the supervisor writes the process's exit code
	// (Exit.Code, in decimal) to when it ends, before it reports the exit
	// or starts a process that follows it (see Group.StartAfter): that
	// one can read it, as a step reads the exitCode of the step before.
	ExitCodeFile string
}

// Exit is how a process ended.
type Exit struct {
	// Code is the exit status, or 128 plus the signal number when a signal
	// killed the process, as a shell reports it.
	Code int
	// Signal is the signal that killed the process, or 0 if it exited.
	Signal syscall.Signal
}

// String describes the exit as a user would read it.
func (e Exit) String() string {
	if e.Signal != 0 {
		return fmt.Sprintf("killed by signal %d (%v)", int(e.Signal), e.Signal)
	}
	return fmt.Sprintf("exit status %d", e.Code)
}
