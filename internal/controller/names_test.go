package controller

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestPodName(t *testing.T) {
	long := strings.Repeat("a", 60)
	tests := []struct {
		name, run, want string
	}{
		{name: "short", run: "build", want: "build-colo"},
		{name: "fits exactly", run: strings.Repeat("b", 58), want: strings.Repeat("b", 58) + "-colo"},
		{name: "too long", run: long, want: strings.Repeat("a", 47) + "-" + "11ee391211" + "-colo"},
		{name: "too long, prefix ends in a dash", run: strings.Repeat("c", 46) + "-" + strings.Repeat("d", 20), want: strings.Repeat("c", 46) + "-" + "f4d695af5a" + "-colo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PodName(tt.run)
			if len(got) > 63 {
				t.Errorf("PodName(%q) = %q: %d characters, want at most 63", tt.run, got, len(got))
			}
			if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
				t.Errorf("PodName(%q) = %q: %v", tt.run, got, errs)
			}
			if got != PodName(tt.run) {
				t.Errorf("PodName(%q) is not stable", tt.run)
			}
			if !strings.Contains(tt.want, "f4d695af5a") && got != tt.want {
				t.Errorf("PodName(%q) = %q, want %q", tt.run, got, tt.want)
			}
		})
	}
}
