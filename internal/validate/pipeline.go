package validate

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/colo-ci/colo/internal/dag"
	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// MaxMatrixCombinations is how many runs one matrix may fan out to
// (upstream's default-max-matrix-combinations-count).
const MaxMatrixCombinations = 256

// pipeline validates a Pipeline object once.
func (v *validator) pipeline(p *v1.Pipeline) {
	if !v.first(v1.KindPipeline, p.Name) {
		return
	}
	p = p.DeepCopy()
	p.SetDefaults()
	s := v.sink(v1.KindPipeline, p.Name)
	s.pipelineSpec(&p.Spec, field.NewPath("spec"), true, nil)
}

// pipelineScope is what the tasks of a pipeline may refer to.
type pipelineScope struct {
	path         *field.Path
	params       map[string]paramInfo
	strictParams bool
	workspaces   map[string]bool
	optionalWS   map[string]bool
	dag          map[string]int
	finally      map[string]int
	tasks        []*ptInfo
}

// ptInfo is one pipeline task and what is known about what it runs.
type ptInfo struct {
	pt      *v1.PipelineTask
	path    *field.Path
	finally bool
	// spec is the (defaulted) spec it runs, nil when unknown.
	spec *v1.TaskSpec
	// whose names it in messages: `Task "x"` or "task".
	whose string
	// embedded says spec is written inside the pipeline.
	embedded bool
	// results are the names of its results, nil when unknown.
	results map[string]bool
}

// pipelineSpec checks a defaulted pipeline spec at p. strict says it stands
// alone (a Pipeline) and must declare every param it uses; an embedded spec
// also gets params from its run, and outerWorkspaces, the workspaces its
// run binds.
func (s *sink) pipelineSpec(ps *v1.PipelineSpec, p *field.Path, strict bool, outerWorkspaces map[string]bool) {
	sc := &pipelineScope{
		path:         p,
		params:       map[string]paramInfo{},
		strictParams: strict,
		workspaces:   map[string]bool{},
		optionalWS:   map[string]bool{},
		dag:          map[string]int{},
		finally:      map[string]int{},
	}
	for k := range outerWorkspaces {
		sc.workspaces[k] = true
	}
	for _, decl := range ps.Params {
		sc.params[decl.Name] = paramInfo{typ: decl.Type, props: decl.Properties}
	}

	if len(ps.Tasks) == 0 {
		s.add(field.Required(p.Child("tasks"), "a pipeline needs at least one task"), "")
	}
	s.paramSpecs(ps.Params, p.Child("params"))
	declared := map[string]bool{}
	for i, w := range ps.Workspaces {
		np := p.Child("workspaces").Index(i).Child("name")
		switch {
		case w.Name == "":
			s.add(field.Required(np, ""), "")
		case declared[w.Name]:
			s.add(field.Duplicate(np, w.Name), "")
		}
		declared[w.Name] = true
		sc.workspaces[w.Name] = true
		if w.Optional {
			sc.optionalWS[w.Name] = true
		}
	}

	// Names, unique across tasks and finally.
	seen := map[string]bool{}
	for _, list := range []struct {
		name    string
		tasks   []v1.PipelineTask
		index   map[string]int
		finally bool
	}{{"tasks", ps.Tasks, sc.dag, false}, {"finally", ps.Finally, sc.finally, true}} {
		for i := range list.tasks {
			pt := &list.tasks[i]
			pp := p.Child(list.name).Index(i)
			np := pp.Child("name")
			switch {
			case pt.Name == "":
				s.add(field.Required(np, ""), "")
			case seen[pt.Name]:
				s.add(field.Duplicate(np, pt.Name), "")
			default:
				s.dnsLabel(pt.Name, np)
				list.index[pt.Name] = i
			}
			seen[pt.Name] = true
			sc.tasks = append(sc.tasks, &ptInfo{pt: pt, path: pp, finally: list.finally})
		}
	}

	for _, info := range sc.tasks {
		s.pipelineTask(info, sc)
	}
	s.graph(sc)
	s.pipelineResults(ps.Results, p.Child("results"), sc)
}

