package podspec

import (
	"crypto/md5" //nolint:gosec // names, not security
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// maxName is the longest DNS-1123 label: a container's or volume's name.
const maxName = 63

// namer hands out unique DNS-1123 labels. A name is its parts joined with
// "-"; one that is too long, or already taken, is cut and followed by a
// hash of all its parts, so the same parts in the same order always get the
// same name and different parts never share one.
type namer struct {
	used map[string]bool
}

func newNamer(reserved ...string) *namer {
	n := &namer{used: map[string]bool{}}
	for _, r := range reserved {
		n.used[r] = true
	}
	return n
}

// name returns a unique label for parts (each a DNS-1123 label or number).
func (n *namer) name(parts ...string) string {
	s := strings.Join(parts, "-")
	if len(s) <= maxName && !n.used[s] && validLabel(s) {
		n.used[s] = true
		return s
	}
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	sum := hex.EncodeToString(h[:])
	for k := 8; ; k += 4 {
		suffix := sum[:k]
		head := s
		if len(head) > maxName-1-len(suffix) {
			head = head[:maxName-1-len(suffix)]
		}
		head = strings.TrimRight(head, "-")
		c := suffix
		if head != "" {
			c = head + "-" + suffix
		}
		if !n.used[c] {
			n.used[c] = true
			return c
		}
	}
}

// validLabel reports whether s is a DNS-1123 label.
func validLabel(s string) bool {
	if s == "" || len(s) > maxName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// Kubernetes name limits, as upstream's child names (knative's
// kmeta.ChildName) apply them.
const (
	longestName = 63
	md5Len      = 32
	nameHead    = longestName - md5Len
)

// childName returns parent+suffix, shortened as upstream shortens a child
// object's name: a long parent is cut and followed by its MD5. The engine
// names TaskRuns this way; the Pod's layout must use the same names.
func childName(parent, suffix string) string {
	n := parent
	if len(parent) > longestName-len(suffix) {
		if nameHead-len(suffix) <= 0 {
			h := md5.Sum([]byte(parent + suffix)) //nolint:gosec
			if nameHead < len(parent) {
				parent = parent[:nameHead]
			}
			ret := parent + hex.EncodeToString(h[:])
			if d := longestName - len(ret); d > 0 {
				ret += suffix[:d]
			}
			return trimInvalidEnd(ret)
		}
		n = fmt.Sprintf("%s%x", parent[:nameHead-len(suffix)], md5.Sum([]byte(parent))) //nolint:gosec
	}
	return n + suffix
}

func trimInvalidEnd(n string) string {
	for len(n) > 0 {
		c := n[len(n)-1]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			break
		}
		n = n[:len(n)-1]
	}
	return n
}

// runNames returns the names of a pipeline task's TaskRuns as the engine
// makes them: <pr>-<pt>, or <pr>-<pt>-<i> for each of n matrix runs (n < 0:
// no matrix), at most 63 characters.
func runNames(pr, pt string, n int) []string {
	if n < 0 {
		return []string{childName(pr, "-"+pt)}
	}
	var out []string
	for i := 0; i < n; i++ {
		suffix := fmt.Sprintf("-%d", i)
		name := childName(pr, fmt.Sprintf("-%s-%d", pt, i))
		if !strings.HasSuffix(name, suffix) {
			name = childName(pr, "-"+pt)
			longest := 63 - len(fmt.Sprintf("-%d", n))
			if len(name) > longest {
				name = name[:longest]
			}
			name += suffix
		}
		out = append(out, name)
	}
	return out
}
