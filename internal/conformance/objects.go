package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// decodeObjects reads every object of a YAML or JSON file, skipping empty
// documents.
func decodeObjects(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		obj := map[string]any{}
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(out)+1, err)
		}
		if len(obj) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: obj})
	}
}

// encodeObjects writes objects as one multi-document YAML stream (each
// document JSON, which is YAML).
func encodeObjects(objs []*unstructured.Unstructured) ([]byte, error) {
	var b bytes.Buffer
	for _, u := range objs {
		j, err := json.Marshal(u.Object)
		if err != nil {
			return nil, err
		}
		b.WriteString("---\n")
		b.Write(j)
		b.WriteString("\n")
	}
	return b.Bytes(), nil
}

// mapTektonImages maps the images of a Tekton object (tekton.dev/*) with
// f; other objects are left alone, for an "image" key in a ConfigMap's
// data is data.
func mapTektonImages(u *unstructured.Unstructured, f func(string) string) {
	if u.GroupVersionKind().Group != "tekton.dev" {
		return
	}
	mapImages(u.Object, f)
}

// mapImages replaces the value of every "image" field holding a string,
// at any depth of v, with f of it.
func mapImages(v any, f func(string) string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "image" {
				v[k] = f(s)
				continue
			}
			mapImages(x, f)
		}
	case []any:
		for _, x := range v {
			mapImages(x, f)
		}
	}
}
