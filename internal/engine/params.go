package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// maxDefaultDepth bounds chains of pipeline param defaults that use other
// params.
const maxDefaultDepth = 10

// pipelineParams returns the value of every param of a pipeline: the
// run's value or the declared default (defaults may use other params,
// resolved recursively), plus the run's undeclared params, which
// propagate into embedded specs.
func pipelineParams(prName, prNamespace, pipelineName string, specs v1.ParamSpecs, given v1.Params) (map[string]v1.ParamValue, []string, error) {
	var missing, mismatch []string
	missKeys := map[string][]string{}
	vals := map[string]v1.ParamValue{}
	var order []string
	pending := map[string]bool{}
	for _, ps := range specs {
		order = append(order, ps.Name)
		p, ok := given.Lookup(ps.Name)
		if !ok {
			if ps.Default == nil {
				missing = append(missing, ps.Name)
				continue
			}
			vals[ps.Name] = ps.Default.DeepCopy()
			pending[ps.Name] = true
			continue
		}
		if p.Value.Type != ps.Type && !(p.Value.Type == "" && ps.Type == v1.ParamTypeString) {
			mismatch = append(mismatch, ps.Name)
			continue
		}
		v := p.Value.DeepCopy()
		if ps.Type == v1.ParamTypeObject {
			var keys []string
			for k := range ps.Properties {
				if _, ok := v.ObjectVal[k]; ok {
					continue
				}
				if ps.Default != nil {
					if dv, ok := ps.Default.ObjectVal[k]; ok {
						if v.ObjectVal == nil {
							v.ObjectVal = map[string]string{}
						}
						v.ObjectVal[k] = dv
						continue
					}
				}
				keys = append(keys, k)
			}
			if len(keys) > 0 {
				sort.Strings(keys)
				missKeys[ps.Name] = keys
			}
		}
		vals[ps.Name] = v
	}
	prefix := fmt.Sprintf("PipelineRun %s/%s", prNamespace, prName)
	switch {
	case len(missing) > 0:
		return nil, nil, invalid(ReasonParameterMissing, "%s parameters is missing some parameters required by Pipeline %s's parameters: pipelineRun missing parameters: %v", prefix, pipelineName, missing)
	case len(mismatch) > 0:
		return nil, nil, invalid(ReasonParameterTypeMismatch, "%s parameters have mismatching types with Pipeline %s's parameters: parameters have inconsistent types : %v", prefix, pipelineName, mismatch)
	case len(missKeys) > 0:
		return nil, nil, invalid(ReasonObjectParameterMissKeys, "%s parameters is missing object keys required by Pipeline %s's parameters: pipelineRun missing object keys for parameters: %v", prefix, pipelineName, missKeys)
	}
	for _, p := range given {
		if _, declared := specs.Lookup(p.Name); declared {
			continue
		}
		vals[p.Name] = p.Value.DeepCopy()
		order = append(order, p.Name)
	}
	// Resolve defaults that use other params, a level at a time.
	for depth := 0; len(pending) > 0; depth++ {
		progress := false
		for _, name := range sortedKeys(pending) {
			v := vals[name]
			refs := paramRefsOf(v)
			ready := true
			for _, ref := range refs {
				if _, ok := vals[ref]; !ok {
					return nil, nil, invalid(ReasonPipelineValidationFailed, "param %q default uses undefined param %q", name, ref)
				}
				if pending[ref] && ref != name {
					ready = false
				}
				if ref == name {
					return nil, nil, invalid(ReasonPipelineValidationFailed, "param %q default refers to itself", name)
				}
			}
			if !ready {
				continue
			}
			if len(refs) > 0 {
				sv := subst.NewValues()
				for n, x := range vals {
					if !pending[n] {
						putParam(sv, "params."+n, x)
					}
				}
				vals[name] = sv.ApplyParam(v)
			}
			delete(pending, name)
			progress = true
		}
		if !progress || depth >= maxDefaultDepth {
			names := sortedKeys(pending)
			return nil, nil, invalid(ReasonPipelineValidationFailed, "param defaults form a cycle or are nested deeper than %d levels: %s", maxDefaultDepth, strings.Join(names, ", "))
		}
	}
	return vals, order, nil
}

// paramRefsOf returns the names of the params a value refers to.
func paramRefsOf(v v1.ParamValue) []string {
	var texts []string
	switch v.Type {
	case v1.ParamTypeArray:
		texts = v.ArrayVal
	case v1.ParamTypeObject:
		for _, k := range v.ObjectKeys() {
			texts = append(texts, v.ObjectVal[k])
		}
	default:
		texts = []string{v.StringVal}
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range texts {
		for _, r := range subst.Refs(t) {
			if r.Root == "params" && !seen[r.Name] {
				seen[r.Name] = true
				out = append(out, r.Name)
			}
		}
	}
	return out
}

// valuesOf returns params as substitution values.
func valuesOf(vals map[string]v1.ParamValue) *subst.Values {
	sv := subst.NewValues()
	for n, v := range vals {
		putParam(sv, "params."+n, v)
	}
	return sv
}
