// Package sandbox gives the processes of one task attempt the filesystem a
// Pod's containers see — /workspace/<name>, /tekton/..., volume mounts at
// their mountPaths, a created workingDir — while they remain ordinary host
// processes using the host's programs.
//
// A Sandbox is a supervisor process: the running program re-executed with
// SupervisorArg, in new mount and PID namespaces (and a user namespace when
// not run by root). Programs using this package dispatch to Main first
// thing:
//
//	if sandbox.IsSupervisor(os.Args) {
//		os.Exit(sandbox.Main())
//	}
//
// # Filesystem
//
// The supervisor's root is a tmpfs. Every entry of the host's root is
// recreated in it: directories and files as recursive bind mounts of the
// host's, symbolic links as copies; /proc is a procfs of the sandbox's PID
// namespace. Then each Mount's source is bound at its target. So the
// sandbox sees the host's tree plus the requested mounts, and the host sees
// nothing of the sandbox's: mount points such as /workspace, /tekton or a
// workingDir /a/path/too/far are created in the tmpfs. When a target or a
// working directory must be created inside an existing host directory
// (say /var/lib/x), that directory and everything below it that is not a
// mount becomes copy-on-write in the sandbox: an overlayfs whose lower
// layer is the host directory and whose upper layer is sandbox memory,
// with the mounts below it bound again on top. The sandbox sees the same
// contents, but what it creates, changes or removes there stays in the
// sandbox, as in a container's writable layer; the cost does not depend on
// the directory's size. (Where
// overlayfs is refused, the directory is replaced by a tmpfs of bind
// mounts of its entries instead: there, existing entries are shared with
// the host and cannot be renamed or removed.) Nothing is written to the
// host except through the mounts and existing host directories that were
// not made copy-on-write: files written to a mount land in the caller's
// directory; files written to, say, an existing /tmp land on the host, as
// they would for any host process.
//
// Spec.Memory adds a directory in sandbox memory, a tmpfs mounted at a
// path of the sandbox, that the caller reads and writes at
// Sandbox.Memory (through an fd the supervisor hands over) and whose
// paths may be the sources of groups' and processes' mounts. It suits
// what a sandbox's processes and their caller pass each other: creating
// a file there costs far less than on a disk, and it is gone with the
// sandbox, however the caller ends.
//
// A Mount's source is always the host's path (or one in the memory
// directory), even in a group or process where another mount covers the
// path it lies under: sources are taken in the sandbox's own namespace as
// copies of their mount trees (open_tree) and moved into place.
//
// Entries added to the host's root after the sandbox started are not seen
// in it. Mounts are applied shallowest target first; a ReadOnly mount is
// read-only recursively.
//
// # Processes
//
// Sandbox.Start asks the supervisor to start a process. The request travels
// as a length-prefixed JSON message over a unix socket pair, with the
// process's standard streams passed as SCM_RIGHTS; the supervisor forks and
// executes it directly, so a start costs a fork and exec plus one round
// trip. Each process gets its own process group. When it exits, the rest of
// its group is killed (a container's processes die with its main process)
// and its exit is reported; Process.Signal signals the group.
//
// The supervisor is PID 1 of its PID namespace: orphans are reparented to
// it and reaped, and when it exits the kernel kills every process left in
// the namespace, including ones that left their group or session. Close
// makes it kill everything and exit; if the caller dies, the supervisor is
// killed with it (Pdeathsig). No process started in a sandbox outlives it.
// Process ids seen inside are those of the sandbox's PID namespace.
//
// # Groups
//
// A Group is a set of processes in one sandbox with mounts and a host name
// of their own beyond the sandbox's, as one Pod's containers on a node.
// Groups make one supervisor serve many task attempts, so that an attempt
// costs a request, not a process start. They share the sandbox's PID
// namespace; Group.Close kills the process groups of what it started.
//
// A group's exclusive processes (Cmd.Exclusive) run one at a time, as a
// Pod's steps do. Group.StartAfter hands the supervisor the next one while
// the current one runs: its reaper starts it the moment the current one
// exits 0, with no round trip through the caller, and drops it otherwise.
// Cmd.ExitCodeFile has the supervisor write a process's exit code to the
// memory directory before that, so the follower can read it.
//
// Where namespaces cannot be created (not Linux, or the kernel refuses),
// Start returns an error wrapping ErrUnsupported, and callers fall back to
// rewriting paths.
package sandbox
