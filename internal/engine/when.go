package engine

import (
	"encoding/json"
	"fmt"

	"cel.dev/cel-go/cel"

	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// applyWhen substitutes when expressions: an input that is exactly one
// whole-array reference renders as the array's JSON text, values expand
// whole-array references in place, and CEL is substituted as a string.
func applyWhen(vals *subst.Values, when v1.WhenExpressions) v1.WhenExpressions {
	if when == nil {
		return nil
	}
	out := make(v1.WhenExpressions, 0, len(when))
	for _, w := range when {
		n := v1.WhenExpression{Operator: w.Operator}
		n.Input = applyWhenInput(vals, w.Input)
		n.Values = vals.ApplyArgs(w.Values)
		n.CEL = vals.Apply(w.CEL)
		out = append(out, n)
	}
	return out
}

func applyWhenInput(vals *subst.Values, s string) string {
	refs := subst.Refs(s)
	if len(refs) == 1 && refs[0].Raw == s && refs[0].Star {
		if arr, ok := vals.Arrays[refs[0].Key]; ok {
			b, err := json.Marshal(arr)
			if err == nil {
				return string(b)
			}
		}
	}
	return vals.Apply(s)
}

// evalWhen reports whether every expression allows execution. Input
// expressions match exactly; CEL expressions must evaluate to a boolean.
func evalWhen(when v1.WhenExpressions) (bool, error) {
	ok := true
	for _, w := range when {
		if w.CEL != "" {
			b, err := evalCEL(w.CEL)
			if err != nil {
				return false, err
			}
			ok = ok && b
			continue
		}
		in := false
		for _, v := range w.Values {
			if v == w.Input {
				in = true
				break
			}
		}
		switch w.Operator {
		case v1.WhenNotIn:
			ok = ok && !in
		default:
			ok = ok && in
		}
	}
	return ok, nil
}

// evalCEL evaluates a CEL expression with the standard environment and no
// variables, as upstream does.
func evalCEL(expr string) (bool, error) {
	env, err := cel.NewEnv()
	if err != nil {
		return false, fmt.Errorf("creating CEL environment: %w", err)
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return false, iss.Err()
	}
	prg, err := env.Program(ast)
	if err != nil {
		return false, err
	}
	out, _, err := prg.Eval(map[string]any{})
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("The CEL expression %s is not evaluated to a boolean", expr)
	}
	return b, nil
}
