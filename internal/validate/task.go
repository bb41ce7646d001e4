package validate

import (
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

// task validates a Task object once.
func (v *validator) task(t *v1.Task) {
	if !v.first(v1.KindTask, t.Name) {
		return
	}
	t = t.DeepCopy()
	t.SetDefaults()
	s := v.sink(v1.KindTask, t.Name)
	s.taskSpec(&t.Spec, field.NewPath("spec"), declaredScope(&t.Spec, true))
}

// stepAction validates a StepAction object once.
func (v *validator) stepAction(sa *v1beta1.StepAction) {
	if !v.first(v1.KindStepAction, sa.Name) {
		return
	}
	sa = sa.DeepCopy()
	sa.SetDefaults()
	s := v.sink(v1.KindStepAction, sa.Name)
	s.stepActionSpec(&sa.Spec, field.NewPath("spec"))
}

// declaredScope is the scope of a task spec: its own params, results,
// workspaces and steps. strict says the spec stands alone (a Task), so
// that it must declare every param and workspace it uses; an embedded
// spec gets params and workspaces from its run or pipeline.
func declaredScope(ts *v1.TaskSpec, strict bool) *taskScope {
	sc := &taskScope{
		params:     map[string]paramInfo{},
		strict:     strict,
		workspaces: map[string]bool{},
		results:    map[string]bool{},
		steps:      map[string]bool{},
	}
	for _, p := range ts.Params {
		sc.params[p.Name] = paramInfo{typ: p.Type, props: p.Properties}
	}
	for _, w := range ts.Workspaces {
		sc.workspaces[w.Name] = true
	}
	for _, r := range ts.Results {
		sc.results[r.Name] = true
	}
	for _, st := range ts.Steps {
		if st.Name != "" {
			sc.steps[st.Name] = true
		}
	}
	return sc
}

// taskSpec checks a defaulted task spec at p.
func (s *sink) taskSpec(ts *v1.TaskSpec, p *field.Path, sc *taskScope) {
	if len(ts.Steps) == 0 {
		s.add(field.Required(p.Child("steps"), "a task needs at least one step"), "")
	}
	s.paramSpecs(ts.Params, p.Child("params"))

	templateImage := ts.StepTemplate != nil && ts.StepTemplate.Image != ""
	names := map[string]bool{}
	for i := range ts.Steps {
		st := &ts.Steps[i]
		sp := p.Child("steps").Index(i)
		if st.Name != "" {
			s.dnsLabel(st.Name, sp.Child("name"))
			if names[st.Name] {
				s.add(field.Duplicate(sp.Child("name"), st.Name), "")
			}
			names[st.Name] = true
		}
		s.step(st, sp, sc, templateImage)
	}

	sidecars := map[string]bool{}
	for i, sc := range ts.Sidecars {
		sp := p.Child("sidecars").Index(i)
		if sc.Name != "" {
			s.dnsLabel(sc.Name, sp.Child("name"))
			if sidecars[sc.Name] {
				s.add(field.Duplicate(sp.Child("name"), sc.Name), "")
			}
			sidecars[sc.Name] = true
		}
		if sc.Image == "" {
			s.add(field.Required(sp.Child("image"), ""), "")
		}
		if sc.Script != "" && len(sc.Command) > 0 {
			s.add(field.Forbidden(sp.Child("script"), "script cannot be used with command"), "")
		}
	}

	volumes := map[string]bool{}
	for i, vol := range ts.Volumes {
		np := p.Child("volumes").Index(i).Child("name")
		if volumes[vol.Name] {
			s.add(field.Duplicate(np, vol.Name), "")
		}
		volumes[vol.Name] = true
	}

	declared := map[string]bool{}
	mounts := map[string]bool{}
	for i, w := range ts.Workspaces {
		wp := p.Child("workspaces").Index(i)
		if w.Name == "" {
			s.add(field.Required(wp.Child("name"), ""), "")
		} else if declared[w.Name] {
			s.add(field.Duplicate(wp.Child("name"), w.Name), "")
		}
		declared[w.Name] = true
		mp := w.MountPath
		if mp == "" {
			mp = "/workspace/" + w.Name
		}
		if mounts[mp] {
			s.add(field.Duplicate(wp.Child("mountPath"), mp), "")
		}
		mounts[mp] = true
	}
	for i, st := range ts.Steps {
		s.workspaceUsages(st.Workspaces, p.Child("steps").Index(i).Child("workspaces"), declared)
	}
	for i, sc := range ts.Sidecars {
		s.workspaceUsages(sc.Workspaces, p.Child("sidecars").Index(i).Child("workspaces"), declared)
	}

	results := map[string]bool{}
	for i, r := range ts.Results {
		rp := p.Child("results").Index(i)
		s.resultName(r.Name, rp.Child("name"), results)
		if !validType(r.Type) {
			s.add(field.NotSupported(rp.Child("type"), r.Type, paramTypes), "")
		} else {
			s.properties(r.Type, r.Properties, rp.Child("properties"), "result")
		}
		if r.Value != nil {
			s.resultValue(r.Value, rp.Child("value"), ts)
		}
	}

	s.taskVars(ts, p, sc)
}

// taskVars checks every variable a task spec uses against its scope.
func (s *sink) taskVars(ts *v1.TaskSpec, p *field.Path, sc *taskScope) {
	check := func(v any, fp *field.Path) {
		walkStrings(reflect.ValueOf(v), fp, ctxPlain, func(fp *field.Path, str string, ctx strCtx) {
			for _, r := range subst.Refs(str) {
				s.taskVar(sc, fp, str, r, ctx)
			}
		})
	}
	for i, ps := range ts.Params {
		if ps.Default != nil {
			check(ps.Default, p.Child("params").Index(i).Child("default"))
		}
	}
	for i, st := range ts.Steps {
		st.DisplayName = ""
		check(st, p.Child("steps").Index(i))
	}
	if ts.StepTemplate != nil {
		check(ts.StepTemplate, p.Child("stepTemplate"))
	}
	for i, sc := range ts.Sidecars {
		check(sc, p.Child("sidecars").Index(i))
	}
	for i, vol := range ts.Volumes {
		check(vol, p.Child("volumes").Index(i))
	}
	for i, w := range ts.Workspaces {
		check(w.MountPath, p.Child("workspaces").Index(i).Child("mountPath"))
	}
}

// step checks one step of a task.
func (s *sink) step(st *v1.Step, p *field.Path, sc *taskScope, templateImage bool) {
	if st.Ref != nil {
		forbidden := []struct {
			name string
			set  bool
		}{
			{"image", st.Image != ""},
			{"command", len(st.Command) > 0},
			{"args", len(st.Args) > 0},
			{"script", st.Script != ""},
			{"workingDir", st.WorkingDir != ""},
			{"env", len(st.Env) > 0},
			{"volumeMounts", len(st.VolumeMounts) > 0},
			{"results", len(st.Results) > 0},
		}
		for _, f := range forbidden {
			if f.set {
				s.add(field.Forbidden(p.Child(f.name), "cannot be used with ref"), "")
			}
		}
		s.ref(st.Ref.Name, st.Ref.ResolverRef, p.Child("ref"))
		s.stepRef(st, p, sc)
	} else {
		if st.Image == "" && !templateImage {
			s.add(field.Required(p.Child("image"), "a step needs an image unless it uses ref"), "")
		}
		if len(st.Params) > 0 {
			s.add(field.Forbidden(p.Child("params"), "step params can only be used with ref"), "")
		}
	}
	if st.Script != "" && len(st.Command) > 0 {
		s.add(field.Forbidden(p.Child("script"), "script cannot be used with command"), "")
	}
	switch st.OnError {
	case "", v1.Continue, v1.StopAndFail:
	default:
		if !isParamRef(string(st.OnError)) {
			s.add(field.NotSupported(p.Child("onError"), st.OnError, []string{string(v1.Continue), string(v1.StopAndFail)}), "")
		}
	}
	if st.Timeout != nil && st.Timeout.Duration < 0 {
		s.add(field.Invalid(p.Child("timeout"), st.Timeout.Duration.String(), "must not be negative"), "")
	}
	for j, m := range st.VolumeMounts {
		mp := p.Child("volumeMounts").Index(j)
		if strings.HasPrefix(m.MountPath, "/tekton/") && m.MountPath != "/tekton/home" && !strings.HasPrefix(m.MountPath, "/tekton/home/") {
			s.add(field.Invalid(mp.Child("mountPath"), m.MountPath, "paths under /tekton/ are reserved (except /tekton/home)"), "")
		}
		if strings.HasPrefix(m.Name, "tekton-internal-") {
			s.add(field.Invalid(mp.Child("name"), m.Name, "names starting with tekton-internal- are reserved"), "")
		}
	}
	s.when(st.When, p.Child("when"))
	results := map[string]bool{}
	for j, r := range st.Results {
		rp := p.Child("results").Index(j)
		s.resultName(r.Name, rp.Child("name"), results)
		if !validType(r.Type) {
			s.add(field.NotSupported(rp.Child("type"), r.Type, paramTypes), "")
		} else {
			s.properties(r.Type, r.Properties, rp.Child("properties"), "result")
		}
	}
}

// stepRef checks a step that runs a StepAction against it.
func (s *sink) stepRef(st *v1.Step, p *field.Path, sc *taskScope) {
	if s.v.res == nil || (st.Ref.Name == "" && st.Ref.Resolver == "") {
		return
	}
	sa, err := s.v.res.ResolveStepAction(st.Ref)
	if err != nil {
		s.resolveErr(p.Child("ref"), err, ReasonTaskRunResolutionFailed)
		return
	}
	s.v.stepAction(sa)
	sa = sa.DeepCopy()
	sa.SetDefaults()
	given := map[string]givenValue{}
	for j, param := range st.Params {
		pp := p.Child("params").Index(j)
		if _, ok := sa.Spec.Params.Lookup(param.Name); !ok {
			s.add(field.Invalid(pp.Child("name"), param.Name, fmt.Sprintf("StepAction %q has no param %q", sa.Name, param.Name)), "")
			continue
		}
		given[param.Name] = givenValue{path: pp.Child("value"), value: param.Value, typ: taskValueType(param.Value, sc)}
	}
	s.paramValues(sa.Spec.Params, given, nil, p.Child("params"), "StepAction "+fmt.Sprintf("%q", sa.Name),
		valueReasons{})
}

// taskValueType is the type of a value given in a task scope: the value's
// own, or for exactly one $(params.x[*]) the type of x; "" when unknown.
func taskValueType(v v1.ParamValue, sc *taskScope) v1.ParamType {
	if v.Type != v1.ParamTypeString {
		return v.Type
	}
	refs := subst.Refs(v.StringVal)
	if len(refs) == 1 && refs[0].Raw == v.StringVal {
		r := refs[0]
		if r.Root == "params" && r.Star {
			if info, _, ok := lookupParam(sc.params, r); ok {
				return info.typ
			}
		}
		if r.Whole() {
			return ""
		}
	}
	return v1.ParamTypeString
}

func isParamRef(s string) bool {
	refs := subst.Refs(s)
	return len(refs) == 1 && refs[0].Raw == s && refs[0].Root == "params"
}

// workspaceUsages checks that step or sidecar workspaces name task workspaces.
func (s *sink) workspaceUsages(ws []v1.WorkspaceUsage, p *field.Path, declared map[string]bool) {
	for i, w := range ws {
		if !declared[w.Name] {
			s.add(field.Invalid(p.Index(i).Child("name"), w.Name, "the task declares no such workspace"), "")
		}
	}
}

// resultName checks a task or step result name and that it is unique.
func (s *sink) resultName(name string, p *field.Path, seen map[string]bool) {
	switch {
	case name == "":
		s.add(field.Required(p, ""), "")
		return
	case !resultNameRE.MatchString(name):
		s.add(field.Invalid(p, name, "a result name must match "+resultNameRE.String()), "")
	}
	if seen[name] {
		s.add(field.Duplicate(p, name), "")
	}
	seen[name] = true
}

// resultValue checks a task result's value: exactly one
// $(steps.<step>.results.<result>) of a named step.
func (s *sink) resultValue(v *v1.ParamValue, p *field.Path, ts *v1.TaskSpec) {
	const want = "a task result value must be exactly one $(steps.<step>.results.<result>)"
	if v.Type != v1.ParamTypeString {
		s.add(field.Invalid(p, v.String(), want), "")
		return
	}
	refs := subst.Refs(v.StringVal)
	if len(refs) != 1 || refs[0].Raw != v.StringVal || refs[0].Root != "steps" || !strings.HasPrefix(refs[0].Key, "steps."+refs[0].Name+".results.") {
		s.add(field.Invalid(p, v.StringVal, want), "")
		return
	}
	for _, st := range ts.Steps {
		if st.Name == refs[0].Name {
			return
		}
	}
	s.add(field.Invalid(p, v.StringVal, fmt.Sprintf("there is no step named %q", refs[0].Name)), "")
}

// dnsLabel checks that name is a DNS label.
func (s *sink) dnsLabel(name string, p *field.Path) {
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		s.add(field.Invalid(p, name, strings.Join(msgs, "; ")), "")
	}
}

