package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// podSuffix ends the name of every Pod the controller makes.
const podSuffix = "-colo"

// maxPodName keeps Pod names usable as label values and host names.
const maxPodName = 63

// PodName is the name of the Pod that runs the run named run: run + "-colo",
// or, when that would be longer than 63 characters, a prefix of run, a hash
// of the whole name and "-colo". The same run always gets the same name, so
// the controller can never create a second Pod for it.
func PodName(run string) string {
	if len(run)+len(podSuffix) <= maxPodName {
		return run + podSuffix
	}
	sum := sha256.Sum256([]byte(run))
	h := hex.EncodeToString(sum[:])[:10]
	prefix := strings.TrimRight(run[:maxPodName-len(podSuffix)-len(h)-1], "-.")
	return prefix + "-" + h + podSuffix
}

// containsFold reports whether substr is in s, ignoring case.
func containsFold(s, substr string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(substr))
}
