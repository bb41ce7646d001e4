package orchestrator

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/colo-ci/colo/internal/runstore"
)

// The status of a run leaves its Pod through the orchestrator's log: each
// document is a frame of lines,
//
//	COLO-STATUS-BEGIN v1 kind=final seq=7 bytes=1234 sha256=<hex>
//	<the document's JSON, cut into lines of at most 8 KiB>
//	COLO-STATUS-END v1 seq=7
//
// The JSON is what runstore writes to status.json (a runstore.Document).
// Kind is "progress" for a document written while the run goes on (its
// results left out, to keep the log small) and "final" for the last one,
// complete. A reader takes a frame only when its end line came and its
// bytes and checksum match, so a frame cut short (a log that ends early,
// a container killed while writing) is never taken for a status. Only the
// orchestrator writes its log; the steps' output goes to their own
// containers' logs.
const (
	frameBegin   = "COLO-STATUS-BEGIN"
	frameEnd     = "COLO-STATUS-END"
	frameVersion = "v1"
	// frameLine bounds a body line: container runtimes split lines longer
	// than 16 KiB, and some log readers keep lines to a limit.
	frameLine = 8 * 1024
)

// Frame kinds.
const (
	KindProgress = "progress"
	KindFinal    = "final"
)

// ErrNoStatus is returned (wrapped) when a log holds no complete final
// status document.
var ErrNoStatus = errors.New("no complete final status in the log")

// Frame is one status document read from a log.
type Frame struct {
	Kind     string
	Seq      int
	Document runstore.Document
}

// frameWriter writes frames and other lines to one stream, one whole
// write at a time, so that log lines never land inside a frame.
type frameWriter struct {
	mu  sync.Mutex
	w   io.Writer
	seq int
}

// Write writes p as it is (log lines).
func (f *frameWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.w.Write(p)
}

// frame writes one document as a frame.
func (f *frameWriter) frame(kind string, doc runstore.Document) error {
	body, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("status document: %w", err)
	}
	sum := sha256.Sum256(body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s kind=%s seq=%d bytes=%d sha256=%s\n", frameBegin, frameVersion, kind, f.seq, len(body), hex.EncodeToString(sum[:]))
	for len(body) > 0 {
		n := min(len(body), frameLine)
		b.Write(body[:n])
		b.WriteByte('\n')
		body = body[n:]
	}
	fmt.Fprintf(&b, "%s %s seq=%d\n", frameEnd, frameVersion, f.seq)
	_, err = f.w.Write(b.Bytes())
	return err
}

// Reader reads status frames from a log stream.
type Reader struct {
	r *bufio.Reader
}

// NewReader returns a Reader of the log r (an orchestrator container's log,
// read from its start).
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64*1024)}
}

// Next returns the next complete frame. Lines outside frames, frames of
// another version and frames that do not check out are skipped. At the
// end of the stream it returns io.EOF.
func (r *Reader) Next() (Frame, error) {
	for {
		line, err := r.line()
		if err != nil {
			return Frame{}, err
		}
		h, ok := parseBegin(line)
		for ok {
			// Read the body; a new header inside it means the frame
			// before was cut short: start over with it.
			var body bytes.Buffer
			var next header
			restarted := false
			for {
				l, err := r.line()
				if err != nil {
					return Frame{}, err
				}
				if strings.HasPrefix(l, frameEnd+" ") {
					if l == fmt.Sprintf("%s %s seq=%d", frameEnd, frameVersion, h.seq) {
						if f, ok := h.check(body.Bytes()); ok {
							return f, nil
						}
					}
					break
				}
				if nh, isHeader := parseBegin(l); isHeader {
					next, restarted = nh, true
					break
				}
				body.WriteString(l)
			}
			if !restarted {
				break
			}
			h = next
		}
	}
}

// line returns the next line without its end; a last line without one
// (a write cut short) is never part of a complete frame.
func (r *Reader) line() (string, error) {
	s, err := r.r.ReadString('\n')
	if err != nil {
		if err == io.EOF {
			return "", io.EOF
		}
		return "", err
	}
	return strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r"), nil
}

type header struct {
	kind  string
	seq   int
	bytes int
	sum   string
}

// parseBegin reads a frame's first line.
func parseBegin(line string) (header, bool) {
	fields := strings.Fields(line)
	if len(fields) != 6 || fields[0] != frameBegin || fields[1] != frameVersion {
		return header{}, false
	}
	var h header
	for _, f := range fields[2:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return header{}, false
		}
		switch k {
		case "kind":
			h.kind = v
		case "seq":
			n, err := strconv.Atoi(v)
			if err != nil {
				return header{}, false
			}
			h.seq = n
		case "bytes":
			n, err := strconv.Atoi(v)
			if err != nil {
				return header{}, false
			}
			h.bytes = n
		case "sha256":
			h.sum = v
		}
	}
	return h, h.kind != "" && h.sum != ""
}

// check returns the frame body makes, if it is whole.
func (h header) check(body []byte) (Frame, bool) {
	if len(body) != h.bytes {
		return Frame{}, false
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != h.sum {
		return Frame{}, false
	}
	var doc runstore.Document
	if err := json.Unmarshal(body, &doc); err != nil {
		return Frame{}, false
	}
	return Frame{Kind: h.kind, Seq: h.seq, Document: doc}, true
}

// ReadStatus returns the final status document in an orchestrator's log:
// the run's status as status.json would hold it. It reads r to its end
// and returns an error wrapping ErrNoStatus when no complete final frame
// is in it (the orchestrator did not finish, or its log was cut).
func ReadStatus(r io.Reader) (runstore.Document, error) {
	fr := NewReader(r)
	var final *runstore.Document
	for {
		f, err := fr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return runstore.Document{}, fmt.Errorf("read status: %w", err)
		}
		if f.Kind == KindFinal {
			d := f.Document
			final = &d
		}
	}
	if final == nil {
		return runstore.Document{}, fmt.Errorf("read status: %w", ErrNoStatus)
	}
	return *final, nil
}

// withoutResults returns a copy of doc with every result value left out:
// what a progress frame carries.
func withoutResults(doc runstore.Document) runstore.Document {
	out := runstore.Document{}
	if doc.PipelineRun != nil {
		pr := doc.PipelineRun.DeepCopy()
		pr.Status.Results = nil
		out.PipelineRun = pr
	}
	if doc.TaskRun != nil {
		tr := doc.TaskRun.DeepCopy()
		stripTaskRun(&tr.Status.Results, tr.Status.Steps)
		for i := range tr.Status.RetriesStatus {
			stripTaskRun(&tr.Status.RetriesStatus[i].Results, tr.Status.RetriesStatus[i].Steps)
		}
		out.TaskRun = tr
	}
	for _, tr := range doc.TaskRuns {
		tr := *tr.DeepCopy()
		stripTaskRun(&tr.Status.Results, tr.Status.Steps)
		for i := range tr.Status.RetriesStatus {
			stripTaskRun(&tr.Status.RetriesStatus[i].Results, tr.Status.RetriesStatus[i].Steps)
		}
		out.TaskRuns = append(out.TaskRuns, tr)
	}
	for _, pr := range doc.PipelineRuns {
		pr := *pr.DeepCopy()
		pr.Status.Results = nil
		out.PipelineRuns = append(out.PipelineRuns, pr)
	}
	return out
}