// ref checks the name and resolver of a reference: exactly one of them, and
// params only with a resolver.
func (s *sink) ref(name string, rr v1.ResolverRef, p *field.Path) {
	switch {
	case name != "" && rr.Resolver != "":
		s.add(field.Forbidden(p.Child("resolver"), "name and resolver cannot both be set"), "")
	case name == "" && rr.Resolver == "":
		s.add(field.Required(p.Child("name"), "a reference needs a name or a resolver"), "")
	}
	if len(rr.Params) > 0 && rr.Resolver == "" {
		s.add(field.Forbidden(p.Child("params"), "resolver params need a resolver"), "")
	}
}

// when checks when expressions.
func (s *sink) when(ws v1.WhenExpressions, p *field.Path) {
	for i, w := range ws {
		wp := p.Index(i)
		if w.CEL != "" {
			if w.Input != "" || w.Operator != "" || len(w.Values) > 0 {
				s.add(field.Forbidden(wp.Child("cel"), "cel cannot be used with input, operator or values"), "")
			}
			continue
		}
		if w.Operator == "" {
			s.add(field.Required(wp.Child("operator"), "a when expression needs operator in or notin"), "")
		} else if w.Operator != v1.WhenIn && w.Operator != v1.WhenNotIn {
			s.add(field.NotSupported(wp.Child("operator"), w.Operator, []string{v1.WhenIn, v1.WhenNotIn}), "")
		}
		if len(w.Values) == 0 {
			s.add(field.Required(wp.Child("values"), "a when expression needs at least one value"), "")
		}
	}
}

