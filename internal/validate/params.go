package validate

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

var (
	// paramNameRE is what a string or array param name must match.
	paramNameRE = regexp.MustCompile(`^[_a-zA-Z][_a-zA-Z0-9.-]*$`)
	// objectNameRE is what an object param name or key must match: no dots.
	objectNameRE = regexp.MustCompile(`^[_a-zA-Z][_a-zA-Z0-9-]*$`)
	// resultNameRE is what a result name must match.
	resultNameRE = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
)

var paramTypes = []string{string(v1.ParamTypeString), string(v1.ParamTypeArray), string(v1.ParamTypeObject)}

// article returns "a string", "an array", "an object".
func article(t v1.ParamType) string {
	switch t {
	case v1.ParamTypeArray, v1.ParamTypeObject:
		return "an " + string(t)
	}
	return "a " + string(t)
}

// paramSpecs checks param declarations (already defaulted).
func (s *sink) paramSpecs(ps v1.ParamSpecs, p *field.Path) {
	seen := map[string]bool{}
	for i, spec := range ps {
		pp := p.Index(i)
		np := pp.Child("name")
		switch {
		case spec.Name == "":
			s.add(field.Required(np, ""), "")
		case spec.Type == v1.ParamTypeObject && !objectNameRE.MatchString(spec.Name):
			s.add(field.Invalid(np, spec.Name, "an object param name must match "+objectNameRE.String()+" (no dots)"), "")
		case !paramNameRE.MatchString(spec.Name):
			s.add(field.Invalid(np, spec.Name, "a param name must match "+paramNameRE.String()), "")
		}
		if spec.Name != "" {
			if seen[spec.Name] {
				s.add(field.Duplicate(np, spec.Name), "")
			}
			seen[spec.Name] = true
		}
		if !validType(spec.Type) {
			s.add(field.NotSupported(pp.Child("type"), spec.Type, paramTypes), "")
			continue
		}
		if spec.Default != nil && spec.Default.Type != "" && spec.Default.Type != spec.Type {
			s.add(field.Invalid(pp.Child("default"), spec.Default.String(),
				fmt.Sprintf("param %q is %s, but its default is %s", spec.Name, article(spec.Type), article(spec.Default.Type))), "")
		}
		s.properties(spec.Type, spec.Properties, pp.Child("properties"), "param")
		if len(spec.Enum) > 0 {
			ep := pp.Child("enum")
			if spec.Type != v1.ParamTypeString {
				s.add(field.Forbidden(ep, "enum is only for string params"), "")
			}
			vals := map[string]bool{}
			for j, e := range spec.Enum {
				if vals[e] {
					s.add(field.Duplicate(ep.Index(j), e), "")
				}
				vals[e] = true
			}
			if spec.Default != nil && spec.Default.Type == v1.ParamTypeString && !vals[spec.Default.StringVal] {
				s.add(field.NotSupported(pp.Child("default"), spec.Default.StringVal, spec.Enum), "")
			}
		}
	}
}

func validType(t v1.ParamType) bool {
	return t == v1.ParamTypeString || t == v1.ParamTypeArray || t == v1.ParamTypeObject
}

// properties checks the properties of an object param or result: required
// for an object, keys without dots, each of type string.
func (s *sink) properties(t v1.ParamType, props map[string]v1.PropertySpec, p *field.Path, what string) {
	if t != v1.ParamTypeObject {
		if props != nil {
			s.add(field.Forbidden(p, "properties are only for object "+what+"s"), "")
		}
		return
	}
	if props == nil {
		s.add(field.Required(p, "an object "+what+" needs properties"), "")
		return
	}
	for _, k := range sortedKeys(props) {
		if what == "param" && !objectNameRE.MatchString(k) {
			s.add(field.Invalid(p.Key(k), k, "an object key must match "+objectNameRE.String()+" (no dots)"), "")
		}
		if pt := props[k].Type; pt != v1.ParamTypeString {
			s.add(field.NotSupported(p.Key(k).Child("type"), pt, []string{string(v1.ParamTypeString)}), "")
		}
	}
}

// missingKeys lists the properties obj lacks, sorted.
func missingKeys(props map[string]v1.PropertySpec, obj map[string]string) []string {
	var missing []string
	for k := range props {
		if _, ok := obj[k]; !ok {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	return missing
}

// paramValues checks values given for declared params: every param
// without a default is given, each value has the declared type, objects
// have every key, and enum params get an allowed value. given maps a name
// to its value's path and type ("" when only known at run time); extra
// names are fine. reasons says which reason each kind of problem carries.
type valueReasons struct {
	missing, mismatch, keys, enum string
}

type givenValue struct {
	path  *field.Path
	value v1.ParamValue
	// typ is the value's type, "" when it is only known at run time.
	typ v1.ParamType
}

func (s *sink) paramValues(specs v1.ParamSpecs, given map[string]givenValue, provided func(name string) bool, p *field.Path, whose string, r valueReasons) {
	for _, spec := range specs {
		g, ok := given[spec.Name]
		if !ok {
			if spec.Default == nil && (provided == nil || !provided(spec.Name)) {
				s.add(field.Required(p, fmt.Sprintf("%s param %q has no default and no value is given", whose, spec.Name)), r.missing)
			}
			continue
		}
		if g.typ != "" && validType(spec.Type) && g.typ != spec.Type {
			s.add(field.Invalid(g.path, g.value.String(),
				fmt.Sprintf("%s param %q is %s, but the value is %s", whose, spec.Name, article(spec.Type), article(g.typ))), r.mismatch)
			continue
		}
		if spec.Type == v1.ParamTypeObject && g.value.Type == v1.ParamTypeObject && spec.Properties != nil {
			var deflt map[string]string
			if spec.Default != nil {
				deflt = spec.Default.ObjectVal
			}
			var missing []string
			for _, k := range missingKeys(spec.Properties, g.value.ObjectVal) {
				if _, ok := deflt[k]; !ok {
					missing = append(missing, k)
				}
			}
			if len(missing) > 0 {
				s.add(field.Invalid(g.path, g.value.String(),
					fmt.Sprintf("%s param %q needs keys %s", whose, spec.Name, strings.Join(missing, ", "))), r.keys)
			}
		}
		if len(spec.Enum) > 0 && g.typ == v1.ParamTypeString && !strings.Contains(g.value.StringVal, "$(") {
			allowed := false
			for _, e := range spec.Enum {
				allowed = allowed || e == g.value.StringVal
			}
			if !allowed {
				s.add(field.NotSupported(g.path, g.value.StringVal, spec.Enum), r.enum)
			}
		}
	}
}

// runParams checks the params of a run: names and no duplicates (upstream
// compares them case-insensitively).
func (s *sink) runParams(ps v1.Params, p *field.Path) {
	seen := map[string]bool{}
	for i, param := range ps {
		np := p.Index(i).Child("name")
		if param.Name == "" {
			s.add(field.Required(np, ""), "")
			continue
		}
		k := strings.ToLower(param.Name)
		if seen[k] {
			s.add(field.Duplicate(np, param.Name), "")
		}
		seen[k] = true
	}
}
