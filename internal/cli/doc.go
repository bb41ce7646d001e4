// Package cli is colo's command line: cobra commands that turn flags into
// calls of the library packages (load, validate, engine, the local
// executor, runstore, conformance). It is the only package that knows about
// terminals, signals and exit codes.
//
// The commands that talk to a Kubernetes cluster reach it through a Kube:
// colo's own hands their command line to colo-kube, the same command line
// with the Kubernetes half (package cli/kube) linked in, so that colo
// itself starts without a Kubernetes client.
//
// Main is what the program's main calls; it is the only function that exits
// the process. Run does everything else and returns an error; an *ExitError
// carries the exit code:
//
//	0    the run (every run) succeeded
//	1    a run failed, or colo could not go on
//	2    invalid input: nothing was started
//	130  interrupted (Ctrl-C); the runs' state and logs are written
package cli
