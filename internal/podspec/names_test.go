package podspec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestNamer(t *testing.T) {
	long := strings.Repeat("x", 40)
	n := newNamer("colo-orchestrator")
	got := []string{
		n.name("build", "compile"),
		n.name("build", "compile"),     // taken: hashed
		n.name("a-b", "c"),             // a-b-c
		n.name("a", "b-c"),             // would also be a-b-c
		n.name(long, long),             // too long
		n.name("colo", "orchestrator"), // reserved
	}
	want := []string{
		"build-compile",
		"build-compile-419e3ec0",
		"a-b-c",
		"a-b-c-02654a5c",
		long + "-" + long[:13] + "-b21d763e",
		"colo-orchestrator-e89dac4e",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	for _, name := range got {
		if !validLabel(name) {
			t.Errorf("%q is not a DNS-1123 label", name)
		}
	}
	// The same parts in the same order give the same names.
	again := newNamer("colo-orchestrator")
	if a, b := again.name("build", "compile"), again.name("build", "compile"); a != want[0] || b != want[1] {
		t.Errorf("a second namer gave %q, %q", a, b)
	}
}

func TestPeak(t *testing.T) {
	w := func(cpu int64) map[corev1.ResourceName]int64 {
		return map[corev1.ResourceName]int64{corev1.ResourceCPU: cpu}
	}
	// order lists the pairs (a, b) with a before b, transitively closed.
	type pair struct{ a, b int }
	tests := []struct {
		name    string
		weights []int64
		before  []pair
		want    int64
	}{
		{"one task", []int64{500}, nil, 500},
		{"a chain runs one at a time", []int64{1000, 3000, 2000}, []pair{{0, 1}, {1, 2}, {0, 2}}, 3000},
		{"all in parallel", []int64{1000, 2000, 3000}, nil, 6000},
		{"diamond: the middle together", []int64{1000, 2000, 1000, 2500}, []pair{{0, 1}, {0, 2}, {0, 3}, {1, 3}, {2, 3}}, 3000},
		{"diamond with a heavy end", []int64{1000, 2000, 1000, 4000}, []pair{{0, 1}, {0, 2}, {0, 3}, {1, 3}, {2, 3}}, 4000},
		{"a long branch beside a short one", []int64{100, 100, 100, 5000}, []pair{{0, 1}, {1, 2}, {0, 2}}, 5100},
		{"zero weights", []int64{0, 0}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ws []map[corev1.ResourceName]int64
			for _, x := range tt.weights {
				ws = append(ws, w(x))
			}
			before := func(a, b int) bool {
				for _, p := range tt.before {
					if p.a == a && p.b == b {
						return true
					}
				}
				return false
			}
			if got := peak(ws, before)[corev1.ResourceCPU]; got != tt.want {
				t.Errorf("peak = %d, want %d", got, tt.want)
			}
		})
	}
}
