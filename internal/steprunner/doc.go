// Package steprunner is `colo step`: the program every step and sidecar
// container of a compiled Pod starts instead of its image's entrypoint.
//
// A runner waits in its container for the orchestrator's commands (see
// package control): run this process with these arguments, environment,
// working directory and timeout; stop it; exit. It learns of a command
// within milliseconds (inotify on its control directory) and answers with
// events: started, ready (sidecars with a readiness probe), done with the
// exit code, exited. So one container can run its step again for a retry,
// and a container whose task is skipped exits at once.
//
// The process gets the container's own environment (what the kubelet set:
// the image's, the Pod template's, values from Secrets and ConfigMaps) with
// the command's variables set over it; $(VAR) references in those values
// and in the arguments are expanded as the kubelet expands a container's
// env, command and args. Output goes to the runner's own stdout and stderr,
// which is the container's log, and, when asked, also to files. When the
// process ends, whatever else runs in its process group is killed, as a
// container's processes end with its main process.
//
// The package imports only the standard library, golang.org/x/sys and
// package control: it starts in every step container and must start fast.
package steprunner
