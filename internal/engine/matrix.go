package engine

import (
	"fmt"
	"strings"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// combination is one run of a matrix: param name to value.
type combination map[string]string

// fanOut returns a matrix's combinations the way upstream builds them: the
// Cartesian product of its params with the first param varying fastest,
// include entries merged into every combination they do not contradict,
// and appended as new combinations when none of their values occurs.
func fanOut(m *v1.Matrix) []combination {
	var includes []combination
	for _, inc := range m.Include {
		c := combination{}
		for _, p := range inc.Params {
			c[p.Name] = p.Value.StringVal
		}
		includes = append(includes, c)
	}
	if len(m.Params) == 0 {
		return includes
	}
	var cs []combination
	for i, p := range m.Params {
		if i == 0 {
			for _, v := range p.Value.ArrayVal {
				cs = append(cs, combination{p.Name: v})
			}
			continue
		}
		var next []combination
		for _, v := range p.Value.ArrayVal {
			for _, c := range cs {
				n := combination{}
				for k, x := range c {
					n[k] = x
				}
				n[p.Name] = v
				next = append(next, n)
			}
		}
		cs = next
	}
	for _, c := range cs {
		for _, inc := range includes {
			if c.agrees(inc) {
				for k, v := range inc {
					c[k] = v
				}
			}
		}
	}
	for _, inc := range includes {
		if shouldAppend(cs, inc) {
			cs = append(cs, inc)
		}
	}
	return cs
}

// agrees reports whether every param inc shares with c has the same value.
func (c combination) agrees(inc combination) bool {
	for k, v := range inc {
		if x, ok := c[k]; ok && x != v {
			return false
		}
	}
	return true
}

// shouldAppend reports whether no combination has any of inc's values.
func shouldAppend(cs []combination, inc combination) bool {
	if len(inc) == 0 {
		return false
	}
	for _, c := range cs {
		for k, v := range inc {
			if x, ok := c[k]; ok && x == v {
				return false
			}
		}
	}
	return true
}

// params returns the combination as params sorted by name.
func (c combination) params() v1.Params {
	keys := sortedKeys(c)
	out := make(v1.Params, 0, len(keys))
	for _, k := range keys {
		out = append(out, v1.Param{Name: k, Value: v1.NewString(c[k])})
	}
	return out
}

// countCombinations counts a matrix's combinations before params are
// substituted: the product of the params' lengths plus the include
// entries that add a combination.
func countCombinations(m *v1.Matrix) int {
	if len(m.Params) == 0 {
		return len(m.Include)
	}
	n := 1
	vals := map[string][]string{}
	for _, p := range m.Params {
		n *= len(p.Value.ArrayVal)
		vals[p.Name] = p.Value.ArrayVal
	}
	for _, inc := range m.Include {
		for _, p := range inc.Params {
			if vs, ok := vals[p.Name]; ok {
				found := false
				for _, v := range vs {
					if v == p.Value.StringVal {
						found = true
					}
				}
				if !found {
					n++
				} else {
					break
				}
			}
		}
	}
	return n
}

// checkMatrix checks a matrix before anything runs: no param both in
// params and matrix, and no more combinations than allowed.
func (p *pipelineRun) checkMatrix(t *pipelineTask) error {
	m := t.pt.Matrix
	names := map[string]bool{}
	for _, mp := range m.Params {
		names[mp.Name] = true
	}
	for _, inc := range m.Include {
		for _, ip := range inc.Params {
			names[ip.Name] = true
		}
	}
	for _, pp := range t.pt.Params {
		if names[pp.Name] {
			return invalid(ReasonPipelineValidationFailed, "invalid value: pipeline task %q: expected exactly one, got both: matrix[%s], params[%s]", t.pt.Name, pp.Name, pp.Name)
		}
	}
	if n := countCombinations(m); n > p.e.opts.MaxMatrixCombinations {
		return invalid(ReasonPipelineValidationFailed, "invalid value: pipeline task %q: expected 0 <= %d <= %d: matrix", t.pt.Name, n, p.e.opts.MaxMatrixCombinations)
	}
	return nil
}

// combinations returns the params of each run of t (nil params and one
// run when t has no matrix).
func (p *pipelineRun) combinations(t *pipelineTask, pt *v1.PipelineTask) ([]v1.Params, error) {
	if pt.Matrix == nil {
		return []v1.Params{nil}, nil
	}
	var bad []string
	for _, mp := range pt.Matrix.Params {
		if mp.Value.Type != v1.ParamTypeArray {
			bad = append(bad, mp.Name)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("PipelineRun %s/%s: matrix params of pipeline task %q must be arrays: %s", p.namespace, p.name, t.pt.Name, strings.Join(bad, ", "))
	}
	cs := fanOut(pt.Matrix)
	if len(cs) > p.e.opts.MaxMatrixCombinations {
		return nil, fmt.Errorf("PipelineRun %s/%s: pipeline task %q has %d matrix combinations, more than the %d allowed", p.namespace, p.name, t.pt.Name, len(cs), p.e.opts.MaxMatrixCombinations)
	}
	out := make([]v1.Params, len(cs))
	for i, c := range cs {
		out[i] = c.params()
	}
	return out, nil
}

// matrixDisplayName returns the display name of one matrix run: the names
// of the include entries whose params the run has, else the task's.
func matrixDisplayName(pt *v1.PipelineTask, params v1.Params, display string) string {
	var names []string
	for _, inc := range pt.Matrix.Include {
		if inc.Name == "" {
			continue
		}
		match := true
		for _, ip := range inc.Params {
			p, ok := params.Lookup(ip.Name)
			if !ok || p.Value.StringVal != ip.Value.StringVal {
				match = false
				break
			}
		}
		if match {
			names = append(names, inc.Name)
		}
	}
	if len(names) > 0 {
		return strings.Join(names, " ")
	}
	return display
}
