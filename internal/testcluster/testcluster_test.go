package testcluster

import (
	"strings"
	"testing"
)

func TestSanitizeLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"TestPod", "TestPod"},
		{"TestPod/with_init containers", "TestPod_with_init_containers"},
		{"-x-", "x"},
		{strings.Repeat("a", 70), strings.Repeat("a", 63)},
	}
	for _, tt := range tests {
		if got := sanitizeLabel(tt.in); got != tt.want {
			t.Errorf("sanitizeLabel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
