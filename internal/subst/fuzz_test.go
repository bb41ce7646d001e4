package subst

import (
	"strings"
	"testing"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// fuzzSeeds are inputs worth starting from: every reference form, and the
// malformed near-misses around them.
var fuzzSeeds = []string{
	"",
	"plain",
	"$(params.url)",
	"$(params['url'])",
	`$(params["foo.bar"])`,
	"$(params.foo.bar)",
	"$(params.flags[*])",
	"$(params.flags[1])",
	"$(params['a.b'][0])",
	"$(tasks.build.results.img.tag)",
	"$(tasks.build.results['img'].tag)",
	"$(results['out'].path)",
	"$(steps.s1.results.r)",
	"echo $(echo $(params.url))",
	"$((1+2)) $$(params.url) $(",
	"$(params['url'",
	"$(params[99999999999999999999])",
	"$(params.a[*].b)",
	"$(params.other)$(params.url)",
}

func FuzzApply(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	v := testValues()
	f.Fuzz(func(t *testing.T, s string) {
		got := v.Apply(s)
		if !strings.Contains(s, "$(") && got != s {
			t.Errorf("Apply(%q) = %q, want the input unchanged", s, got)
		}
		if got := NewValues().Apply(s); got != s {
			t.Errorf("Apply(%q) with no values = %q, want the input unchanged", s, got)
		}
		args := v.ApplyArgs([]string{s, "x"})
		if len(args) == 0 || args[len(args)-1] != "x" {
			t.Errorf("ApplyArgs([%q x]) = %q, want it to end with x", s, args)
		}
		_ = v.ApplyParam(v1.NewString(s))
		_ = v.ApplyParam(v1.NewArray(s, s))
		_ = v.ApplyParam(v1.NewObject(map[string]string{"k": s}))
	})
}

func FuzzRefs(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		refs := Refs(s)
		if !strings.Contains(s, "$(") && len(refs) != 0 {
			t.Errorf("Refs(%q) = %v, want none", s, refs)
		}
		rest := s
		for _, r := range refs {
			i := strings.Index(rest, r.Raw)
			if i < 0 {
				t.Fatalf("Refs(%q): %q does not occur in order in the input", s, r.Raw)
			}
			rest = rest[i+len(r.Raw):]
			if !strings.HasPrefix(r.Raw, "$(") || !strings.HasSuffix(r.Raw, ")") {
				t.Errorf("Refs(%q): Raw %q is not a $(...) reference", s, r.Raw)
			}
			if r.Root == "" || !strings.HasPrefix(r.Key, r.Root) {
				t.Errorf("Refs(%q): Ref %+v has no root or a key outside it", s, r)
			}
			if r.Star && r.Index != nil {
				t.Errorf("Refs(%q): Ref %+v has both [*] and an index", s, r)
			}
			again := Refs(r.Raw)
			if len(again) != 1 || again[0].Raw != r.Raw {
				t.Errorf("Refs(%q) = %v, want exactly itself", r.Raw, again)
			}
		}
	})
}
