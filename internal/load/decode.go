package load

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsjson "sigs.k8s.io/json"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Decode decodes obj (an object as read from YAML or JSON, or from the API
// server) into out, a pointer to a typed object, as Files does: keys that
// match a field only case-insensitively are renamed to it, as upstream's
// decoding accepts them (each rename is returned as a warning); unknown and
// duplicate fields are errors with their paths. obj may be changed.
func Decode(obj map[string]any, out any) (warnings []string, err error) {
	warnings, errs := decodeStrict(obj, out)
	return warnings, errors.Join(errs...)
}

// decodeStrict decodes the JSON object doc into out, a pointer to a typed
// object. Keys that match a field of out only case-insensitively are first
// renamed to the field's name (upstream decodes with encoding/json, which
// accepts them); each rename is returned as a warning. Unknown and duplicate
// fields are errors with the field's full path.
func decodeStrict(doc map[string]any, out any) (warnings []string, errs []error) {
	n := normaliser{}
	n.walk(doc, reflect.TypeOf(out), "")
	errs = n.errs
	data, err := json.Marshal(doc)
	if err != nil {
		return n.warnings, append(errs, fmt.Errorf("re-encoding document: %w", err))
	}
	strict, err := sigsjson.UnmarshalStrict(data, out, sigsjson.DisallowUnknownFields, sigsjson.DisallowDuplicateFields)
	if err != nil {
		errs = append(errs, decodeError(err))
	}
	errs = append(errs, strict...)
	return n.warnings, errs
}

// decodeError makes encoding/json's type errors speak in field paths.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("field %q: cannot take a JSON %s as %s", te.Field, te.Value, goTypeName(te.Type))
	}
	return err
}

func goTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// normaliser walks a generic JSON tree beside the Go type it will be decoded
// into. It renames keys that name a field only case-insensitively, and
// reports values of the wrong JSON type with their full path (removing them,
// so that decoding goes on to find every other problem).
type normaliser struct {
	warnings []string
	errs     []error
	// fields caches jsonFields: a Task's steps, for one, share a type.
	fields map[reflect.Type]map[string]reflect.Type
}

func (n *normaliser) jsonFields(t reflect.Type) map[string]reflect.Type {
	f, ok := n.fields[t]
	if !ok {
		if n.fields == nil {
			n.fields = map[reflect.Type]map[string]reflect.Type{}
		}
		f = jsonFields(t)
		n.fields[t] = f
	}
	return f
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	paramValueType  = reflect.TypeFor[v1.ParamValue]()
	durationType    = reflect.TypeFor[metav1.Duration]()
)

// walk checks v against t and returns what should stand in its place: v,
// or nil when v has the wrong type.
func (n *normaliser) walk(v any, t reflect.Type, path string) any {
	if v == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case paramValueType:
		return n.paramValue(v, path)
	case durationType:
		s, ok := v.(string)
		if !ok {
			return n.mismatch(v, "a duration string", path)
		}
		if _, err := time.ParseDuration(s); err != nil {
			n.errs = append(n.errs, fmt.Errorf("field %q: %q is not a duration: %w", path, s, err))
			return nil
		}
		return v
	}
	// Other types that decode themselves (times, quantities, int-or-string,
	// raw extensions) are left to their decoders.
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return v
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return n.mismatch(v, "an object", path)
		}
		fields := n.jsonFields(t)
		for _, k := range sortedKeys(obj) {
			ft, ok := fields[k]
			if !ok {
				name, found := foldMatch(fields, k)
				if !found {
					continue // left for the strict decoder to report
				}
				if _, taken := obj[name]; taken {
					continue // both spellings given: the strict decoder reports the extra one
				}
				n.warnings = append(n.warnings, fmt.Sprintf("field %q read as %q", joinPath(path, k), name))
				obj[name] = obj[k]
				delete(obj, k)
				k, ft = name, fields[name]
			}
			obj[k] = n.walk(obj[k], ft, joinPath(path, k))
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			if _, ok := v.(string); !ok {
				return n.mismatch(v, "a base64 string", path)
			}
			return v
		}
		arr, ok := v.([]any)
		if !ok {
			return n.mismatch(v, "a list", path)
		}
		for i, e := range arr {
			arr[i] = n.walk(e, t.Elem(), path+"["+strconv.Itoa(i)+"]")
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return n.mismatch(v, "an object", path)
		}
		for _, k := range sortedKeys(obj) {
			obj[k] = n.walk(obj[k], t.Elem(), joinPath(path, k))
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return n.mismatch(v, "a string", path)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return n.mismatch(v, "a boolean", path)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		num, ok := v.(json.Number)
		if !ok {
			return n.mismatch(v, "an integer", path)
		}
		if _, err := strconv.ParseInt(string(num), 10, t.Bits()); err != nil {
			return n.mismatch(v, "an integer", path)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		num, ok := v.(json.Number)
		if !ok {
			return n.mismatch(v, "a non-negative integer", path)
		}
		if _, err := strconv.ParseUint(string(num), 10, t.Bits()); err != nil {
			return n.mismatch(v, "a non-negative integer", path)
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			return n.mismatch(v, "a number", path)
		}
	}
	return v
}

// paramValue checks a param value: a scalar, a list of scalars or an object
// of scalars.
func (n *normaliser) paramValue(v any, path string) any {
	scalar := func(e any) bool {
		switch e.(type) {
		case nil, string, bool, json.Number:
			return true
		}
		return false
	}
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			if !scalar(e) {
				n.mismatch(e, "a string", fmt.Sprintf("%s[%d]", path, i))
				return nil
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if !scalar(x[k]) {
				n.mismatch(x[k], "a string", joinPath(path, k))
				return nil
			}
		}
	}
	return v
}

func (n *normaliser) mismatch(v any, want, path string) any {
	n.errs = append(n.errs, fmt.Errorf("field %q must be %s, not %s", path, want, describe(v)))
	return nil
}

// describe names a generic JSON value for a message.
func describe(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %t (YAML reads unquoted y, n, yes, no, on, off, true and false as booleans)", x)
	case json.Number:
		return "the number " + string(x)
	}
	return fmt.Sprintf("%v", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// foldMatch finds the field whose name equals key ignoring case, the way
// encoding/json falls back when no field matches exactly.
func foldMatch(fields map[string]reflect.Type, key string) (string, bool) {
	var names []string
	for name := range fields {
		if strings.EqualFold(name, key) {
			names = append(names, name)
		}
	}
	if len(names) != 1 {
		return "", false
	}
	return names[0], true
}

// jsonFields returns the JSON names of t's fields, with the fields of
// embedded structs promoted as encoding/json promotes them (a shallower
// field wins).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	depth := map[string]int{}
	var visit func(t reflect.Type, d int)
	visit = func(t reflect.Type, d int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			ft := f.Type
			if f.Anonymous && name == "" {
				et := ft
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					visit(et, d+1)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if old, ok := depth[name]; ok && old <= d {
				continue
			}
			depth[name] = d
			out[name] = ft
		}
	}
	visit(t, 0)
	return out
}
