package dag

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// DepKind says how a dependency was declared.
type DepKind string

// Kinds of dependency.
const (
	// RunAfter is a name listed in runAfter.
	RunAfter DepKind = "runAfter"
	// Result is a $(tasks.<name>.results...) reference.
	Result DepKind = "result"
)

// Dep is one dependency of a pipeline task on another task.
type Dep struct {
	// Task is the name of the task depended on.
	Task string
	// Kind says whether it comes from runAfter or a result reference.
	Kind DepKind
	// Field is where it was found, as a JSON path relative to the
	// PipelineTask: "runAfter[0]", "params[1].value",
	// "when[0].values[2]", "taskSpec.steps[0].script".
	Field string
	// Ref is the reference as written for a Result dependency, e.g.
	// "$(tasks.build.results.digest)"; "" for RunAfter.
	Ref string
	// Result is the name of the result used; "" for RunAfter.
	Result string
}

// Deps returns every dependency pt declares, runAfter entries first, then
// result references in field order (fields sorted by JSON name, list
// elements in order). Duplicates are kept: the same task may appear in
// several places. Fields upstream never substitutes (name, description,
// metadata, timeout, retries) and a nested pipelineSpec or pipelineRef are
// not searched.
func Deps(pt *v1.PipelineTask) ([]Dep, error) {
	var deps []Dep
	for i, name := range pt.RunAfter {
		deps = append(deps, Dep{Task: name, Kind: RunAfter, Field: "runAfter[" + strconv.Itoa(i) + "]"})
	}
	searched := *pt
	searched.Name = ""
	searched.Description = ""
	searched.RunAfter = nil
	searched.Retries = 0
	searched.Timeout = nil
	searched.PipelineRef = nil
	searched.PipelineSpec = nil
	data, err := json.Marshal(searched)
	if err != nil {
		return nil, fmt.Errorf("pipeline task %q: %w", pt.Name, err)
	}
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("pipeline task %q: %w", pt.Name, err)
	}
	walkStrings(tree, "", false, func(path, s string) {
		for _, r := range subst.Refs(s) {
			if task, result, ok := resultRef(r); ok {
				deps = append(deps, Dep{Task: task, Kind: Result, Field: path, Ref: r.Raw, Result: result})
			}
		}
	})
	return deps, nil
}

// resultRef reports whether r is $(tasks.<task>.results.<result>...) and
// returns the task and result names.
func resultRef(r subst.Ref) (task, result string, ok bool) {
	if r.Root != "tasks" || r.Name == "" {
		return "", "", false
	}
	prefix := "tasks." + r.Name + ".results."
	if len(r.Key) <= len(prefix) || r.Key[:len(prefix)] != prefix {
		return "", "", false
	}
	return r.Name, r.Key[len(prefix):], true
}

// walkStrings calls f with every string in a decoded JSON tree and its
// path. Keys "description" and "metadata" are skipped (upstream never
// substitutes them) unless they are data, i.e. keys of an object under a
// "value" field (an object param).
func walkStrings(node any, path string, inData bool, f func(path, s string)) {
	switch n := node.(type) {
	case string:
		f(path, n)
	case []any:
		for i, c := range n {
			walkStrings(c, path+"["+strconv.Itoa(i)+"]", inData, f)
		}
	case map[string]any:
		keys := make([]string, 0, len(n))
		for k := range n {
			if !inData && (k == "description" || k == "metadata") {
				continue
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			walkStrings(n[k], p, inData || k == "value", f)
		}
	}
}
