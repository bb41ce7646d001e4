package subst

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func intp(i int) *int { return &i }

func TestRefs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Ref
	}{
		{name: "none", in: "echo hello", want: nil},
		{name: "param", in: "$(params.url)", want: []Ref{
			{Raw: "$(params.url)", Key: "params.url", Root: "params", Name: "url"},
		}},
		{name: "bracket quotes", in: `$(params['url']) $(params["url"])`, want: []Ref{
			{Raw: "$(params['url'])", Key: "params.url", Root: "params", Name: "url"},
			{Raw: `$(params["url"])`, Key: "params.url", Root: "params", Name: "url"},
		}},
		{name: "dotted param name", in: `$(params["foo.bar"])`, want: []Ref{
			{Raw: `$(params["foo.bar"])`, Key: "params.foo.bar", Root: "params", Name: "foo.bar"},
		}},
		{name: "object key", in: "$(params.foo.bar)", want: []Ref{
			{Raw: "$(params.foo.bar)", Key: "params.foo", Root: "params", Name: "foo", Property: "bar"},
		}},
		{name: "array star and index", in: "$(params.arr[*]) $(params['arr'][3])", want: []Ref{
			{Raw: "$(params.arr[*])", Key: "params.arr", Root: "params", Name: "arr", Star: true},
			{Raw: "$(params['arr'][3])", Key: "params.arr", Root: "params", Name: "arr", Index: intp(3)},
		}},
		{name: "task results", in: "$(tasks.build.results.digest) $(tasks.build.results['img'].tag) $(tasks.gen.results.list[0])", want: []Ref{
			{Raw: "$(tasks.build.results.digest)", Key: "tasks.build.results.digest", Root: "tasks", Name: "build"},
			{Raw: "$(tasks.build.results['img'].tag)", Key: "tasks.build.results.img", Root: "tasks", Name: "build", Property: "tag"},
			{Raw: "$(tasks.gen.results.list[0])", Key: "tasks.gen.results.list", Root: "tasks", Name: "gen", Index: intp(0)},
		}},
		{name: "finally and step results", in: "$(finally.f.results.o.k) $(steps.s.results.r)", want: []Ref{
			{Raw: "$(finally.f.results.o.k)", Key: "finally.f.results.o", Root: "finally", Name: "f", Property: "k"},
			{Raw: "$(steps.s.results.r)", Key: "steps.s.results.r", Root: "steps", Name: "s"},
		}},
		{name: "task status and matrix length have no property", in: "$(tasks.a.status) $(tasks.a.matrix.r.length) $(tasks.status)", want: []Ref{
			{Raw: "$(tasks.a.status)", Key: "tasks.a.status", Root: "tasks", Name: "a"},
			{Raw: "$(tasks.a.matrix.r.length)", Key: "tasks.a.matrix.r.length", Root: "tasks", Name: "a"},
			{Raw: "$(tasks.status)", Key: "tasks.status", Root: "tasks", Name: "status"},
		}},
		{name: "result path", in: `$(results["out"].path) $(step.results.r.path)`, want: []Ref{
			{Raw: `$(results["out"].path)`, Key: "results.out.path", Root: "results", Name: "out"},
			{Raw: "$(step.results.r.path)", Key: "step.results.r.path", Root: "step", Name: "results"},
		}},
		{name: "context and workspaces", in: "$(context.task.retry-count):$(workspaces.src.path)", want: []Ref{
			{Raw: "$(context.task.retry-count)", Key: "context.task.retry-count", Root: "context", Name: "task"},
			{Raw: "$(workspaces.src.path)", Key: "workspaces.src.path", Root: "workspaces", Name: "src"},
		}},
		{name: "single segment", in: "$(date) $(credentials.path)", want: []Ref{
			{Raw: "$(date)", Key: "date", Root: "date"},
			{Raw: "$(credentials.path)", Key: "credentials.path", Root: "credentials", Name: "path"},
		}},
		{name: "inside shell substitution", in: "echo $(echo $(params.x)) $(ls -l)", want: []Ref{
			{Raw: "$(params.x)", Key: "params.x", Root: "params", Name: "x"},
		}},
		{name: "malformed are skipped", in: "$(params.) $(params..x) $(.x) $() $(params[x]) $(params['']) $(a[*].b) $(a[1]x) $(params['a b']) $(params.x", want: nil},
		{name: "star must be last", in: "$(params.a[*].k) $(params.a[0][1])", want: nil},
		{name: "huge index is not a reference", in: "$(params.a[12345678901234567890])", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Refs(tc.in)); diff != "" {
				t.Errorf("Refs(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestRefWholeAndPath(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantWhole bool
		wantPath  string
	}{
		{name: "string", in: "$(params.x)", wantWhole: true, wantPath: "params.x"},
		{name: "star", in: "$(params.x[*])", wantWhole: true, wantPath: "params.x"},
		{name: "index", in: "$(params.x[0])", wantWhole: false, wantPath: "params.x"},
		{name: "object key", in: "$(params.o.k)", wantWhole: false, wantPath: "params.o.k"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			refs := Refs(tc.in)
			if len(refs) != 1 {
				t.Fatalf("Refs(%q) = %v, want one", tc.in, refs)
			}
			got := struct {
				Whole bool
				Path  string
			}{refs[0].Whole(), refs[0].Path()}
			want := struct {
				Whole bool
				Path  string
			}{tc.wantWhole, tc.wantPath}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
