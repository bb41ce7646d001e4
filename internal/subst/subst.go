package subst

// Values holds what each variable stands for in one scope. Keys are written
// without the surrounding "$(" and ")" and in dot form with no quoting, for
// example "params.url", "tasks.build.results.digest", "workspaces.src.path",
// "context.taskRun.name". Bracket spellings in the text being substituted
// (params['x'], params["x"], results['r'].path, tasks.t.results['r']) are
// equivalent to the dot form and must match the same key.
//
// A string key replaces $(key). An array key replaces $(key[*]) (only as an
// isolated element of a []string that allows expansion, see Strings) and
// $(key[i]). An object key replaces $(key.k) for each k and $(key[*]) where
// a whole object is allowed.
//
// An alias key stands for another variable whose value is not known yet:
// every reference to it, with its [*], [i] or object key, is rewritten into
// the same reference to the target, to be replaced later. A step passes an
// earlier step's result to its StepAction's param this way.
type Values struct {
	Strings map[string]string
	Arrays  map[string][]string
	Objects map[string]map[string]string
	Aliases map[string]string
}

// NewValues returns empty Values ready to fill.
func NewValues() *Values {
	return &Values{
		Strings: map[string]string{},
		Arrays:  map[string][]string{},
		Objects: map[string]map[string]string{},
		Aliases: map[string]string{},
	}
}
