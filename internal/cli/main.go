package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/colo-ci/colo/internal/sandbox"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitInvalid     = 2
	ExitInterrupted = 130
)

// IOStreams are the streams a command reads and writes.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// ExitError ends the program with Code. Err, when set, is printed first.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns the cause.
func (e *ExitError) Unwrap() error { return e.Err }

// Invalid marks err as invalid input (exit code 2), unless it asks for an
// exit code already.
func Invalid(err error) error { return invalid(err) }

// invalid marks err as invalid input (exit code 2).
func invalid(err error) error {
	if err == nil {
		return nil
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	return &ExitError{Code: ExitInvalid, Err: err}
}

// ExitCode is the exit code err asks for: 0 for nil, an ExitError's code,
// else 1.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailed
}

// Main runs colo with the process's arguments and streams and exits. The
// command lines that talk to a Kubernetes cluster it hands over to
// colo-kube (see Kube).
func Main() { MainWith(nil) }

// MainWith is Main with k, the Kubernetes half (nil: hand over to
// colo-kube).
func MainWith(k Kube) {
	// A sandbox's supervisor is this same program started again with a
	// hidden first argument; it runs before anything else looks at the
	// arguments.
	if sandbox.IsSupervisor(os.Args) {
		os.Exit(sandbox.Main())
	}
	streams := IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	err := RunWith(context.Background(), os.Args[1:], streams, k)
	printError(streams.ErrOut, err)
	os.Exit(ExitCode(err))
}

// printError writes err for a person: a list of problems one per line (each
// names its file and object), anything else as one "colo: " line.
func printError(w io.Writer, err error) {
	var ee *ExitError
	if err == nil || errors.As(err, &ee) && ee.Err == nil {
		return
	}
	var ps problems
	if errors.As(err, &ps) {
		fmt.Fprintln(w, ps.Error())
		return
	}
	fmt.Fprintf(w, "colo: %v\n", err)
}

// Run runs the colo command line args (without the program name); a
// command that talks to a cluster is handed over to colo-kube.
func Run(ctx context.Context, args []string, streams IOStreams) error {
	return RunWith(ctx, args, streams, nil)
}

// RunWith is Run with k, the Kubernetes half (nil: hand over to
// colo-kube, which gets args).
func RunWith(ctx context.Context, args []string, streams IOStreams, k Kube) error {
	if k == nil {
		k = handOver{args: args}
	}
	root := newRootCommand(streams, k)
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return nil
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	// Whatever cobra itself reports is a usage problem.
	return invalid(err)
}

func newRootCommand(streams IOStreams, k Kube) *cobra.Command {
	root := &cobra.Command{
		Use:   "colo",
		Short: "Run Tekton PipelineRuns and TaskRuns on this machine",
		Long: `colo runs unchanged Tekton tekton.dev/v1 YAML: PipelineRuns and TaskRuns
run on this machine with no cluster, their state and logs kept under .colo/.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return invalid(fmt.Errorf("unknown command %q (see colo --help)", args[0]))
			}
			return cmd.Help()
		},
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return invalid(err) })
	root.AddCommand(
		newRunCommand(streams, k),
		newValidateCommand(streams),
		newLogsCommand(streams),
		newDescribeCommand(streams),
		newListCommand(streams),
		newConformanceCommand(streams, k),
		newRenderCommand(streams),
		newOrchestrateCommand(streams),
		newStepCommand(streams),
		newControllerCommand(streams, k),
	)
	return root
}

// usageArgs makes a positional-argument check report invalid input.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		return invalid(check(cmd, args))
	}
}
