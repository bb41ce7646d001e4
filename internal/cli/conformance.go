package cli

import (
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/colo-ci/colo/internal/conformance"
	"github.com/colo-ci/colo/internal/podspec"
)

func newConformanceCommand(streams IOStreams, k Kube) *cobra.Command {
	var parallel int
	var exclusionsFile string
	var noExclusions bool
	var on, kubeconfig, image string
	cmd := &cobra.Command{
		Use:   "conformance DIR",
		Short: "Run every example file in DIR as a test",
		Long: `Run every example file under DIR (*.yaml, *.yml, *.json) as one test: it
passes when every PipelineRun and TaskRun in it ends with Succeeded=True.
Prints one line per file and a closing "N passed, N failed" line; exit code
1 if any file failed. Files in the built-in exclusion list (paths relative
to DIR) are skipped, with their reason.

--on says where the files run: local (on this machine, as colo run does),
pod (each run in one Pod, as colo run --on pod does) or controller (the
file's objects are created in the cluster with every run's spec.managedBy
naming colo, and colo's controller, installed there, runs them). In the
last two every file gets a namespace of its own, deleted afterwards; the
exclusion list has entries per mode.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if fi, err := os.Stat(args[0]); err != nil || !fi.IsDir() {
				return invalid(fmt.Errorf("conformance: %s is not a directory", args[0]))
			}
			mode := conformance.Mode(on)
			if !slices.Contains(conformance.Modes(), mode) {
				return invalid(fmt.Errorf("conformance: --on %s: want one of %v", on, conformance.Modes()))
			}
			var cluster conformance.Cluster
			if mode != conformance.Local {
				var err error
				if cluster, err = k.Conformance(kubeconfig, image); err != nil {
					return invalid(err)
				}
			}
			ex, err := conformance.Exclusions(mode)
			if err != nil {
				return err
			}
			switch {
			case noExclusions:
				ex = nil
			case exclusionsFile != "":
				data, err := os.ReadFile(exclusionsFile)
				if err != nil {
					return invalid(err)
				}
				if ex, err = conformance.ParseExclusions(data, mode); err != nil {
					return invalid(err)
				}
			}
			it := newInterrupts(streams.ErrOut)
			defer it.stop()
			ctx, cancel := it.context(cmd.Context())
			defer cancel()
			results, err := conformance.Run(ctx, args[0], conformance.Options{
				Exclusions: ex,
				Parallel:   parallel,
				Out:        streams.Out,
				Mode:       mode,
				Cluster:    cluster,
			})
			if err != nil {
				return err
			}
			sum := conformance.Summarize(results)
			fmt.Fprintln(streams.Out, sum)
			switch {
			case it.count() > 0:
				return &ExitError{Code: ExitInterrupted}
			case sum.Failed > 0:
				return &ExitError{Code: ExitFailed}
			}
			return nil
		},
	}
	cmd.Flags().IntVarP(&parallel, "parallel", "j", 2, "how many files run at once")
	cmd.Flags().StringVar(&exclusionsFile, "exclusions", "", "read the exclusion list from this YAML file (path: reason) instead of the built-in one")
	cmd.Flags().BoolVar(&noExclusions, "no-exclusions", false, "run every file, excluded or not")
	cmd.Flags().StringVar(&on, "on", string(conformance.Local), "where the files run: local, pod or controller")
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig with --on pod or controller (default $KUBECONFIG, else ~/.kube/config)")
	cmd.Flags().StringVar(&image, "image", podspec.DefaultImage, "colo's image, with --on pod")
	return cmd
}
