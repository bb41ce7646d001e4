package subst

import (
	"strconv"
	"strings"
)

// Ref is one parsed $(...) reference.
type Ref struct {
	// Raw is the reference as written, including "$(" and ")".
	Raw string
	// Key is its canonical dot form without index or object key, e.g.
	// "params.url", "tasks.build.results.digest", "workspaces.src.path".
	// Bracket segments are unquoted and joined with dots, so
	// $(params["foo.bar"]) has Key "params.foo.bar" and Name "foo.bar",
	// while $(params.foo.bar) has Key "params.foo", Name "foo" and
	// Property "bar".
	Key string
	// Root is the first segment: params, tasks, finally, context,
	// workspaces, results, steps, step, artifacts, credentials, ...
	Root string
	// Name is the second segment (param, task, workspace or result name).
	Name string
	// Property is the object key for $(params.o.k),
	// $(tasks.t.results.r.k), $(finally.t.results.r.k) and
	// $(steps.s.results.r.k), "" otherwise. Everything after the object's
	// name is the property, so $(params.o.a.b) has Property "a.b".
	Property string
	// Index is set for [i]; Star for [*].
	Index *int
	Star  bool
}

// Whole reports whether r names a whole value: no [i] and no object key.
// Such a reference may stand for an array or object where the field allows
// one ($(key) or $(key[*])).
func (r Ref) Whole() bool { return r.Index == nil && r.Property == "" }

// Path returns every segment of r joined with dots, including the object
// key (but no index): "params.o.k" for $(params.o.k).
func (r Ref) Path() string {
	if r.Property == "" {
		return r.Key
	}
	return r.Key + "." + r.Property
}

// Refs returns every $(...) reference in s, in order of appearance. A "$("
// that does not start a well-formed reference (a shell command
// substitution such as $(echo hi), for instance) is skipped, but references
// inside it are still found: $(echo $(params.x)) yields $(params.x).
// Syntactically valid references with any root are returned, including
// $(date); callers decide which roots they accept.
func Refs(s string) []Ref {
	var refs []Ref
	for i := 0; ; {
		j := strings.Index(s[i:], "$(")
		if j < 0 {
			return refs
		}
		j += i
		r, end, ok := parseRef(s, j)
		if !ok {
			i = j + 2
			continue
		}
		refs = append(refs, r)
		i = end
	}
}

// exactRef parses s as exactly one reference, with nothing around it.
func exactRef(s string) (Ref, bool) {
	if !strings.HasPrefix(s, "$(") {
		return Ref{}, false
	}
	r, end, ok := parseRef(s, 0)
	if !ok || end != len(s) {
		return Ref{}, false
	}
	return r, true
}

// maxIndexDigits bounds [i] so that the index always fits an int.
const maxIndexDigits = 9

// parseRef parses the reference starting at s[start:], which begins with
// "$(". It returns the reference and the index just past its ")".
//
// The grammar is: a first segment of name characters, then any number of
// ".name" or ['name'] / ["name"] segments, then optionally one [*] or
// [digits], then ")". Name characters are ASCII letters, digits, "_" and
// "-"; a quoted name may hold any character except its quote, brackets,
// parentheses, "$" and whitespace.
func parseRef(s string, start int) (Ref, int, bool) {
	i := start + 2
	var segs []string
	seg, i, ok := scanName(s, i)
	if !ok {
		return Ref{}, 0, false
	}
	segs = append(segs, seg)
	var r Ref
	for {
		if i >= len(s) {
			return Ref{}, 0, false
		}
		switch s[i] {
		case ')':
			i++
			r.Raw = s[start:i]
			r.fill(segs)
			return r, i, true
		case '.':
			seg, i, ok = scanName(s, i+1)
			if !ok {
				return Ref{}, 0, false
			}
			segs = append(segs, seg)
		case '[':
			i++
			if i >= len(s) {
				return Ref{}, 0, false
			}
			switch c := s[i]; {
			case c == '\'' || c == '"':
				seg, i, ok = scanQuoted(s, i)
				if !ok {
					return Ref{}, 0, false
				}
				segs = append(segs, seg)
			case c == '*':
				if !strings.HasPrefix(s[i:], "*])") {
					return Ref{}, 0, false
				}
				r.Star = true
				i += 2 // now at ')'
			case isDigit(c):
				n, next, ok := scanIndex(s, i)
				if !ok || next+1 >= len(s) || s[next] != ']' || s[next+1] != ')' {
					return Ref{}, 0, false
				}
				r.Index = &n
				i = next + 1 // now at ')'
			default:
				return Ref{}, 0, false
			}
		default:
			return Ref{}, 0, false
		}
	}
}

// fill sets Key, Root, Name and Property from the segments.
func (r *Ref) fill(segs []string) {
	r.Root = segs[0]
	if len(segs) > 1 {
		r.Name = segs[1]
	}
	split := len(segs)
	switch r.Root {
	case "params":
		split = 2
	case "tasks", "finally", "steps":
		if len(segs) > 2 && segs[2] == "results" {
			split = 4
		}
	}
	if split >= len(segs) {
		r.Key = strings.Join(segs, ".")
		return
	}
	r.Key = strings.Join(segs[:split], ".")
	r.Property = strings.Join(segs[split:], ".")
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || c == '-'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanName reads a non-empty run of name characters at s[i:].
func scanName(s string, i int) (string, int, bool) {
	j := i
	for j < len(s) && isNameChar(s[j]) {
		j++
	}
	if j == i {
		return "", 0, false
	}
	return s[i:j], j, true
}

// scanQuoted reads 'name'] or "name"] at s[i:] (s[i] is the quote) and
// returns the name and the index past "]".
func scanQuoted(s string, i int) (string, int, bool) {
	q := s[i]
	j := i + 1
	for j < len(s) && s[j] != q {
		switch c := s[j]; {
		case c == '[' || c == ']' || c == '(' || c == ')' || c == '$':
			return "", 0, false
		case c <= ' ' || c == 0x7f:
			return "", 0, false
		}
		j++
	}
	if j == i+1 || j+1 >= len(s) || s[j+1] != ']' {
		return "", 0, false
	}
	return s[i+1 : j], j + 2, true
}

// scanIndex reads a decimal index without leading zeros at s[i:].
func scanIndex(s string, i int) (int, int, bool) {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j-i > maxIndexDigits || (s[i] == '0' && j-i > 1) {
		return 0, 0, false
	}
	n, err := strconv.Atoi(s[i:j])
	if err != nil {
		return 0, 0, false
	}
	return n, j, true
}
