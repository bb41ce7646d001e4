package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/colo-ci/colo/internal/conformance"
)

func newConformanceCommand(streams IOStreams) *cobra.Command {
	var parallel int
	var exclusionsFile string
	var noExclusions bool
	cmd := &cobra.Command{
		Use:   "conformance DIR",
		Short: "Run every example file in DIR as a test",
		Long: `Run every example file under DIR (*.yaml, *.yml, *.json) as one test: it
passes when every PipelineRun and TaskRun in it ends with Succeeded=True.
Prints one line per file and a closing "N passed, N failed" line; exit code
1 if any file failed. Files in the built-in exclusion list (paths relative
to DIR) are skipped, with their reason.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if fi, err := os.Stat(args[0]); err != nil || !fi.IsDir() {
				return invalid(fmt.Errorf("conformance: %s is not a directory", args[0]))
			}
			ex, err := conformance.Exclusions()
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
				if ex, err = conformance.ParseExclusions(data); err != nil {
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
	return cmd
}