// pipelineTask checks one task of a pipeline and records what it runs.
func (s *sink) pipelineTask(info *ptInfo, sc *pipelineScope) {
	pt, pp := info.pt, info.path
	var set []string
	if pt.TaskRef != nil {
		set = append(set, "taskRef")
	}
	if pt.TaskSpec != nil {
		set = append(set, "taskSpec")
	}
	if pt.PipelineRef != nil {
		set = append(set, "pipelineRef")
	}
	if pt.PipelineSpec != nil {
		set = append(set, "pipelineSpec")
	}
	switch len(set) {
	case 0:
		s.add(field.Required(pp.Child("taskRef"), "a pipeline task needs exactly one of taskRef, taskSpec, pipelineRef or pipelineSpec"), "")
	case 1:
	default:
		s.add(field.Forbidden(pp.Child(set[1]), "a pipeline task needs exactly one of taskRef, taskSpec, pipelineRef or pipelineSpec, not "+strings.Join(set, " and ")), "")
	}

	switch {
	case pt.TaskRef != nil:
		rp := pp.Child("taskRef")
		ref := pt.TaskRef
		switch {
		case ref.APIVersion != "" || (ref.Kind != "" && !strings.EqualFold(string(ref.Kind), v1.KindTask) && ref.Kind != "ClusterTask"):
			s.add(field.Forbidden(rp, "custom tasks (taskRef apiVersion and kind) are not supported"), "")
			return
		case ref.Kind == "ClusterTask":
			s.add(field.NotSupported(rp.Child("kind"), ref.Kind, []string{v1.KindTask}), "")
			return
		}
		s.ref(ref.Name, ref.ResolverRef, rp)
		if s.v.res == nil || (ref.Name == "" && ref.Resolver == "") {
			break
		}
		t, err := s.v.res.ResolveTask(ref)
		if err != nil {
			s.resolveErr(rp, err, ReasonCouldntGetTask)
			break
		}
		s.v.task(t)
		t = t.DeepCopy()
		t.SetDefaults()
		info.spec, info.whose = &t.Spec, fmt.Sprintf("Task %q", t.Name)
	case pt.TaskSpec != nil:
		et := pt.TaskSpec
		if et.APIVersion != "" || et.Kind != "" || len(et.Spec.Raw) > 0 {
			s.add(field.Forbidden(pp.Child("taskSpec"), "custom task specs (apiVersion, kind, spec) are not supported"), "")
			return
		}
		ts := et.TaskSpec.DeepCopy()
		ts.SetDefaults()
		s.taskSpec(ts, pp.Child("taskSpec"), declaredScope(ts, false))
		info.spec, info.whose, info.embedded = ts, "task", true
	case pt.PipelineRef != nil:
		rp := pp.Child("pipelineRef")
		s.ref(pt.PipelineRef.Name, pt.PipelineRef.ResolverRef, rp)
		if s.v.res == nil || (pt.PipelineRef.Name == "" && pt.PipelineRef.Resolver == "") {
			break
		}
		pl, err := s.v.res.ResolvePipeline(pt.PipelineRef)
		if err != nil {
			s.resolveErr(rp, err, ReasonCouldntGetPipeline)
			break
		}
		s.v.pipeline(pl)
		info.results = map[string]bool{}
		for _, r := range pl.Spec.Results {
			info.results[r.Name] = true
		}
	case pt.PipelineSpec != nil:
		nested := pt.PipelineSpec.DeepCopy()
		nested.SetDefaults()
		s.pipelineSpec(nested, pp.Child("pipelineSpec"), false, sc.workspaces)
		info.results = map[string]bool{}
		for _, r := range nested.Results {
			info.results[r.Name] = true
		}
	}
	if info.spec != nil {
		info.results = map[string]bool{}
		for _, r := range info.spec.Results {
			info.results[r.Name] = true
		}
	}

	names := map[string]bool{}
	for j, param := range pt.Params {
		jp := pp.Child("params").Index(j)
		if param.Name == "" {
			s.add(field.Required(jp.Child("name"), ""), "")
		} else if names[param.Name] {
			s.add(field.Duplicate(jp.Child("name"), param.Name), "")
		}
		names[param.Name] = true
		s.pipelineVars(sc, info.finally, param.Value, jp.Child("value"))
	}
	if pt.Matrix != nil {
		s.matrix(pt.Matrix, pp.Child("matrix"), names, sc, info.finally)
	}
	s.when(pt.When, pp.Child("when"))
	s.pipelineVars(sc, info.finally, pt.When, pp.Child("when"))

	switch pt.OnError {
	case "", v1.PipelineTaskContinue, v1.PipelineTaskStopAndFail:
	default:
		s.add(field.NotSupported(pp.Child("onError"), pt.OnError, []string{string(v1.PipelineTaskContinue), string(v1.PipelineTaskStopAndFail)}), "")
	}
	if pt.Retries < 0 {
		s.add(field.Invalid(pp.Child("retries"), pt.Retries, "must not be negative"), "")
	}
	if pt.OnError == v1.PipelineTaskContinue && pt.Retries > 0 {
		s.add(field.Forbidden(pp.Child("retries"), "a task with onError continue cannot have retries"), "")
	}
	if pt.Timeout != nil && pt.Timeout.Duration < 0 {
		s.add(field.Invalid(pp.Child("timeout"), pt.Timeout.Duration.String(), "must not be negative"), "")
	}
	if info.finally && len(pt.RunAfter) > 0 {
		s.add(field.Forbidden(pp.Child("runAfter"), "finally tasks cannot use runAfter"), "")
	}

	bound := map[string]bool{}
	for j, b := range pt.Workspaces {
		wp := pp.Child("workspaces").Index(j)
		if bound[b.Name] {
			s.add(field.Duplicate(wp.Child("name"), b.Name), "")
		}
		bound[b.Name] = true
		target, tp := b.Workspace, wp.Child("workspace")
		if target == "" {
			target, tp = b.Name, wp.Child("name")
		}
		if !sc.workspaces[target] {
			s.add(field.Invalid(tp, target, "the pipeline declares no such workspace"), "")
			continue
		}
		if info.spec != nil && sc.optionalWS[target] {
			for _, w := range info.spec.Workspaces {
				if w.Name == b.Name && !w.Optional {
					s.add(field.Invalid(tp, target, fmt.Sprintf("optional pipeline workspace %q is bound to workspace %q, which %s requires", target, b.Name, info.whose)), ReasonRequiredWorkspaceMarkedOptional)
				}
			}
		}
	}

	if info.spec != nil {
		s.taskParamValues(info, sc, names)
	}
}

