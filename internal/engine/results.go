package engine

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// parseResult reads a result file's raw content as a value of the declared
// type. A string result is the content verbatim; an array or object is
// decoded as JSON, and content that is not JSON of any kind is a string.
func parseResult(t v1.ResultsType, raw string) v1.ParamValue {
	if t == v1.ParamTypeString || t == "" {
		return v1.NewString(raw)
	}
	var v v1.ParamValue
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return v1.NewString(raw)
	}
	return v
}

// collectResults returns the TaskRun's results: task result files (the
// last report wins) and step results lifted by a task result's value, in
// the order they first appeared, and checks them against the declarations
// and the size limits.
func (r *taskRun) collectResults() ([]v1.TaskRunResult, *InvalidRunError) {
	a := r.att
	decl := map[string]v1.TaskResult{}
	for _, d := range a.spec.Results {
		decl[d.Name] = d
	}
	raw := map[string]string{}
	order := append([]string{}, a.taskResultOrder...)
	for k, v := range a.taskResults {
		raw[k] = v
	}
	for _, d := range a.spec.Results {
		if d.Value == nil {
			continue
		}
		s, res, ok := stepResultRef(d.Value.StringVal)
		if !ok {
			continue
		}
		v, ok := a.stepResults[s][res]
		if !ok {
			continue
		}
		if _, seen := raw[d.Name]; !seen {
			order = append(order, d.Name)
		}
		raw[d.Name] = v
	}
	// Step results are recorded with their step.
	for i, s := range a.steps {
		res := a.stepResults[s.name]
		if len(res) == 0 {
			continue
		}
		types := map[string]v1.ResultsType{}
		for _, sr := range s.step.Results {
			types[sr.Name] = sr.Type
		}
		var out []v1.TaskRunResult
		for _, k := range sortedKeys(res) {
			t := types[k]
			v := parseResult(t, res[k])
			out = append(out, v1.TaskRunResult{Name: k, Type: v.Type, Value: v})
		}
		r.status.Steps[i].Results = out
	}

	var results []v1.TaskRunResult
	var mismatched []string
	var missingKeys []string
	total := 0
	var tooLarge []string
	for _, k := range order {
		v := raw[k]
		total += len(v)
		if len(v) > r.opts.MaxResultSize {
			tooLarge = append(tooLarge, fmt.Sprintf("result %q of %d bytes exceeds the max allowed size of %d bytes", k, len(v), r.opts.MaxResultSize))
		}
		d, declared := decl[k]
		t := d.Type
		if !declared {
			t = v1.ParamTypeObject // parse as JSON, as upstream does for undeclared results
		}
		pv := parseResult(t, v)
		if declared && pv.Type != d.Type {
			mismatched = append(mismatched, fmt.Sprintf(" %q: task result is expected to be %q type but was initialized to a different type %q", k, d.Type, pv.Type))
			continue
		}
		if declared && d.Type == v1.ParamTypeObject {
			var miss []string
			for prop := range d.Properties {
				if _, ok := pv.ObjectVal[prop]; !ok {
					miss = append(miss, prop)
				}
			}
			if len(miss) > 0 {
				sort.Strings(miss)
				missingKeys = append(missingKeys, fmt.Sprintf("%s:[%s]", k, strings.Join(miss, " ")))
			}
		}
		results = append(results, v1.TaskRunResult{Name: k, Type: pv.Type, Value: pv})
	}
	switch {
	case len(tooLarge) > 0:
		return results, invalid(v1TaskRunReasonResultTooLarge, "TaskRun %q failed to retrieve results: %s", r.name, strings.Join(tooLarge, "; "))
	case total > r.opts.MaxTotalResultSize:
		return results, invalid(v1TaskRunReasonResultTooLarge, "TaskRun %q failed to retrieve results: results of %d bytes together exceed the max allowed size of %d bytes", r.name, total, r.opts.MaxTotalResultSize)
	case len(mismatched) > 0:
		sort.Strings(mismatched)
		return results, invalid(ReasonTaskRunValidationFailed, "Provided results don't match declared results; may be invalid JSON or missing result declaration: %s", strings.Join(mismatched, ","))
	case len(missingKeys) > 0:
		return results, invalid(ReasonTaskRunValidationFailed, "missing keys for these results which are required in TaskResult's properties map[%s]", strings.Join(missingKeys, " "))
	}
	return results, nil
}

// stepResultRef parses "$(steps.<step>.results.<result>)".
func stepResultRef(s string) (step, result string, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "$(steps.") || !strings.HasSuffix(s, ")") {
		return "", "", false
	}
	parts := strings.Split(s[len("$(steps."):len(s)-1], ".")
	if len(parts) != 3 || parts[1] != "results" {
		return "", "", false
	}
	return parts[0], parts[2], true
}

// recordArtifacts records the artifacts a step wrote.
func (r *taskRun) recordArtifacts(i int, raw []byte) {
	var arts v1.Artifacts
	if err := json.Unmarshal(raw, &arts); err != nil {
		return
	}
	a := r.att
	name := a.steps[i].name
	a.stepArtifacts[name] = nil
	for kind, list := range map[string][]v1.Artifact{"inputs": arts.Inputs, "outputs": arts.Outputs} {
		for _, art := range list {
			b, err := json.Marshal(art.Values)
			if err != nil {
				continue
			}
			a.stepArtifacts[name] = append(a.stepArtifacts[name], stepArtifact{kind: kind, name: art.Name, values: string(b)})
		}
	}
	r.status.Steps[i].Inputs = arts.Inputs
	r.status.Steps[i].Outputs = arts.Outputs
	if r.status.Artifacts == nil {
		r.status.Artifacts = &v1.Artifacts{}
	}
	r.status.Artifacts.Inputs = append(r.status.Artifacts.Inputs, arts.Inputs...)
	r.status.Artifacts.Outputs = append(r.status.Artifacts.Outputs, arts.Outputs...)
}

// stepArtifact is one named artifact a step wrote, as later steps see it:
// $(steps.<step>.inputs.<name>) or $(steps.<step>.outputs.<name>) is the
// JSON list of its values.
type stepArtifact struct {
	kind, name, values string
}
