package validate

import (
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// strCtx says where a string sits, which decides which references it may
// hold.
type strCtx int

const (
	ctxPlain strCtx = iota
	// ctxScript is a step or sidecar script.
	ctxScript
	// ctxArgs is one element of command or args.
	ctxArgs
	// ctxEnv is an env value.
	ctxEnv
	// ctxWhen is a step when input or value.
	ctxWhen
	// ctxParamValue is a param value (or an element of an array value).
	ctxParamValue
	// ctxStepParam is the value of a param a step passes to its
	// StepAction: a param value that may also name earlier steps' results.
	ctxStepParam
)

var (
	paramValueType = reflect.TypeFor[v1.ParamValue]()
	stepType       = reflect.TypeFor[v1.Step]()
)

// walkStrings calls f with every string inside v, with its path and
// context. Descriptions and display names are skipped: they are never
// substituted at task scope.
func walkStrings(v reflect.Value, p *field.Path, ctx strCtx, f func(p *field.Path, s string, ctx strCtx)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), p, ctx, f)
		}
	case reflect.String:
		if s := v.String(); strings.Contains(s, "$(") {
			f(p, s, ctx)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := range v.Len() {
			walkStrings(v.Index(i), p.Index(i), ctx, f)
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return
		}
		for _, k := range v.MapKeys() {
			walkStrings(v.MapIndex(k), p.Key(k.String()), ctx, f)
		}
	case reflect.Struct:
		if v.Type() == paramValueType {
			pv := v.Interface().(v1.ParamValue)
			walkParamValue(pv, p, ctx, f)
			return
		}
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			fp := p
			if !(sf.Anonymous && name == "") {
				if name == "" {
					name = sf.Name
				}
				fp = p.Child(name)
			}
			fctx := ctx
			switch name {
			case "description", "displayName":
				continue
			case "script":
				fctx = ctxScript
			case "command", "args":
				fctx = ctxArgs
			case "env":
				fctx = ctxEnv
			case "when":
				fctx = ctxWhen
			case "params":
				fctx = ctxParamValue
				if t == stepType {
					fctx = ctxStepParam
				}
			}
			walkStrings(v.Field(i), fp, fctx, f)
		}
	}
}

func walkParamValue(pv v1.ParamValue, p *field.Path, ctx strCtx, f func(p *field.Path, s string, ctx strCtx)) {
	switch pv.Type {
	case v1.ParamTypeArray:
		for i, s := range pv.ArrayVal {
			if strings.Contains(s, "$(") {
				f(p.Index(i), s, ctx)
			}
		}
	case v1.ParamTypeObject:
		for _, k := range pv.ObjectKeys() {
			if s := pv.ObjectVal[k]; strings.Contains(s, "$(") {
				f(p.Key(k), s, ctx)
			}
		}
	default:
		if strings.Contains(pv.StringVal, "$(") {
			f(p, pv.StringVal, ctx)
		}
	}
}

// paramInfo is what a scope knows about a param.
type paramInfo struct {
	// typ is "" when the param comes from an outer scope whose value type
	// is only known at run time.
	typ   v1.ParamType
	props map[string]v1.PropertySpec
}

// lookupParam finds the param a $(params...) reference names: its name, or
// for $(params.a.b) a param named "a.b" when there is no object "a".
func lookupParam(params map[string]paramInfo, r subst.Ref) (paramInfo, subst.Ref, bool) {
	if info, ok := params[r.Name]; ok {
		return info, r, true
	}
	if r.Property != "" {
		if info, ok := params[r.Name+"."+r.Property]; ok {
			r.Name, r.Property = r.Name+"."+r.Property, ""
			return info, r, true
		}
	}
	return paramInfo{}, r, false
}

// paramUse says what is wrong with using param info by r in s, a string in
// context ctx, or "".
func paramUse(info paramInfo, r subst.Ref, s string, ctx strCtx) string {
	whole := s == r.Raw
	if ctx == ctxStepParam {
		ctx = ctxParamValue
	}
	switch info.typ {
	case v1.ParamTypeArray:
		switch {
		case r.Property != "":
			return fmt.Sprintf("array param %q has no keys", r.Name)
		case r.Index != nil:
		case ctx == ctxScript:
			return fmt.Sprintf("array param %q cannot be expanded in a script; use [i] or pass it in args", r.Name)
		case !(whole && (ctx == ctxArgs || ctx == ctxParamValue || ctx == ctxWhen)):
			// $(params.a) expands like $(params.a[*]), as upstream allows.
			return fmt.Sprintf("array param %q can be expanded only as a whole element of command or args or a whole param value; use [i] for one element", r.Name)
		}
	case v1.ParamTypeObject:
		switch {
		case r.Index != nil:
			return fmt.Sprintf("object param %q cannot be indexed", r.Name)
		case r.Star && !(whole && ctx == ctxParamValue):
			return fmt.Sprintf("object param %q can be used with [*] only as a whole param value", r.Name)
		case !r.Star && r.Property == "":
			return fmt.Sprintf("object param %q must be used with a key, as in $(params.%s.key)", r.Name, r.Name)
		case r.Property != "" && info.props != nil:
			if _, ok := info.props[r.Property]; !ok {
				return fmt.Sprintf("object param %q has no key %q", r.Name, r.Property)
			}
		}
	case v1.ParamTypeString:
		switch {
		case r.Star || r.Index != nil:
			return fmt.Sprintf("string param %q cannot be indexed", r.Name)
		case r.Property != "":
			return fmt.Sprintf("string param %q has no keys", r.Name)
		}
	}
	return ""
}

