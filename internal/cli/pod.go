package cli

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/orchestrator"
	"github.com/colo-ci/colo/internal/podspec"
	"github.com/colo-ci/colo/internal/steprunner"
)

// newRenderCommand is `colo render`: the Pod a run compiles to.
func newRenderCommand(streams IOStreams) *cobra.Command {
	var (
		files    []string
		opts     podspec.Options
		maxBytes int
	)
	cmd := &cobra.Command{
		Use:   "render -f FILE|DIR [-f ...]",
		Short: "Print the Pod each PipelineRun and TaskRun compiles to",
		Long: `Compile every PipelineRun and TaskRun in the given files into the one
Kubernetes Pod that runs it whole, and print the Pods as YAML. Nothing is
created. A run that cannot run in one Pod is reported with the field that
prevents it; exit code 2.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return invalid(errors.New("no files: give -f FILE or -f DIR"))
			}
			set, err := load.Files(files...)
			if err != nil {
				return invalid(problems(flatten(err)))
			}
			for _, w := range set.Warnings {
				fmt.Fprintf(streams.ErrOut, "warning: %s\n", w)
			}
			if errs := validateSet(set); len(errs) > 0 {
				return invalid(problems(errs))
			}
			opts.Engine = engine.Options{MaxResultSize: maxBytes}
			var pods []*corev1.Pod
			var errs []error
			for _, pr := range set.PipelineRuns {
				pod, err := podspec.Compile(cmd.Context(), pr, set, opts)
				if err != nil {
					errs = append(errs, flatten(err)...)
					continue
				}
				pods = append(pods, pod)
			}
			for _, tr := range set.TaskRuns {
				pod, err := podspec.Compile(cmd.Context(), tr, set, opts)
				if err != nil {
					errs = append(errs, flatten(err)...)
					continue
				}
				pods = append(pods, pod)
			}
			if len(errs) > 0 {
				return invalid(problems(errs))
			}
			if len(pods) == 0 {
				return invalid(fmt.Errorf("no PipelineRun or TaskRun in %v", files))
			}
			for i, pod := range pods {
				b, err := yaml.Marshal(pod)
				if err != nil {
					return err
				}
				if i > 0 {
					fmt.Fprintln(streams.Out, "---")
				}
				streams.Out.Write(b)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&files, "filename", "f", nil, "file or directory of YAML to read (repeatable)")
	f.StringVar(&opts.Image, "image", podspec.DefaultImage, "colo's image, for the init container and the orchestrator")
	f.StringVar(&opts.ImagePath, "image-path", podspec.DefaultImagePath, "path of the colo binary in --image")
	f.BoolVar(&opts.PodLevelResources, "pod-level-resources", false, "request the run's peak in the Pod's spec.resources (needs the PodLevelResources feature)")
	f.IntVar(&maxBytes, "max-result-size", engine.DefaultMaxResultSize, "largest result a task may write, in bytes")
	return cmd
}

// newOrchestrateCommand is `colo orchestrate`, the orchestrator container
// of a compiled Pod.
func newOrchestrateCommand(streams IOStreams) *cobra.Command {
	var opts orchestrator.Options
	cmd := &cobra.Command{
		Use:    "orchestrate",
		Short:  "Drive a run inside the Pod it was compiled to",
		Hidden: true,
		Long: `Run inside a Pod made by colo render: read the run from $` + podspec.BundleEnv + `,
tell the step containers when to run what, and print the run's status to
stdout. Exit code 0 when the run succeeded, 1 when it failed.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Bundle = os.Getenv(podspec.BundleEnv)
			if opts.Bundle == "" {
				return invalid(fmt.Errorf("$%s is empty: this command runs in a Pod made by colo render", podspec.BundleEnv))
			}
			opts.Out = streams.Out
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			doc, err := orchestrator.Run(ctx, opts)
			if err != nil {
				return &ExitError{Code: ExitFailed, Err: err}
			}
			if c := doc.Condition(); c == nil || c.Status != corev1.ConditionTrue {
				return &ExitError{Code: ExitFailed}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.TasksDir, "tasks-dir", "", "directory holding every task's volume (default the Pod's)")
	f.StringVar(&opts.StateDir, "state-dir", "", "the orchestrator's own directory (default the Pod's)")
	f.StringArrayVar(&opts.CancelFiles, "cancel-file", nil, "file that asks the run to stop when a cancel mode is written to it (repeatable; default <state-dir>/cancel and "+orchestrator.DownwardCancelFile+")")
	return cmd
}

// newStepCommand is `colo step`, what every step and sidecar container of
// a compiled Pod runs. It parses its own flags: it must start fast.
func newStepCommand(streams IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:                "step [--control DIR] | --install PATH",
		Short:              "Run a compiled Pod's step container's processes when the orchestrator says",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := steprunner.Run(cmd.Context(), args, streams.Out, streams.ErrOut); err != nil {
				return &ExitError{Code: ExitFailed, Err: err}
			}
			return nil
		},
	}
}
