package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/runstore"
)

func addRunDirFlag(f *pflag.FlagSet, dir *string) {
	f.StringVar(dir, "run-dir", "", "directory that holds one directory per run (default .colo/runs)")
}

func newValidateCommand(streams IOStreams) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "validate -f FILE|DIR [-f ...]",
		Short: "Check files as colo run would, without running anything",
		Long: `Load and validate every object in the given files and directories, and
check that every PipelineRun and TaskRun could start. Prints every problem
with its file and field path; exit code 2 if there is any.`,
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
			items, err := prepare(set, nil, engine.Options{})
			if err != nil {
				return invalid(err)
			}
			fmt.Fprintf(streams.Out, "%d objects valid, %d runs ready\n", countObjects(set), len(items))
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "file or directory of YAML to read (repeatable)")
	return cmd
}

func countObjects(s *load.Set) int {
	return len(s.Tasks) + len(s.Pipelines) + len(s.StepActions) + len(s.PipelineRuns) + len(s.TaskRuns) +
		len(s.Secrets) + len(s.ConfigMaps) + len(s.PVCs) + len(s.ServiceAccounts)
}

// openRun opens the named run, or the newest one when name is empty.
func openRun(root runstore.Root, name string) (*runstore.Run, error) {
	if name == "" {
		infos, err := root.List()
		if err != nil {
			return nil, err
		}
		if len(infos) == 0 {
			return nil, fmt.Errorf("no runs in %s", root.Runs)
		}
		name = infos[0].Name
	}
	run, err := root.Open(name)
	if errors.Is(err, runstore.ErrNotFound) {
		return nil, invalid(err)
	}
	return run, err
}

func newLogsCommand(streams IOStreams) *cobra.Command {
	var runDir, task string
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs [RUN] [-t TASK] [-f]",
		Short: "Print the step logs of a run (the newest when RUN is not given)",
		Args:  usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			run, err := openRun(storeRoot(runDir), name)
			if err != nil {
				return err
			}
			return printLogs(cmd.Context(), streams.Out, run, task, follow)
		},
	}
	cmd.Flags().StringVarP(&task, "task", "t", "", "only the logs of this pipeline task (or TaskRun)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing while the run goes on")
	addRunDirFlag(cmd.Flags(), &runDir)
	return cmd
}

