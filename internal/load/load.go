package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

// DefaultNamespace is the namespace of objects that name none.
const DefaultNamespace = "default"

// Loader reads documents into a Set. The zero value is ready to use.
type Loader struct {
	// Namer names objects that have only metadata.generateName. Nil means
	// RandomNamer.
	Namer Namer
}

// Files reads the given files and directories with a zero Loader.
func Files(paths ...string) (*Set, error) { return (&Loader{}).Files(paths...) }

// Bytes reads data, named name in messages, with a zero Loader.
func Bytes(name string, data []byte) (*Set, error) { return (&Loader{}).Bytes(name, data) }

// Files reads files and directories. A directory is read recursively for
// *.yaml, *.yml and *.json files (skipping hidden directories below it), in
// lexical order; a file is read whatever its name. It returns everything that
// loaded, and an Errors listing every problem, if any.
func (l *Loader) Files(paths ...string) (*Set, error) {
	var errs Errors
	var docs []*document
	for _, p := range paths {
		files, err := expand(p)
		if err != nil {
			errs = append(errs, &Error{File: p, Err: err})
			continue
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, &Error{File: f, Err: err})
				continue
			}
			d, e := split(f, data)
			docs = append(docs, d...)
			errs = append(errs, e...)
		}
	}
	return l.build(docs, errs)
}

// Bytes reads the documents in data, naming them name in messages.
func (l *Loader) Bytes(name string, data []byte) (*Set, error) {
	docs, errs := split(name, data)
	return l.build(docs, errs)
}

// expand lists the files a path stands for.
func expand(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading directory: %w", err)
	}
	sort.Strings(files)
	return files, nil
}

// document is one decoded document.
type document struct {
	origin       Origin
	kind         string
	name         string // metadata.name, or generateName when generated is set
	generateName bool
	obj          any // typed object, *unstructured.Unstructured, or nil after errors
	warnings     []string
	errs         []error
}

func (d *document) fail(err error) *Error {
	return &Error{File: d.origin.File, Doc: d.origin.Doc, Kind: d.kind, Name: d.name, GenerateName: d.generateName, Err: err}
}

// split reads the YAML documents of one file and decodes each.
func split(file string, data []byte) ([]*document, Errors) {
	var docs []*document
	var errs Errors
	for i, raw := range splitYAML(data) {
		origin := Origin{File: file, Doc: i + 1}
		ds, err := decodeDocument(origin, raw.data, raw.line)
		if err != nil {
			errs = append(errs, &Error{File: file, Doc: origin.Doc, Err: err})
			continue
		}
		for _, d := range ds {
			for _, e := range d.errs {
				errs = append(errs, d.fail(e))
			}
			if d.obj != nil {
				docs = append(docs, d)
			}
		}
	}
	return docs, errs
}

// rawDocument is one YAML document of a file and the line it starts on.
type rawDocument struct {
	data []byte
	line int
}

// splitYAML splits a YAML stream at its "---" lines. A separator line stays
// with the document it opens (a YAML parser reads it as that document's
// start). Parts holding only blank lines and comments are dropped.
func splitYAML(data []byte) []rawDocument {
	var docs []rawDocument
	var cur []byte
	start, blank := 1, true
	flush := func() {
		if !blank {
			docs = append(docs, rawDocument{data: cur, line: start})
		}
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	for i, line := range lines {
		if isSeparator(line) {
			flush()
			cur, start, blank = nil, i+1, true
		}
		cur = append(cur, line...)
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] != '#' && !isSeparator(line) {
			blank = false
		}
		if isSeparator(line) {
			rest := bytes.TrimSpace(line[3:])
			if len(rest) > 0 && rest[0] != '#' {
				blank = false
			}
		}
	}
	flush()
	return docs
}

func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := line[3:]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r'
}

var lineRef = regexp.MustCompile(`\bline (\d+)\b`)

// yamlError rewrites a YAML parser's message so its line numbers count from
// the start of the file rather than of the document.
func yamlError(err error, firstLine int) error {
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:")
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = strings.Join(strings.Fields(msg), " ")
	msg = lineRef.ReplaceAllStringFunc(msg, func(m string) string {
		n, err := strconv.Atoi(strings.TrimPrefix(m, "line "))
		if err != nil {
			return m
		}
		return "line " + strconv.Itoa(n+firstLine-1)
	})
	return errors.New(msg)
}

// decodeDocument decodes one YAML document: nothing for an empty one, the
// items of a List, or one object.
func decodeDocument(origin Origin, raw []byte, firstLine int) ([]*document, error) {
	j, err := yaml.YAMLToJSONStrict(raw)
	if err != nil {
		return nil, yamlError(err, firstLine)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	if generic == nil {
		return nil, nil // empty document
	}
	obj, ok := generic.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("document is not an object")
	}
	if apiVersion(obj) == "v1" && stringAt(obj, "kind") == "List" {
		items, ok := obj["items"].([]any)
		if !ok && obj["items"] != nil {
			return nil, fmt.Errorf("List items is not a list")
		}
		var docs []*document
		for i, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("List items[%d] is not an object", i)
			}
			docs = append(docs, decodeObject(origin, m))
		}
		return docs, nil
	}
	return []*document{decodeObject(origin, obj)}, nil
}

func apiVersion(obj map[string]any) string { return stringAt(obj, "apiVersion") }

func stringAt(obj map[string]any, key string) string {
	s, _ := obj[key].(string)
	return s
}

