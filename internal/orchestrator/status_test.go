package orchestrator

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/runstore"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

func doc(name, result string) runstore.Document {
	tr := &v1.TaskRun{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.KindTaskRun},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}
	if result != "" {
		tr.Status.Results = []v1.TaskRunResult{{Name: "r", Type: v1.ParamTypeString, Value: v1.NewString(result)}}
	}
	return runstore.Document{TaskRun: tr}
}

// frames writes docs as frames, with log lines around them.
func frames(t *testing.T, docs ...runstore.Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := &frameWriter{w: &buf}
	for i, d := range docs {
		io.WriteString(w, "time=now level=INFO msg=\"a log line\"\n")
		kind := KindProgress
		if i == len(docs)-1 {
			kind = KindFinal
		}
		if err := w.frame(kind, d); err != nil {
			t.Fatal(err)
		}
	}
	io.WriteString(w, "time=now level=INFO msg=\"after\"\n")
	return buf.Bytes()
}

func TestReadStatus(t *testing.T) {
	big := strings.Repeat("0123456789", 200_000) // 2 MB: many body lines
	log := frames(t, doc("run", ""), doc("run", "small"), doc("run", big))
	got, err := ReadStatus(bytes.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if r := got.TaskRun.Status.Results; len(r) != 1 || r[0].Value.StringVal != big {
		t.Fatalf("final status lost its 2 MB result")
	}
	for _, line := range strings.Split(string(log), "\n") {
		if len(line) > frameLine {
			t.Fatalf("a log line of %d bytes: body lines must be cut", len(line))
		}
	}
}

func TestReadStatusNeverTakesAPartialFrame(t *testing.T) {
	good := frames(t, doc("run", "first"))
	tests := []struct {
		name string
		log  []byte
	}{
		{"empty log", nil},
		{"only log lines", []byte("starting\nworking\n")},
		{"cut in the header", good[:bytes.Index(good, []byte("sha256="))+10]},
		{"cut in the body", good[:bytes.Index(good, []byte(`"first"`))]},
		{"cut before the end line", good[:bytes.Index(good, []byte(frameEnd))]},
		{"end line without its newline", good[:bytes.Index(good, []byte(frameEnd))+len(frameEnd)+8]},
		{"a changed byte", bytes.Replace(good, []byte(`"first"`), []byte(`"firsT"`), 1)},
		{"a missing byte", bytes.Replace(good, []byte(`"first"`), []byte(`"firs"`), 1)},
		{"another version", bytes.ReplaceAll(good, []byte(" v1 "), []byte(" v9 "))},
		{"only progress", bytes.Replace(good, []byte("kind=final"), []byte("kind=progress"), 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ReadStatus(bytes.NewReader(tt.log)); !errors.Is(err, ErrNoStatus) {
				t.Errorf("ReadStatus = %v, want ErrNoStatus", err)
			}
		})
	}
}

func TestReaderResumesAfterACutFrame(t *testing.T) {
	first := frames(t, doc("one", "a"))
	cut := first[:bytes.Index(first, []byte(frameEnd))]
	second := frames(t, doc("two", "b"))
	fr := NewReader(io.MultiReader(bytes.NewReader(cut), bytes.NewReader(second)))
	var names []string
	for {
		f, err := fr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, f.Kind+":"+f.Document.Name())
	}
	if diff := cmp.Diff([]string{"final:two"}, names); diff != "" {
		t.Errorf("frames (-want +got):\n%s", diff)
	}
}

func TestProgressLeavesResultsOut(t *testing.T) {
	d := doc("run", "value")
	d.TaskRun.Status.Steps = []v1.StepState{{Name: "s", Results: []v1.TaskRunResult{{Name: "x", Value: v1.NewString("y")}}}}
	p := withoutResults(d)
	if p.TaskRun.Status.Results != nil || p.TaskRun.Status.Steps[0].Results != nil {
		t.Errorf("progress document keeps results: %+v", p.TaskRun.Status)
	}
	if d.TaskRun.Status.Results == nil || d.TaskRun.Status.Steps[0].Results == nil {
		t.Error("withoutResults changed its argument")
	}
}
