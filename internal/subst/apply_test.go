package subst

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// testValues is a scope with one value of each kind, named as a user
// would see them in a Pipeline.
func testValues() *Values {
	v := NewValues()
	v.Strings["params.url"] = "https://example.com/repo.git"
	v.Strings["params.foo.bar"] = "dotted" // a param literally named foo.bar
	v.Strings["params.other"] = "$(params.url)"
	v.Strings["tasks.build.results.digest"] = "sha256:abc"
	v.Strings["results.out.path"] = "/tekton/results/out"
	v.Strings["steps.s1.results.r"] = "step-result"
	v.Strings["workspaces.src.path"] = "/workspace/src"
	v.Strings["context.taskRun.name"] = "run-1"
	v.Strings["tasks.status"] = "Succeeded"
	v.Arrays["params.flags"] = []string{"-v", "--count=2"}
	v.Arrays["params.empty"] = []string{}
	v.Arrays["tasks.gen.results.list"] = []string{"x", "y"}
	v.Arrays["params.a.b"] = []string{"d0", "d1"} // an array param named a.b
	v.Objects["params.foo"] = map[string]string{"bar": "objkey", "baz": "z"}
	v.Objects["params.git"] = map[string]string{"url": "u", "commit": "c"}
	v.Objects["tasks.build.results.img"] = map[string]string{"name": "nginx", "tag": "1.2"}
	return v
}