// decodeObject decodes one object by its apiVersion and kind.
func decodeObject(origin Origin, obj map[string]any) *document {
	d := &document{origin: origin, kind: stringAt(obj, "kind")}
	if md, ok := obj["metadata"].(map[string]any); ok {
		d.name = stringAt(md, "name")
		if d.name == "" {
			d.name = stringAt(md, "generateName")
			d.generateName = d.name != ""
		}
	}
	av := apiVersion(obj)
	switch {
	case av == "":
		d.errs = append(d.errs, errors.New("apiVersion is missing"))
		return d
	case d.kind == "":
		d.errs = append(d.errs, errors.New("kind is missing"))
		return d
	}
	gv, err := schema.ParseGroupVersion(av)
	if err != nil {
		d.errs = append(d.errs, fmt.Errorf("apiVersion %q: %w", av, err))
		return d
	}
	var typed any
	switch {
	case gv.Group == v1.GroupName:
		typed, err = newTekton(gv.Version, d.kind)
		if err != nil {
			d.errs = append(d.errs, err)
			return d
		}
	case gv.Group == "" && gv.Version == "v1":
		typed = newCore(d.kind)
	}
	if typed == nil {
		u := &unstructured.Unstructured{Object: obj}
		d.obj = u
		return d
	}
	warnings, errs := decodeStrict(obj, typed)
	for _, w := range warnings {
		d.warnings = append(d.warnings, w)
	}
	d.errs = append(d.errs, errs...)
	meta := objectMeta(typed)
	if meta.Name == "" && meta.GenerateName == "" {
		d.errs = append(d.errs, errors.New("metadata.name is missing (and there is no metadata.generateName)"))
	}
	if len(d.errs) > 0 {
		return d
	}
	if meta.Namespace == "" {
		meta.Namespace = DefaultNamespace
	}
	d.obj = typed
	return d
}

// newTekton returns an empty object of a tekton.dev kind colo reads.
func newTekton(version, kind string) (any, error) {
	switch version {
	case v1.Version:
		switch kind {
		case v1.KindTask:
			return &v1.Task{}, nil
		case v1.KindTaskRun:
			return &v1.TaskRun{}, nil
		case v1.KindPipeline:
			return &v1.Pipeline{}, nil
		case v1.KindPipelineRun:
			return &v1.PipelineRun{}, nil
		case v1.KindStepAction:
			return nil, errors.New("there is no tekton.dev/v1 StepAction: write apiVersion tekton.dev/v1beta1 (or v1alpha1)")
		}
	case "v1beta1", "v1alpha1":
		if kind == v1.KindStepAction {
			return &v1beta1.StepAction{}, nil
		}
		switch kind {
		case v1.KindTask, v1.KindTaskRun, v1.KindPipeline, v1.KindPipelineRun:
			return nil, fmt.Errorf("tekton.dev/%s %s is not supported: colo reads tekton.dev/v1 (convert it to apiVersion tekton.dev/v1)", version, kind)
		}
	}
	return nil, fmt.Errorf("tekton.dev/%s %s is not supported: colo reads tekton.dev/v1 Task, TaskRun, Pipeline and PipelineRun, and StepAction (tekton.dev/v1beta1 or v1alpha1)", version, kind)
}

// newCore returns an empty core/v1 object of a kind runs can use, or nil.
func newCore(kind string) any {
	switch kind {
	case "Secret":
		return &corev1.Secret{}
	case "ConfigMap":
		return &corev1.ConfigMap{}
	case "PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}
	case "ServiceAccount":
		return &corev1.ServiceAccount{}
	}
	return nil
}

func objectMeta(obj any) *metav1.ObjectMeta {
	switch o := obj.(type) {
	case *v1.Task:
		return &o.ObjectMeta
	case *v1.TaskRun:
		return &o.ObjectMeta
	case *v1.Pipeline:
		return &o.ObjectMeta
	case *v1.PipelineRun:
		return &o.ObjectMeta
	case *v1beta1.StepAction:
		return &o.ObjectMeta
	case *corev1.Secret:
		return &o.ObjectMeta
	case *corev1.ConfigMap:
		return &o.ObjectMeta
	case *corev1.PersistentVolumeClaim:
		return &o.ObjectMeta
	case *corev1.ServiceAccount:
		return &o.ObjectMeta
	}
	panic(fmt.Sprintf("load: no metadata for %T", obj))
}

// build names generateName objects and puts every document into a new Set.
func (l *Loader) build(docs []*document, errs Errors) (*Set, error) {
	namer := l.Namer
	if namer == nil {
		namer = RandomNamer()
	}
	s := NewSet()
	// Explicit names first, so that a generated name never takes one.
	taken := map[objKey]bool{}
	for _, d := range docs {
		if _, ok := d.obj.(*unstructured.Unstructured); ok || d.generateName {
			continue
		}
		taken[objKey{d.kind, d.name}] = true
	}
	for _, d := range docs {
		for _, w := range d.warnings {
			s.Warnings = append(s.Warnings, d.fail(errors.New(w)).Error())
		}
		if u, ok := d.obj.(*unstructured.Unstructured); ok {
			s.Other = append(s.Other, u)
			continue
		}
		meta := objectMeta(d.obj)
		if d.generateName {
			meta.Name = generate(namer, meta.GenerateName, d.kind, taken)
		}
		if err := s.add(d.kind, d.obj, d.origin); err != nil {
			errs = append(errs, d.fail(err))
		}
	}
	return s, errs.err()
}

// generate returns a name for generateName prefix that no object of kind
// has yet.
func generate(namer Namer, prefix, kind string, taken map[objKey]bool) string {
	var name string
	for range 100 {
		name = namer(prefix)
		if !taken[objKey{kind, name}] {
			break
		}
	}
	taken[objKey{kind, name}] = true
	return name
}