// taskParamValues checks the params a pipeline task gives against the
// params its task declares.
func (s *sink) taskParamValues(info *ptInfo, sc *pipelineScope, given map[string]bool) {
	pt, pp := info.pt, info.path
	values := map[string]givenValue{}
	for j, param := range pt.Params {
		values[param.Name] = givenValue{path: pp.Child("params").Index(j).Child("value"), value: param.Value, typ: sc.valueType(param.Value)}
	}
	provided := map[string]bool{}
	if pt.Matrix != nil {
		for j, param := range pt.Matrix.Params {
			provided[param.Name] = true
			if spec, ok := info.spec.Params.Lookup(param.Name); ok && spec.Type != v1.ParamTypeString {
				s.add(field.Invalid(pp.Child("matrix", "params").Index(j).Child("name"), param.Name,
					fmt.Sprintf("%s param %q is %s, but a matrix gives it one string per run", info.whose, param.Name, article(spec.Type))), ReasonInvalidMatrixParameterTypes)
			}
		}
		for _, inc := range pt.Matrix.Include {
			for _, param := range inc.Params {
				provided[param.Name] = true
			}
		}
	}
	if info.embedded {
		// Params of the pipeline (and its run) reach an embedded spec.
		for k := range sc.params {
			provided[k] = true
		}
	}
	s.paramValues(info.spec.Params, values, func(n string) bool { return provided[n] }, pp.Child("params"), info.whose,
		valueReasons{
			missing:  ReasonPipelineValidationFailed,
			mismatch: ReasonPipelineValidationFailed,
			keys:     ReasonPipelineValidationFailed,
			enum:     ReasonInvalidParamValue,
		})
}

// valueType is the type of a value given at pipeline scope: its own, or
// for exactly one $(params.x[*]) or $(tasks.t.results.r[*]) the type that
// expands to; "" when only known at run time.
func (sc *pipelineScope) valueType(v v1.ParamValue) v1.ParamType {
	if v.Type != v1.ParamTypeString {
		return v.Type
	}
	refs := subst.Refs(v.StringVal)
	if len(refs) != 1 || refs[0].Raw != v.StringVal {
		return v1.ParamTypeString
	}
	r := refs[0]
	switch r.Root {
	case "params":
		info, r, ok := lookupParam(sc.params, r)
		switch {
		case !ok:
			return ""
		case r.Star:
			return info.typ
		case r.Whole() && info.typ == v1.ParamTypeString:
			return v1.ParamTypeString
		case r.Whole():
			return ""
		}
		return v1.ParamTypeString
	case "tasks":
		if r.Star {
			return sc.starResultType(r)
		}
		if r.Whole() {
			return ""
		}
	}
	return v1.ParamTypeString
}