// stepActionSpec checks a StepAction.
func (s *sink) stepActionSpec(sa *v1beta1.StepActionSpec, p *field.Path) {
	if sa.Image == "" {
		s.add(field.Required(p.Child("image"), ""), "")
	}
	if sa.Script != "" && len(sa.Command) > 0 {
		s.add(field.Forbidden(p.Child("script"), "script cannot be used with command"), "")
	}
	s.paramSpecs(sa.Params, p.Child("params"))
	results := map[string]bool{}
	for i, r := range sa.Results {
		rp := p.Child("results").Index(i)
		s.resultName(r.Name, rp.Child("name"), results)
		if !validType(r.Type) {
			s.add(field.NotSupported(rp.Child("type"), r.Type, paramTypes), "")
		} else {
			s.properties(r.Type, r.Properties, rp.Child("properties"), "result")
		}
	}
	for i, m := range sa.VolumeMounts {
		if !isParamRef(m.Name) {
			s.add(field.Invalid(p.Child("volumeMounts").Index(i).Child("name"), m.Name, "a StepAction volume mount name must be exactly one $(params.<name>)"), "")
		}
	}
	sc := &taskScope{params: map[string]paramInfo{}, strict: true}
	for _, ps := range sa.Params {
		sc.params[ps.Name] = paramInfo{typ: ps.Type, props: ps.Properties}
	}
	stepResults := map[string]bool{}
	for _, r := range sa.Results {
		stepResults[r.Name] = true
	}
	for _, r := range subst.Refs(sa.Script) {
		if r.Root == "params" {
			s.add(field.Invalid(p.Child("script"), r.Raw, "a StepAction script cannot use params; pass them in env"), "")
		}
	}
	check := func(v any, fp *field.Path, ctx strCtx) {
		walkStrings(reflect.ValueOf(v), fp, ctx, func(fp *field.Path, str string, ctx strCtx) {
			for _, r := range subst.Refs(str) {
				if r.Root == "params" {
					s.taskVar(sc, fp, str, r, ctx)
				}
			}
		})
	}
	check(sa.Image, p.Child("image"), ctxPlain)
	check(sa.Command, p.Child("command"), ctxArgs)
	check(sa.Args, p.Child("args"), ctxArgs)
	check(sa.Env, p.Child("env"), ctxEnv)
	check(sa.WorkingDir, p.Child("workingDir"), ctxPlain)
	check(sa.VolumeMounts, p.Child("volumeMounts"), ctxPlain)
	for i, ps := range sa.Params {
		if ps.Default != nil {
			check(ps.Default, p.Child("params").Index(i).Child("default"), ctxParamValue)
		}
	}
}