// printLogs prints the logs of run as "[task : step] line"; with follow, it
// keeps printing what is written until the run is over.
func printLogs(ctx context.Context, w io.Writer, run *runstore.Run, task string, follow bool) error {
	offsets := map[string]int64{}
	partial := map[string]string{}
	matched := false
	pass := func(final bool) error {
		logs, err := run.Logs()
		if err != nil {
			return err
		}
		for _, l := range logs {
			if task != "" && l.Task() != task && l.TaskRun != task {
				continue
			}
			matched = true
			if err := copyLines(w, l, offsets, partial, final); err != nil {
				return err
			}
		}
		return nil
	}
	if !follow {
		if err := pass(true); err != nil {
			return err
		}
	} else {
		for {
			live := run.Live()
			if _, err := run.Reload(); err != nil {
				return err
			}
			if err := pass(!live); err != nil {
				return err
			}
			if !live {
				break
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	if task != "" && !matched {
		return invalid(fmt.Errorf("run %s has no logs of task %q", run.Name(), task))
	}
	return nil
}

// copyLines prints the lines of l from offsets[l.Path] on. A last line
// without a newline is kept back until final.
func copyLines(w io.Writer, l runstore.LogFile, offsets map[string]int64, partial map[string]string, final bool) error {
	f, err := os.Open(l.Path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	defer f.Close()
	if _, err := f.Seek(offsets[l.Path], io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReader(f)
	for {
		s, err := r.ReadString('\n')
		offsets[l.Path] += int64(len(s))
		if err == nil {
			line := partial[l.Path] + strings.TrimSuffix(s, "\n")
			delete(partial, l.Path)
			fmt.Fprintf(w, "[%s : %s] %s\n", l.Task(), l.Step(), line)
			continue
		}
		partial[l.Path] += s
		if final && partial[l.Path] != "" {
			fmt.Fprintf(w, "[%s : %s] %s\n", l.Task(), l.Step(), partial[l.Path])
			delete(partial, l.Path)
		}
		if err == io.EOF {
			return nil
		}
		return err
	}
}

func newDescribeCommand(streams IOStreams) *cobra.Command {
	var runDir, output string
	cmd := &cobra.Command{
		Use:   "describe [RUN]",
		Short: "Show a run: its status, tasks, skipped tasks and results (the newest when RUN is not given)",
		Args:  usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != outputText && output != outputJSON {
				return invalid(fmt.Errorf("--output %q: want text or json", output))
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			run, err := openRun(storeRoot(runDir), name)
			if err != nil {
				return err
			}
			doc := run.Document()
			if output == outputJSON {
				return writeJSONDocuments(streams.Out, []outcome{{doc: doc}})
			}
			describe(streams.Out, doc, run.Live(), time.Now())
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", outputText, "output: text or json (the status document)")
	addRunDirFlag(cmd.Flags(), &runDir)
	return cmd
}

// describe writes a tkn-like description of a run.
func describe(w io.Writer, doc runstore.Document, live bool, now time.Time) {
	st := doc.EngineStatus()
	meta := doc.Meta()
	state, reason, message := runStatus(st)
	if state == stateRunning && !live {
		state = "Interrupted"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	fmt.Fprintf(tw, "Name:\t%s\n", meta.Name)
	fmt.Fprintf(tw, "Kind:\t%s\n", doc.Kind())
	fmt.Fprintf(tw, "Namespace:\t%s\n", meta.Namespace)
	switch {
	case doc.PipelineRun != nil && doc.PipelineRun.Spec.PipelineRef != nil:
		fmt.Fprintf(tw, "Pipeline:\t%s\n", doc.PipelineRun.Spec.PipelineRef.Name)
	case doc.TaskRun != nil && doc.TaskRun.Spec.TaskRef != nil:
		fmt.Fprintf(tw, "Task:\t%s\n", doc.TaskRun.Spec.TaskRef.Name)
	}
	fmt.Fprintf(tw, "Status:\t%s\n", state)
	if reason != "" {
		fmt.Fprintf(tw, "Reason:\t%s\n", reason)
	}
	if message != "" {
		fmt.Fprintf(tw, "Message:\t%s\n", message)
	}
	start, end := runTimes(st)
	if !start.IsZero() {
		fmt.Fprintf(tw, "Started:\t%s (%s ago)\n", start.Local().Format(time.RFC3339), formatAge(start, now))
		if end.IsZero() {
			end = now
		}
		fmt.Fprintf(tw, "Duration:\t%s\n", formatDuration(end.Sub(start)))
	}
	tw.Flush()

	if rows := taskRows(st, false); len(rows) > 0 {
		title := "Tasks"
		if doc.TaskRun != nil {
			title = "TaskRun"
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		writeTasksTable(indent(w), rows, now)
	}
	if doc.PipelineRun != nil && len(doc.PipelineRun.Status.SkippedTasks) > 0 {
		fmt.Fprintln(w, "\nSkipped tasks:")
		tw := tabwriter.NewWriter(indent(w), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tREASON")
		for _, s := range doc.PipelineRun.Status.SkippedTasks {
			fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Reason)
		}
		tw.Flush()
	}
	if doc.TaskRun != nil && len(doc.TaskRun.Status.Steps) > 0 {
		fmt.Fprintln(w, "\nSteps:")
		tw := tabwriter.NewWriter(indent(w), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tEXIT CODE\tREASON")
		for _, s := range doc.TaskRun.Status.Steps {
			code, why := "---", "---"
			if t := s.Terminated; t != nil {
				code = fmt.Sprint(t.ExitCode)
				why = t.Reason
			} else if s.Running != nil {
				why = "Running"
			}
			if s.TerminationReason != "" {
				why = s.TerminationReason
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, code, why)
		}
		tw.Flush()
	}
	var results [][2]string
	switch {
	case doc.PipelineRun != nil:
		for _, r := range doc.PipelineRun.Status.Results {
			results = append(results, [2]string{r.Name, r.Value.String()})
		}
	case doc.TaskRun != nil:
		for _, r := range doc.TaskRun.Status.Results {
			results = append(results, [2]string{r.Name, r.Value.String()})
		}
	}
	if len(results) > 0 {
		fmt.Fprintln(w, "\nResults:")
		tw := tabwriter.NewWriter(indent(w), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tVALUE")
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t%s\n", r[0], strings.TrimSpace(r[1]))
		}
		tw.Flush()
	}
}

// indent prefixes every line written to w with two spaces.
func indent(w io.Writer) io.Writer { return &indentWriter{w: w, start: true} }

type indentWriter struct {
	w     io.Writer
	start bool
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	var b strings.Builder
	for _, c := range string(p) {
		if iw.start {
			b.WriteString("  ")
			iw.start = false
		}
		b.WriteRune(c)
		if c == '\n' {
			iw.start = true
		}
	}
	if _, err := io.WriteString(iw.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

func newListCommand(streams IOStreams) *cobra.Command {
	var runDir string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List runs, newest first",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			infos, err := storeRoot(runDir).List()
			if err != nil {
				return err
			}
			now := time.Now()
			tw := tabwriter.NewWriter(streams.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tSTATUS\tREASON\tAGE\tDURATION")
			for _, in := range infos {
				st := in.Doc.EngineStatus()
				state, reason, _ := runStatus(st)
				if state == stateRunning && !in.Live {
					state = "Interrupted"
				}
				if reason == "" {
					reason = "---"
				}
				dur := "---"
				start, end := runTimes(st)
				if !start.IsZero() {
					if end.IsZero() {
						end = now
					}
					dur = formatDuration(end.Sub(start))
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", in.Name, in.Doc.Kind(), state, reason, formatAge(in.Created, now), dur)
			}
			return tw.Flush()
		},
	}
	addRunDirFlag(cmd.Flags(), &runDir)
	return cmd
}