// starResultType is what $(tasks.t.results.r[*]) stands for: the result's
// type for an array or object result, an array for a string result of a
// matrix task; "" when unknown.
func (sc *pipelineScope) starResultType(r subst.Ref) v1.ParamType {
	i, ok := sc.dag[r.Name]
	if !ok || r.Property != "" {
		return ""
	}
	producer := sc.tasks[i]
	if producer.spec == nil {
		return ""
	}
	for _, res := range producer.spec.Results {
		if "tasks."+r.Name+".results."+res.Name != r.Key {
			continue
		}
		switch {
		case res.Type != v1.ParamTypeString:
			return res.Type
		case producer.pt.Matrix != nil:
			return v1.ParamTypeArray
		}
	}
	return ""
}

// matrix checks a pipeline task's matrix.
func (s *sink) matrix(m *v1.Matrix, p *field.Path, params map[string]bool, sc *pipelineScope, finally bool) {
	names := map[string]bool{}
	lengths := []int{}
	arrays := map[string][]string{}
	known := true
	for j, param := range m.Params {
		jp := p.Child("params").Index(j)
		switch {
		case param.Name == "":
			s.add(field.Required(jp.Child("name"), ""), "")
		case names[param.Name]:
			s.add(field.Duplicate(jp.Child("name"), param.Name), "")
		case params[param.Name]:
			s.add(field.Forbidden(jp.Child("name"), fmt.Sprintf("param %q is given both in params and in matrix", param.Name)), "")
		}
		names[param.Name] = true
		s.pipelineVars(sc, finally, param.Value, jp.Child("value"))
		switch sc.valueType(param.Value) {
		case v1.ParamTypeArray:
			if param.Value.Type == v1.ParamTypeArray {
				lengths = append(lengths, len(param.Value.ArrayVal))
				arrays[param.Name] = param.Value.ArrayVal
			} else {
				known = false
			}
		case "":
			known = false
		default:
			s.add(field.Invalid(jp.Child("value"), param.Value.String(), "a matrix param must be an array"), ReasonInvalidMatrixParameterTypes)
			known = false
		}
	}
	for j, inc := range m.Include {
		for k, param := range inc.Params {
			kp := p.Child("include").Index(j).Child("params").Index(k)
			if param.Value.Type != v1.ParamTypeString {
				s.add(field.Invalid(kp.Child("value"), param.Value.String(), "matrix include params must be strings"), ReasonInvalidMatrixParameterTypes)
			}
			s.pipelineVars(sc, finally, param.Value, kp.Child("value"))
		}
	}
	if !known {
		return
	}
	count := 0
	if len(m.Params) > 0 {
		count = 1
		for _, n := range lengths {
			count *= n
		}
	}
	for _, inc := range m.Include {
		if len(m.Params) == 0 || newCombination(inc, arrays) {
			count++
		}
	}
	if count > MaxMatrixCombinations {
		s.add(field.Invalid(p, field.OmitValueType{}, fmt.Sprintf("%d combinations, more than the %d allowed", count, MaxMatrixCombinations)), "")
	}
}

// newCombination reports whether an include entry is added as a new
// combination: it names a matrix param, and none of its values for matrix
// params occurs in the matrix.
func newCombination(inc v1.IncludeParams, arrays map[string][]string) bool {
	shared := false
	for _, param := range inc.Params {
		vals, ok := arrays[param.Name]
		if !ok {
			continue
		}
		shared = true
		for _, v := range vals {
			if v == param.Value.StringVal {
				return false
			}
		}
	}
	return shared
}