func TestApply(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "no reference", in: "plain text", want: "plain text"},
		{name: "empty", in: "", want: ""},
		{name: "string param", in: "git clone $(params.url)", want: "git clone https://example.com/repo.git"},
		{name: "single quoted bracket", in: "$(params['url'])", want: "https://example.com/repo.git"},
		{name: "double quoted bracket", in: `$(params["url"])`, want: "https://example.com/repo.git"},
		{name: "dotted param name in brackets", in: `$(params["foo.bar"])/$(params['foo.bar'])`, want: "dotted/dotted"},
		{name: "dot form reads object key", in: "$(params.foo.bar)", want: "objkey"},
		{name: "object key", in: "$(params.git.url)@$(params.git.commit)", want: "u@c"},
		{name: "missing object key stays", in: "$(params.git.branch)", want: "$(params.git.branch)"},
		{name: "whole object stays", in: "x $(params.git) $(params.git[*])", want: "x $(params.git) $(params.git[*])"},
		{name: "task result", in: "$(tasks.build.results.digest)", want: "sha256:abc"},
		{name: "task result bracket", in: "$(tasks.build.results['digest'])", want: "sha256:abc"},
		{name: "task result object key", in: "$(tasks.build.results.img.name):$(tasks.build.results.img.tag)", want: "nginx:1.2"},
		{name: "result path bracket", in: `$(results['out'].path) $(results["out"].path)`, want: "/tekton/results/out /tekton/results/out"},
		{name: "step result bracket", in: "$(steps.s1.results['r'])", want: "step-result"},
		{name: "array index", in: "$(params.flags[0]) $(params.flags[1])", want: "-v --count=2"},
		{name: "array index bracket", in: "$(params['flags'][1])", want: "--count=2"},
		{name: "dotted array name index", in: `$(params["a.b"][1])`, want: "d1"},
		{name: "result array index", in: "$(tasks.gen.results.list[1])", want: "y"},
		{name: "index out of range stays", in: "$(params.flags[2]) $(params.empty[0])", want: "$(params.flags[2]) $(params.empty[0])"},
		{name: "star not isolated stays", in: "echo $(params.flags[*])", want: "echo $(params.flags[*])"},
		{name: "whole array in string stays", in: "$(params.flags)", want: "$(params.flags)"},
		{name: "unknown stays", in: "$(foo) $(date) $(params.nope)", want: "$(foo) $(date) $(params.nope)"},
		{name: "shell substitution around a param", in: "echo $(echo $(params.url))", want: "echo $(echo https://example.com/repo.git)"},
		{name: "shell substitution stays", in: "x=$(cat /tmp/f | wc -l)", want: "x=$(cat /tmp/f | wc -l)"},
		{name: "value is not rescanned", in: "$(params.other)", want: "$(params.url)"},
		{name: "dollar escape is untouched", in: "$$(params.url)", want: "$https://example.com/repo.git"},
		{name: "adjacent references", in: "$(params.url)$(context.taskRun.name)", want: "https://example.com/repo.gitrun-1"},
		{name: "unterminated", in: "$(params.url", want: "$(params.url"},
		{name: "unterminated bracket", in: "$(params['url'", want: "$(params['url'"},
		{name: "whitespace inside stays", in: "$( params.url )", want: "$( params.url )"},
		{name: "leading zero index stays", in: "$(params.flags[01])", want: "$(params.flags[01])"},
		{name: "multi line script", in: "#!/bin/sh\necho $(params.url)\necho $(workspaces.src.path)\n", want: "#!/bin/sh\necho https://example.com/repo.git\necho /workspace/src\n"},
		{name: "two-segment key", in: "$(tasks.status)", want: "Succeeded"},
	}
	v := testValues()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, v.Apply(tc.in)); diff != "" {
				t.Errorf("Apply(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestApplyObjectKeyFallsBackToDottedString(t *testing.T) {
	// Upstream registers both a param named foo.bar and object keys as
	// "params.foo.bar"; with no object foo, the dot form reads the string.
	v := NewValues()
	v.Strings["params.foo.bar"] = "dotted"
	v.Strings["tasks.t.results.o.k"] = "flat"
	got := v.Apply("$(params.foo.bar) $(tasks.t.results.o.k)")
	if diff := cmp.Diff("dotted flat", got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestApplyNilValues(t *testing.T) {
	var v *Values
	in := "$(params.x) $(params.a[*])"
	if got := v.Apply(in); got != in {
		t.Errorf("Apply on nil Values = %q, want %q", got, in)
	}
	if diff := cmp.Diff([]string{in}, v.ApplyArgs([]string{in})); diff != "" {
		t.Errorf("ApplyArgs on nil Values mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(v1.NewString(in), v.ApplyParam(v1.NewString(in))); diff != "" {
		t.Errorf("ApplyParam on nil Values mismatch (-want +got):\n%s", diff)
	}
}

func TestApplyArgs(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{name: "nil", in: nil, want: nil},
		{name: "empty", in: []string{}, want: []string{}},
		{name: "strings", in: []string{"--url", "$(params.url)"}, want: []string{"--url", "https://example.com/repo.git"}},
		{name: "isolated star expands", in: []string{"run", "$(params.flags[*])", "end"}, want: []string{"run", "-v", "--count=2", "end"}},
		{name: "isolated bracket star expands", in: []string{`$(params["flags"][*])`}, want: []string{"-v", "--count=2"}},
		{name: "dotted array name expands", in: []string{`$(params['a.b'][*])`}, want: []string{"d0", "d1"}},
		{name: "isolated without star expands", in: []string{"$(params.flags)"}, want: []string{"-v", "--count=2"}},
		{name: "empty array expands to nothing", in: []string{"a", "$(params.empty[*])", "b"}, want: []string{"a", "b"}},
		{name: "result array expands", in: []string{"$(tasks.gen.results.list[*])"}, want: []string{"x", "y"}},
		{name: "not isolated stays", in: []string{"--flags=$(params.flags[*])"}, want: []string{"--flags=$(params.flags[*])"}},
		{name: "index in element", in: []string{"--first=$(params.flags[0])"}, want: []string{"--first=-v"}},
		{name: "unknown array stays", in: []string{"$(params.nope[*])"}, want: []string{"$(params.nope[*])"}},
		{name: "object star is not expanded", in: []string{"$(params.git[*])"}, want: []string{"$(params.git[*])"}},
		{name: "expanded elements are not rescanned", in: []string{"$(params.other)"}, want: []string{"$(params.url)"}},
	}
	v := testValues()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, v.ApplyArgs(tc.in)); diff != "" {
				t.Errorf("ApplyArgs(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestApplyArgsDoesNotAliasValues(t *testing.T) {
	v := testValues()
	got := v.ApplyArgs([]string{"$(params.flags[*])"})
	got[0] = "changed"
	if v.Arrays["params.flags"][0] != "-v" {
		t.Errorf("changing the result changed Values: %q", v.Arrays["params.flags"])
	}
}

func TestApplyParam(t *testing.T) {
	tests := []struct {
		name string
		in   v1.ParamValue
		want v1.ParamValue
	}{
		{name: "string", in: v1.NewString("$(params.url)#main"), want: v1.NewString("https://example.com/repo.git#main")},
		{name: "untyped string keeps its type", in: v1.ParamValue{StringVal: "$(params.url)"}, want: v1.ParamValue{StringVal: "https://example.com/repo.git"}},
		{name: "whole array becomes array", in: v1.NewString("$(params.flags[*])"), want: v1.NewArray("-v", "--count=2")},
		{name: "whole array without star becomes array", in: v1.NewString("$(params.flags)"), want: v1.NewArray("-v", "--count=2")},
		{name: "whole empty array", in: v1.NewString("$(params.empty[*])"), want: v1.NewArray()},
		{name: "whole result array becomes array", in: v1.NewString("$(tasks.gen.results.list[*])"), want: v1.NewArray("x", "y")},
		{name: "whole object becomes object", in: v1.NewString("$(params.git[*])"), want: v1.NewObject(map[string]string{"url": "u", "commit": "c"})},
		{name: "whole object without star becomes object", in: v1.NewString("$(params.git)"), want: v1.NewObject(map[string]string{"url": "u", "commit": "c"})},
		{name: "whole result object becomes object", in: v1.NewString("$(tasks.build.results.img[*])"), want: v1.NewObject(map[string]string{"name": "nginx", "tag": "1.2"})},
		{name: "star with prefix stays", in: v1.NewString("x-$(params.flags[*])"), want: v1.NewString("x-$(params.flags[*])")},
		{name: "index in string", in: v1.NewString("$(params.flags[1])"), want: v1.NewString("--count=2")},
		{name: "array elements expand", in: v1.NewArray("first", "$(params.flags[*])", "$(params.url)"), want: v1.NewArray("first", "-v", "--count=2", "https://example.com/repo.git")},
		{name: "array element with star inside stays", in: v1.NewArray("a$(params.flags[*])"), want: v1.NewArray("a$(params.flags[*])")},
		{name: "object values are strings", in: v1.NewObject(map[string]string{"u": "$(params.url)", "f": "$(params.flags[*])"}), want: v1.NewObject(map[string]string{"u": "https://example.com/repo.git", "f": "$(params.flags[*])"})},
		{name: "unknown whole reference stays", in: v1.NewString("$(params.nope[*])"), want: v1.NewString("$(params.nope[*])")},
		{name: "nil array stays nil", in: v1.ParamValue{Type: v1.ParamTypeArray}, want: v1.ParamValue{Type: v1.ParamTypeArray}},
		{name: "nil object stays nil", in: v1.ParamValue{Type: v1.ParamTypeObject}, want: v1.ParamValue{Type: v1.ParamTypeObject}},
	}
	v := testValues()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, v.ApplyParam(tc.in)); diff != "" {
				t.Errorf("ApplyParam(%v) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestApplyParamDoesNotAliasValues(t *testing.T) {
	v := testValues()
	arr := v.ApplyParam(v1.NewString("$(params.flags[*])"))
	arr.ArrayVal[0] = "changed"
	obj := v.ApplyParam(v1.NewString("$(params.git[*])"))
	obj.ObjectVal["url"] = "changed"
	if v.Arrays["params.flags"][0] != "-v" || v.Objects["params.git"]["url"] != "u" {
		t.Errorf("changing results changed Values: %q %q", v.Arrays["params.flags"], v.Objects["params.git"])
	}
}

func TestApplyAliases(t *testing.T) {
	v := NewValues()
	v.Strings["params.x"] = "plain"
	v.Aliases["params.list"] = "steps.gen.results.list"
	v.Aliases["params.img"] = "steps.gen.results.img"
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "whole", in: "$(params.img)", want: "$(steps.gen.results.img)"},
		{name: "star", in: "$(params.list[*])", want: "$(steps.gen.results.list[*])"},
		{name: "index", in: "$(params.list[1])", want: "$(steps.gen.results.list[1])"},
		{name: "object key", in: "$(params.img.url)@$(params.img.digest)", want: "$(steps.gen.results.img.url)@$(steps.gen.results.img.digest)"},
		{name: "bracket spelling", in: "$(params['img'].url)", want: "$(steps.gen.results.img.url)"},
		{name: "beside a value", in: "$(params.x) $(params.img)", want: "plain $(steps.gen.results.img)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := v.Apply(tc.in); got != tc.want {
				t.Errorf("Apply(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	// Expanding an aliased array in args leaves the rewritten reference as
	// one element, for the target's value to expand into later.
	if diff := cmp.Diff([]string{"a", "$(steps.gen.results.list[*])"}, v.ApplyArgs([]string{"a", "$(params.list[*])"})); diff != "" {
		t.Errorf("ApplyArgs (-want +got):\n%s", diff)
	}
}
