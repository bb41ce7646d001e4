package engine

import (
	"crypto/md5" //nolint:gosec // names, not security
	"encoding/hex"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Kubernetes name limits, as knative's kmeta.ChildName applies them.
const (
	longestName = 63
	md5Len      = 32
	nameHead    = longestName - md5Len
)

// childName returns parent+suffix, shortened as upstream shortens a child
// object's name: a long parent is cut and followed by its MD5.
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

func runtimeTypeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: kind}
}

// walkSpecStrings calls f with every string of a value's JSON form.
func walkSpecStrings(v any, f func(string)) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		return
	}
	var walk func(any)
	walk = func(n any) {
		switch x := n.(type) {
		case string:
			f(x)
		case []any:
			for _, c := range x {
				walk(c)
			}
		case map[string]any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(tree)
}
