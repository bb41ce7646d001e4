package podspec

import (
	"encoding/json"
	"fmt"
	"sort"
)

// walkStrings calls f with every string of v's JSON form, map keys in
// order.
func walkStrings(v any, f func(string)) {
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
			for _, k := range sortedKeys(x) {
				walk(x[k])
			}
		}
	}
	walk(tree)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// copyJSON copies a value through JSON (nil stays nil).
func copyJSON[T any](in *T) *T {
	if in == nil {
		return nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		panic(fmt.Sprintf("copy %T: %v", in, err))
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("copy %T: %v", in, err))
	}
	return out
}
