package v1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// ParamType is the type of a parameter or result value.
type ParamType string

// The three value types Tekton knows.
const (
	ParamTypeString ParamType = "string"
	ParamTypeArray  ParamType = "array"
	ParamTypeObject ParamType = "object"
)

// ResultsType is the type of a result; it shares ParamType's values.
type ResultsType = ParamType

// PropertySpec is the type of one key of an object param or result.
type PropertySpec struct {
	Type ParamType `json:"type,omitempty"`
}

// ParamSpec declares a parameter of a Task, Pipeline or StepAction.
type ParamSpec struct {
	Name        string                  `json:"name"`
	Type        ParamType               `json:"type,omitempty"`
	Description string                  `json:"description,omitempty"`
	Properties  map[string]PropertySpec `json:"properties,omitempty"`
	Default     *ParamValue             `json:"default,omitempty"`
	Enum        []string                `json:"enum,omitempty"`
}

// ParamSpecs is an ordered list of parameter declarations.
type ParamSpecs []ParamSpec

// Param is a value given to a parameter.
type Param struct {
	Name  string     `json:"name"`
	Value ParamValue `json:"value"`
}

// Params is an ordered list of parameter values.
type Params []Param

// ParamValue holds a string, an array of strings or an object of strings.
// It decodes the way upstream does: a JSON array is an array, a JSON object
// is an object, and anything else (a string, but also a YAML number or
// boolean) is a string.
type ParamValue struct {
	Type      ParamType
	StringVal string
	ArrayVal  []string
	ObjectVal map[string]string
}

// NewString returns a string value.
func NewString(s string) ParamValue { return ParamValue{Type: ParamTypeString, StringVal: s} }

// NewArray returns an array value.
func NewArray(a ...string) ParamValue {
	if a == nil {
		a = []string{}
	}
	return ParamValue{Type: ParamTypeArray, ArrayVal: a}
}

// NewObject returns an object value.
func NewObject(o map[string]string) ParamValue {
	if o == nil {
		o = map[string]string{}
	}
	return ParamValue{Type: ParamTypeObject, ObjectVal: o}
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *ParamValue) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		*v = ParamValue{Type: ParamTypeString}
		return nil
	}
	switch data[0] {
	case '[':
		var raw []json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			return err
		}
		arr := make([]string, 0, len(raw))
		for i, r := range raw {
			s, err := scalarString(r)
			if err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
			arr = append(arr, s)
		}
		*v = ParamValue{Type: ParamTypeArray, ArrayVal: arr}
		return nil
	case '{':
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			return err
		}
		obj := make(map[string]string, len(raw))
		for k, r := range raw {
			s, err := scalarString(r)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			obj[k] = s
		}
		*v = ParamValue{Type: ParamTypeObject, ObjectVal: obj}
		return nil
	}
	s, err := scalarString(data)
	if err != nil {
		return err
	}
	*v = ParamValue{Type: ParamTypeString, StringVal: s}
	return nil
}

// scalarString reads a JSON string, number or boolean as text.
func scalarString(data []byte) (string, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	if len(data) > 0 && (data[0] == '[' || data[0] == '{') {
		return "", fmt.Errorf("expected a string, got %s", data)
	}
	if string(data) == "null" {
		return "", nil
	}
	return string(data), nil
}

// MarshalJSON implements json.Marshaler.
func (v ParamValue) MarshalJSON() ([]byte, error) {
	switch v.Type {
	case ParamTypeArray:
		if v.ArrayVal == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(v.ArrayVal)
	case ParamTypeObject:
		if v.ObjectVal == nil {
			return []byte("{}"), nil
		}
		return json.Marshal(v.ObjectVal)
	default:
		return json.Marshal(v.StringVal)
	}
}

// String renders the value as text: a string as itself, an array or object as JSON.
func (v ParamValue) String() string {
	if v.Type == ParamTypeString || v.Type == "" {
		return v.StringVal
	}
	b, _ := v.MarshalJSON()
	return string(b)
}

// DeepCopy returns an independent copy.
func (v ParamValue) DeepCopy() ParamValue {
	out := ParamValue{Type: v.Type, StringVal: v.StringVal}
	if v.ArrayVal != nil {
		out.ArrayVal = append([]string{}, v.ArrayVal...)
	}
	if v.ObjectVal != nil {
		out.ObjectVal = make(map[string]string, len(v.ObjectVal))
		for k, x := range v.ObjectVal {
			out.ObjectVal[k] = x
		}
	}
	return out
}

// ObjectKeys returns an object value's keys in sorted order.
func (v ParamValue) ObjectKeys() []string {
	keys := make([]string, 0, len(v.ObjectVal))
	for k := range v.ObjectVal {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Lookup returns the param with the given name.
func (ps Params) Lookup(name string) (Param, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Lookup returns the declaration with the given name.
func (ps ParamSpecs) Lookup(name string) (ParamSpec, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return ParamSpec{}, false
}
