package subst

import v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"

// Apply replaces every reference in s that v has a string value for,
// including $(key[i]) of arrays and $(key.k) of objects. It never expands
// [*]; such references stay as written.
func (v *Values) Apply(s string) string { panic("not implemented") }

// ApplyArgs replaces in each element; an element that is exactly one
// $(key[*]) reference to an array expands in place into the array's
// elements (upstream's args/command rule).
func (v *Values) ApplyArgs(ss []string) []string { panic("not implemented") }

// ApplyParam substitutes a param value: a string that is exactly one
// $(key[*]) of an array (or object) becomes that array (object); array
// elements that are exactly $(key[*]) expand in place; object values and
// other strings are substituted as strings.
func (v *Values) ApplyParam(p v1.ParamValue) v1.ParamValue { panic("not implemented") }

// ApplyTask substitutes, in place, every field upstream substitutes at task
// scope: each step and sidecar (name, image, command, args, workingDir,
// env and envFrom names and refs, volumeMounts, script, onError,
// stdoutConfig/stderrConfig paths, when), the stepTemplate, volume source
// names, workspace mountPaths and step params.
func (v *Values) ApplyTask(ts *v1.TaskSpec) { panic("not implemented") }

// ApplyStep substitutes one step's fields in place (the same fields TaskSpec
// substitutes in each step).
func (v *Values) ApplyStep(s *v1.Step) { panic("not implemented") }

// ApplyPipelineTask substitutes, in place, what upstream substitutes at pipeline
// scope: params, matrix params and include, when (input, values, cel),
// displayName, workspace subPaths, taskRef name and params, onError, and
// the embedded taskSpec (its fields as ApplyTask does).
func (v *Values) ApplyPipelineTask(pt *v1.PipelineTask) { panic("not implemented") }

// Ref is one parsed $(...) reference.
type Ref struct {
	// Raw is the reference as written, including "$(" and ")".
	Raw string
	// Key is its canonical dot form without index or object key, e.g.
	// "params.url", "tasks.build.results.digest", "workspaces.src.path".
	Key string
	// Root is the first segment: params, tasks, finally, context,
	// workspaces, results, steps, step, artifacts, credentials, ...
	Root string
	// Name is the second segment (param, task, workspace or result name).
	Name string
	// Property is the object key for $(params.o.k) and
	// $(tasks.t.results.r.k), "" otherwise.
	Property string
	// Index is set for [i]; Star for [*].
	Index *int
	Star  bool
}

// Refs returns every $(...) reference in s, in order of appearance.
func Refs(s string) []Ref { panic("not implemented") }
