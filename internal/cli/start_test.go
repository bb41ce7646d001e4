package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

func TestParseParams(t *testing.T) {
	arrDefault := v1.NewArray("x")
	specs := v1.ParamSpecs{
		{Name: "s"},
		{Name: "list", Type: v1.ParamTypeArray},
		{Name: "untyped-list", Default: &arrDefault},
		{Name: "obj", Type: v1.ParamTypeObject, Properties: map[string]v1.PropertySpec{"a": {}}},
	}
	tests := []struct {
		name    string
		flags   []string
		want    v1.Params
		wantErr []string
	}{
		{name: "none"},
		{
			name:  "string keeps commas and equals signs",
			flags: []string{"s=a,b=c"},
			want:  v1.Params{{Name: "s", Value: v1.NewString("a,b=c")}},
		},
		{
			name:  "array from a comma list",
			flags: []string{"list=a,b,c"},
			want:  v1.Params{{Name: "list", Value: v1.NewArray("a", "b", "c")}},
		},
		{
			name:  "array from JSON",
			flags: []string{`list=["a,b","c"]`},
			want:  v1.Params{{Name: "list", Value: v1.NewArray("a,b", "c")}},
		},
		{
			name:  "empty array",
			flags: []string{"list="},
			want:  v1.Params{{Name: "list", Value: v1.NewArray()}},
		},
		{
			name:  "array type inferred from the default",
			flags: []string{"untyped-list=a,b"},
			want:  v1.Params{{Name: "untyped-list", Value: v1.NewArray("a", "b")}},
		},
		{
			name:  "object from JSON",
			flags: []string{`obj={"a":"b"}`},
			want:  v1.Params{{Name: "obj", Value: v1.NewObject(map[string]string{"a": "b"})}},
		},
		{
			name:  "every problem at once",
			flags: []string{"nope=1", "s", "obj=a=b", `list=[1`, "s=1", "s=2"},
			wantErr: []string{
				`-p nope: Pipeline "p" declares no param "nope"`,
				`-p "s": want name=value`,
				`-p obj: object param: "a=b" is not a JSON object`,
				`-p list: array param: "[1" is not a JSON array`,
				`-p s: given twice`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseParams(tc.flags, specs, "Pipeline", "p")
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error; got %v", got)
				}
				lines := strings.Split(err.Error(), "\n")
				if len(lines) != len(tc.wantErr) {
					t.Fatalf("errors:\n%s\nwant %d", err, len(tc.wantErr))
				}
				for i, want := range tc.wantErr {
					if !strings.HasPrefix(lines[i], want) {
						t.Errorf("error %d = %q, want it to start with %q", i, lines[i], want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseWorkspaces(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bindings, dirs, err := parseWorkspaces([]string{"src=" + dir}, []string{"src", "out"}, "Task", "t")
	if err != nil {
		t.Fatal(err)
	}
	if len(bindings) != 1 || bindings[0].Name != "src" || bindings[0].EmptyDir == nil {
		t.Errorf("bindings = %+v, want one emptyDir binding of src", bindings)
	}
	if diff := cmp.Diff(map[string]string{"src": dir}, dirs); diff != "" {
		t.Errorf("host dirs (-want +got):\n%s", diff)
	}

	_, _, err = parseWorkspaces([]string{"nope=" + dir, "src=" + file, "out=" + filepath.Join(dir, "missing"), "out"}, []string{"src", "out"}, "Task", "t")
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`-w nope: Task "t" declares no workspace "nope"`,
		`-w src=` + file + `: not a directory`,
		`-w out=` + filepath.Join(dir, "missing") + `: stat `,
		`-w "out": want name=DIR`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("errors:\n%s", err)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("error %d = %q, want it to start with %q", i, lines[i], want[i])
		}
	}
}
