package subst

import (
	"encoding/json"
	"strconv"
	"strings"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Apply replaces every reference in s that v has a string value for,
// including $(key[i]) of arrays and $(key.k) of objects. It never expands
// [*]; such references stay as written. References v has no value for,
// out-of-range indexes and text that is not a reference (a shell $(cmd))
// stay as written. Replaced text is not scanned again.
//
// A dotted reference such as $(params.foo.bar) is first looked up as key
// "bar" of object "params.foo", then as the string "params.foo.bar" (a
// param named foo.bar). A quoted segment is one name: $(params["foo.bar"])
// only reads the string "params.foo.bar".
func (v *Values) Apply(s string) string {
	if v == nil || !strings.Contains(s, "$(") {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; ; {
		j := strings.Index(s[i:], "$(")
		if j < 0 {
			break
		}
		j += i
		r, end, ok := parseRef(s, j)
		if !ok {
			i = j + 2
			continue
		}
		i = end
		val, ok := v.lookup(r)
		if !ok {
			continue
		}
		b.WriteString(s[last:j])
		b.WriteString(val)
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// lookup returns the string value of one reference that is not [*], or
// the rewritten reference of an alias.
func (v *Values) lookup(r Ref) (string, bool) {
	if target, ok := v.Aliases[r.Key]; ok {
		return aliased(target, r), true
	}
	switch {
	case r.Star:
		return "", false
	case r.Index != nil:
		arr, ok := v.Arrays[r.Path()]
		if !ok || *r.Index >= len(arr) {
			return "", false
		}
		return arr[*r.Index], true
	case r.Property != "":
		if val, ok := v.Objects[r.Key][r.Property]; ok {
			return val, true
		}
	}
	val, ok := v.Strings[r.Path()]
	return val, ok
}

// aliased returns reference r rewritten to name target instead of r.Key.
func aliased(target string, r Ref) string {
	var b strings.Builder
	b.WriteString("$(")
	b.WriteString(target)
	switch {
	case r.Star:
		b.WriteString("[*]")
	case r.Index != nil:
		b.WriteString("[" + strconv.Itoa(*r.Index) + "]")
	case r.Property != "":
		b.WriteString("." + r.Property)
	}
	b.WriteString(")")
	return b.String()
}

// wholeArray returns the array s stands for if s is exactly one $(key[*])
// or $(key) reference to an array v holds.
func (v *Values) wholeArray(s string) ([]string, bool) {
	if v == nil {
		return nil, false
	}
	r, ok := exactRef(s)
	if !ok || r.Index != nil {
		return nil, false
	}
	arr, ok := v.Arrays[r.Path()]
	return arr, ok
}

// wholeObject returns the object s stands for if s is exactly one $(key[*])
// or $(key) reference to an object v holds.
func (v *Values) wholeObject(s string) (map[string]string, bool) {
	if v == nil {
		return nil, false
	}
	r, ok := exactRef(s)
	if !ok || r.Index != nil {
		return nil, false
	}
	obj, ok := v.Objects[r.Path()]
	return obj, ok
}

// ApplyArgs replaces in each element; an element that is exactly one
// $(key[*]) reference to an array expands in place into the array's
// elements (upstream's args/command rule; $(key) without [*] expands the
// same way). It returns a new slice (nil for nil) and leaves ss unchanged.
func (v *Values) ApplyArgs(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if arr, ok := v.wholeArray(s); ok {
			out = append(out, arr...)
			continue
		}
		out = append(out, v.Apply(s))
	}
	return out
}

// ApplyParam substitutes a param value: a string that is exactly one
// $(key[*]) of an array (or object) becomes that array (object); array
// elements that are exactly $(key[*]) expand in place; object values and
// other strings are substituted as strings. As upstream, $(key) without
// [*] counts as a whole reference too. The result shares no memory with p.
func (v *Values) ApplyParam(p v1.ParamValue) v1.ParamValue {
	switch p.Type {
	case v1.ParamTypeArray:
		out := v1.ParamValue{Type: v1.ParamTypeArray, ArrayVal: v.ApplyArgs(p.ArrayVal)}
		return out
	case v1.ParamTypeObject:
		out := v1.ParamValue{Type: v1.ParamTypeObject}
		if p.ObjectVal != nil {
			out.ObjectVal = make(map[string]string, len(p.ObjectVal))
			for k, s := range p.ObjectVal {
				out.ObjectVal[k] = v.Apply(s)
			}
		}
		return out
	}
	if arr, ok := v.wholeArray(p.StringVal); ok {
		return v1.NewArray(append([]string{}, arr...)...)
	}
	if obj, ok := v.wholeObject(p.StringVal); ok {
		cp := make(map[string]string, len(obj))
		for k, s := range obj {
			cp[k] = s
		}
		return v1.NewObject(cp)
	}
	return v1.ParamValue{Type: p.Type, StringVal: v.Apply(p.StringVal)}
}

// applyWhenInput substitutes a when expression's input: an input that is
// exactly one $(key[*]) of an array renders as the array's JSON text, as
// upstream does; anything else is substituted as a string.
func (v *Values) applyWhenInput(s string) string {
	if arr, ok := v.wholeArray(s); ok {
		b, err := json.Marshal(arr)
		if err == nil {
			return string(b)
		}
	}
	return v.Apply(s)
}
