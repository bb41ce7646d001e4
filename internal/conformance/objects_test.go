package conformance

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestMapImages(t *testing.T) {
	file := `
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: t
spec:
  params:
  - name: image
    default: mirror.gcr.io/ubuntu
  stepTemplate:
    image: mirror.gcr.io/alpine
  steps:
  - image: mirror.gcr.io/bash@sha256:e320
    script: echo hi
  sidecars:
  - image: mirror.gcr.io/busybox
---
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: image
data:
  image: kept
`
	objs, err := decodeObjects([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Fatalf("%d objects, want 2 (the empty document is skipped)", len(objs))
	}
	var seen []string
	for _, u := range objs {
		mapTektonImages(u, func(s string) string {
			seen = append(seen, s)
			return "mapped/" + s
		})
	}
	want := []string{"mirror.gcr.io/alpine", "mirror.gcr.io/bash@sha256:e320", "mirror.gcr.io/busybox"}
	if diff := cmp.Diff(want, seen, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("images seen (-want +got):\n%s", diff)
	}
	data, err := encodeObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	again, err := decodeObjects(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(objs, again); diff != "" {
		t.Errorf("objects after a round trip (-want +got):\n%s", diff)
	}
	if strings.Contains(string(data), `"default":"mapped/`) {
		t.Error("a param default was mapped; only image fields are")
	}
	if strings.Contains(string(data), `"mapped/kept"`) {
		t.Error("a ConfigMap's data was mapped; only Tekton objects' images are")
	}
}
