package load

import (
	"fmt"
	"strings"
)

// Error is a problem with one document.
type Error struct {
	// File is the path the document was read from, as given.
	File string
	// Doc is the document's 1-based position in its file.
	Doc int
	// Kind and Name identify the object, as far as they are known. Name is
	// the generateName prefix for an object that has only that.
	Kind, Name string
	// GenerateName says Name is a generateName prefix.
	GenerateName bool
	// Err is the problem.
	Err error
}

func (e *Error) Error() string {
	return e.Where() + ": " + e.Err.Error()
}

// Unwrap returns the problem.
func (e *Error) Unwrap() error { return e.Err }

// Where names the document: `file: Kind "name"`, or by its position when it
// has no kind or name, or just the file for a problem with the whole file.
func (e *Error) Where() string {
	if e.Doc == 0 {
		return e.File
	}
	var b strings.Builder
	b.WriteString(e.File)
	b.WriteString(": ")
	switch {
	case e.Kind == "":
		fmt.Fprintf(&b, "document %d", e.Doc)
	case e.Name != "" && e.GenerateName:
		fmt.Fprintf(&b, "%s with generateName %q", e.Kind, e.Name)
	case e.Name != "":
		fmt.Fprintf(&b, "%s %q", e.Kind, e.Name)
	default:
		fmt.Fprintf(&b, "document %d (%s)", e.Doc, e.Kind)
	}
	return b.String()
}

// Errors is every problem found while loading.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// err returns es as an error, or nil when there are none.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
