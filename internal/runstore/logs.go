package runstore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// LogFile is the log of one container of one attempt of one TaskRun.
type LogFile struct {
	TaskRun string
	// PipelineTask is the pipeline task the TaskRun runs ("" for a
	// standalone TaskRun).
	PipelineTask string
	Retry        int
	// Container is the container's name (step-<name>, sidecar-<name>).
	Container string
	Path      string
}

// Task is the name tkn shows for the log's task: the pipeline task, or the
// TaskRun's name for a standalone TaskRun.
func (l LogFile) Task() string {
	if l.PipelineTask != "" {
		return l.PipelineTask
	}
	return l.TaskRun
}

// Step is the name tkn shows for the log's container: its name without the
// "step-" prefix.
func (l LogFile) Step() string { return strings.TrimPrefix(l.Container, "step-") }

// Logs returns the log files of the run's TaskRuns as they are now on disk,
// in order: TaskRuns in creation order, then TaskRuns not (yet) in the
// status by name; within one, attempts by retry; within one attempt, steps
// in the order they ran (or are declared), then other containers.
func (r *Run) Logs() ([]LogFile, error) {
	doc := r.Document()
	base := filepath.Join(r.dir, LogsDir)
	entries, err := os.ReadDir(base)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	onDisk := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() {
			onDisk[e.Name()] = true
		}
	}
	var names []string
	known := map[string]*v1.TaskRun{}
	for _, tr := range doc.AllTaskRuns() {
		tr := tr
		known[tr.Name] = &tr
		if onDisk[tr.Name] {
			names = append(names, tr.Name)
		}
	}
	var rest []string
	for n := range onDisk {
		if known[n] == nil {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	names = append(names, rest...)

	var out []LogFile
	for _, name := range names {
		tr := known[name]
		pt := ""
		if tr != nil {
			pt = tr.Labels[LabelPipelineTask]
		}
		retries, err := os.ReadDir(filepath.Join(base, name))
		if err != nil {
			return nil, err
		}
		var nums []int
		for _, e := range retries {
			if n, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() && n >= 0 {
				nums = append(nums, n)
			}
		}
		sort.Ints(nums)
		for _, retry := range nums {
			dir := filepath.Join(base, name, strconv.Itoa(retry))
			for _, c := range containersInOrder(dir, attemptStatus(tr, retry)) {
				out = append(out, LogFile{
					TaskRun:      name,
					PipelineTask: pt,
					Retry:        retry,
					Container:    c,
					Path:         filepath.Join(dir, c+".log"),
				})
			}
		}
	}
	return out, nil
}

// attemptStatus returns the status of attempt retry of tr, if known.
func attemptStatus(tr *v1.TaskRun, retry int) *v1.TaskRunStatus {
	if tr == nil {
		return nil
	}
	if retry < len(tr.Status.RetriesStatus) {
		return &tr.Status.RetriesStatus[retry]
	}
	if retry == len(tr.Status.RetriesStatus) {
		return &tr.Status
	}
	return nil
}

// containersInOrder lists the logs in dir: steps as the status orders them,
// then steps of the task spec, then the rest by modification time.
func containersInOrder(dir string, st *v1.TaskRunStatus) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	present := map[string]time.Time{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok || e.IsDir() {
			continue
		}
		var mod time.Time
		if fi, err := e.Info(); err == nil {
			mod = fi.ModTime()
		}
		present[name] = mod
	}
	var order []string
	seen := map[string]bool{}
	add := func(c string) {
		if _, ok := present[c]; ok && !seen[c] {
			seen[c] = true
			order = append(order, c)
		}
	}
	if st != nil {
		for _, s := range st.Steps {
			c := s.Container
			if c == "" && s.Name != "" {
				c = "step-" + s.Name
			}
			add(c)
		}
		if st.TaskSpec != nil {
			for i, s := range st.TaskSpec.Steps {
				if s.Name != "" {
					add("step-" + s.Name)
				} else {
					add("step-unnamed-" + strconv.Itoa(i))
				}
			}
		}
	}
	var rest []string
	for c := range present {
		if !seen[c] {
			rest = append(rest, c)
		}
	}
	sort.Slice(rest, func(i, j int) bool {
		ti, tj := present[rest[i]], present[rest[j]]
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return rest[i] < rest[j]
	})
	return append(order, rest...)
}
