package podspec

import (
	"crypto/sha256"
	"encoding/hex"
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