// taskScope is what variables a task spec may use.
type taskScope struct {
	params map[string]paramInfo
	// strict makes params and workspaces the spec does not declare errors.
	// It is off for embedded specs, which upstream does not check this way
	// because params and workspaces propagate into them.
	strict     bool
	workspaces map[string]bool
	results    map[string]bool
	steps      map[string]bool
}

// taskVar checks one reference in a task spec.
func (s *sink) taskVar(sc *taskScope, p *field.Path, str string, r subst.Ref, ctx strCtx) {
	switch r.Root {
	case "params":
		info, r, ok := lookupParam(sc.params, r)
		if !ok {
			if sc.strict {
				s.add(field.Invalid(p, r.Raw, fmt.Sprintf("param %q is not declared", r.Name)), "")
			}
			return
		}
		if !sc.strict {
			// Keys of an outer object of the same name also resolve here.
			info.props = nil
		}
		if msg := paramUse(info, r, str, ctx); msg != "" {
			s.add(field.Invalid(p, r.Raw, msg), "")
		}
	case "workspaces":
		if sc.strict && !sc.workspaces[r.Name] {
			s.add(field.Invalid(p, r.Raw, fmt.Sprintf("workspace %q is not declared", r.Name)), "")
		}
	case "results":
		if !sc.results[r.Name] {
			s.add(field.Invalid(p, r.Raw, fmt.Sprintf("result %q is not declared", r.Name)), "")
		}
	case "steps":
		if !strings.HasPrefix(r.Key, "steps."+r.Name+".results.") {
			return
		}
		if ctx != ctxArgs && ctx != ctxEnv && ctx != ctxWhen && ctx != ctxStepParam {
			s.add(field.Invalid(p, r.Raw, "step results can only be used in env, command, args, when and the params of a step"), "")
			return
		}
		if !sc.steps[r.Name] {
			s.add(field.Invalid(p, r.Raw, fmt.Sprintf("there is no step named %q", r.Name)), "")
		}
	}
}

// pipelineRoots are the only variable roots PipelineTask params and when
// expressions may use.
var pipelineRoots = map[string]bool{"params": true, "tasks": true, "finally": true, "context": true, "workspaces": true, "results": true}

// pipelineVar checks one reference in a PipelineTask param, matrix or when
// expression (not its embedded spec). finally says the PipelineTask is a
// finally task.
func (s *sink) pipelineVar(sc *pipelineScope, finally bool, p *field.Path, str string, r subst.Ref) {
	if !pipelineRoots[r.Root] {
		s.add(field.Invalid(p, r.Raw, "only params, tasks, finally, context, workspaces and results variables can be used here"), "")
		return
	}
	whole := str == r.Raw
	switch r.Root {
	case "params":
		info, r, ok := lookupParam(sc.params, r)
		if !ok {
			if sc.strictParams {
				s.add(field.Invalid(p, r.Raw, fmt.Sprintf("param %q is not declared", r.Name)), "")
			}
			return
		}
		if msg := paramUse(info, r, str, ctxParamValue); msg != "" {
			s.add(field.Invalid(p, r.Raw, msg), "")
		}
	case "tasks":
		if r.Key == "tasks.status" || (r.Name != "" && (r.Key == "tasks."+r.Name+".status" || r.Key == "tasks."+r.Name+".reason")) {
			if !finally {
				s.add(field.Invalid(p, r.Raw, "task status can only be used in finally tasks"), "")
				return
			}
			if r.Key != "tasks.status" {
				if _, ok := sc.dag[r.Name]; !ok {
					s.add(field.Invalid(p, r.Raw, fmt.Sprintf("there is no task named %q", r.Name)), ReasonPipelineInvalidGraph)
				}
			}
			return
		}
		if r.Star && !whole {
			s.add(field.Invalid(p, r.Raw, "a result can be expanded with [*] only as a whole param value"), "")
		}
	case "finally":
		s.add(field.Invalid(p, r.Raw, "finally task results can only be used in pipeline results"), ReasonInvalidTaskResultReference)
	case "workspaces":
		// Only $(workspaces.w.bound) is a pipeline variable; other
		// workspace variables reach the task as written.
		if r.Key == "workspaces."+r.Name+".bound" && !sc.workspaces[r.Name] {
			s.add(field.Invalid(p, r.Raw, fmt.Sprintf("pipeline workspace %q is not declared", r.Name)), "")
		}
	}
}

// pipelineVars checks every reference in the strings of v (a param value,
// a matrix or when expressions).
func (s *sink) pipelineVars(sc *pipelineScope, finally bool, v any, p *field.Path) {
	walkStrings(reflect.ValueOf(v), p, ctxParamValue, func(p *field.Path, str string, _ strCtx) {
		for _, r := range subst.Refs(str) {
			s.pipelineVar(sc, finally, p, str, r)
		}
	})
}