// graph checks runAfter and result references between pipeline tasks, then
// looks for cycles.
func (s *sink) graph(sc *pipelineScope) {
	var dagTasks []v1.PipelineTask
	bad := false
	for _, info := range sc.tasks {
		if !info.finally {
			dagTasks = append(dagTasks, *info.pt)
		}
		deps, err := dag.Deps(info.pt)
		if err != nil {
			s.add(field.InternalError(info.path, err), "")
			continue
		}
		for _, d := range deps {
			dp := info.path.Child(d.Field)
			_, inDAG := sc.dag[d.Task]
			_, inFinally := sc.finally[d.Task]
			switch {
			case d.Kind == dag.RunAfter && info.finally:
				// Reported as forbidden already.
			case d.Kind == dag.RunAfter && inDAG && d.Task != info.pt.Name:
			case d.Kind == dag.RunAfter && d.Task == info.pt.Name:
				s.add(field.Invalid(dp, d.Task, "a task cannot run after itself"), ReasonPipelineInvalidGraph)
				bad = true
			case d.Kind == dag.RunAfter && inFinally:
				s.add(field.Invalid(dp, d.Task, "a task cannot run after a finally task"), ReasonPipelineInvalidGraph)
				bad = true
			case d.Kind == dag.RunAfter && !inDAG:
				s.add(field.Invalid(dp, d.Task, "there is no task of that name"), ReasonPipelineInvalidGraph)
				bad = true
			case d.Task == info.pt.Name && !info.finally:
				s.add(field.Invalid(dp, d.Ref, "a task cannot use its own results"), ReasonPipelineInvalidGraph)
				bad = true
			case inFinally && info.finally:
				s.add(field.Invalid(dp, d.Ref, "a finally task cannot use the results of another finally task"), ReasonInvalidTaskResultReference)
			case inFinally:
				s.add(field.Invalid(dp, d.Ref, fmt.Sprintf("%q is a finally task; only finally tasks and pipeline results can use its results", d.Task)), ReasonInvalidTaskResultReference)
				bad = true
			case !inDAG:
				s.add(field.Invalid(dp, d.Ref, fmt.Sprintf("there is no task named %q", d.Task)), ReasonInvalidTaskResultReference)
				bad = true
			default:
				producer := sc.tasks[sc.dag[d.Task]]
				if producer.results != nil && !producer.results[resultName(d.Result)] {
					s.add(field.Invalid(dp, d.Ref, fmt.Sprintf("task %q declares no result %q", d.Task, resultName(d.Result))), ReasonInvalidTaskResultReference)
				}
			}
		}
	}
	if bad || len(dagTasks) == 0 {
		return
	}
	if _, err := dag.Build(dagTasks); err != nil {
		var cycle *dag.CycleError
		if errors.As(err, &cycle) {
			s.add(field.Invalid(sc.path.Child("tasks"), strings.Join(cycle.Cycle, " -> "), "the tasks form a cycle"), ReasonPipelineInvalidGraph)
		}
	}
}

// resultName is the result a dependency names, without any object key.
func resultName(r string) string {
	name, _, _ := strings.Cut(r, ".")
	return name
}

// pipelineResults checks pipeline results: names, types, and that values
// use only results of existing tasks.
func (s *sink) pipelineResults(results []v1.PipelineResult, p *field.Path, sc *pipelineScope) {
	seen := map[string]bool{}
	for i, r := range results {
		rp := p.Index(i)
		s.resultName(r.Name, rp.Child("name"), seen)
		if !validType(r.Type) {
			s.add(field.NotSupported(rp.Child("type"), r.Type, paramTypes), "")
		}
		found := false
		walkParamValue(r.Value, rp.Child("value"), ctxPlain, func(vp *field.Path, str string, _ strCtx) {
			for _, ref := range subst.Refs(str) {
				found = true
				s.pipelineResultRef(ref, vp, sc)
			}
		})
		if !found {
			s.add(field.Invalid(rp.Child("value"), r.Value.String(), "a pipeline result must use $(tasks.<task>.results.<result>) or $(finally.<task>.results.<result>)"), "")
		}
	}
}

func (s *sink) pipelineResultRef(r subst.Ref, p *field.Path, sc *pipelineScope) {
	const reason = ReasonInvalidPipelineResultReference
	if (r.Root != "tasks" && r.Root != "finally") || !strings.HasPrefix(r.Key, r.Root+"."+r.Name+".results.") {
		s.add(field.Invalid(p, r.Raw, "a pipeline result can only use task results"), "")
		return
	}
	index := sc.dag
	if r.Root == "finally" {
		index = sc.finally
	}
	if _, ok := index[r.Name]; !ok {
		what := "task"
		if r.Root == "finally" {
			what = "finally task"
		}
		s.add(field.Invalid(p, r.Raw, fmt.Sprintf("there is no %s named %q", what, r.Name)), reason)
		return
	}
	name := strings.TrimPrefix(r.Key, r.Root+"."+r.Name+".results.")
	if info := taskInfo(sc, r.Root == "finally", r.Name); info != nil && info.results != nil && !info.results[name] {
		s.add(field.Invalid(p, r.Raw, fmt.Sprintf("task %q declares no result %q", r.Name, name)), reason)
	}
}

func taskInfo(sc *pipelineScope, finally bool, name string) *ptInfo {
	for _, info := range sc.tasks {
		if info.finally == finally && info.pt.Name == name {
			return info
		}
	}
	return nil
}
