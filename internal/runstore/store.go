package runstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/colo-ci/colo/internal/engine"
)

// File and directory names inside a run directory.
const (
	StatusFile = "status.json"
	LogsDir    = "logs"
	lockFile   = ".lock"
)

// DefaultDir is the directory, relative to the current directory, that holds
// runs/ and claims/ by default.
const DefaultDir = ".colo"

// ErrNotFound is returned (wrapped) when a run does not exist.
var ErrNotFound = errors.New("run not found")

// Root is where runs and claims are kept.
type Root struct {
	// Runs holds one directory per run, named after the run.
	Runs string
	// Claims holds <namespace>/<name> directories that back
	// PersistentVolumeClaims across runs.
	Claims string
}

// DefaultRoot returns the default root under base: base/.colo/runs and
// base/.colo/claims.
func DefaultRoot(base string) Root {
	return Root{
		Runs:   filepath.Join(base, DefaultDir, "runs"),
		Claims: filepath.Join(base, DefaultDir, "claims"),
	}
}

// ClaimDir returns (and makes) the directory backing claim name of
// namespace ns ("default" when empty).
func (r Root) ClaimDir(ns, name string) (string, error) {
	if ns == "" {
		ns = "default"
	}
	if err := checkName("namespace", ns); err != nil {
		return "", err
	}
	if err := checkName("claim name", name); err != nil {
		return "", err
	}
	dir := filepath.Join(r.Claims, ns, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("claim %s/%s: %w", ns, name, err)
	}
	return dir, nil
}

// suffixChars are the characters Kubernetes uses for generated names.
const suffixChars = "bcdfghjklmnpqrstvwxz2456789"

// GenerateName returns prefix followed by five random characters, as the
// API server does for metadata.generateName, choosing one no run in r has.
func (r Root) GenerateName(prefix string) string {
	for {
		b := make([]byte, 5)
		for i := range b {
			b[i] = suffixChars[rand.IntN(len(suffixChars))]
		}
		name := prefix + string(b)
		if _, err := os.Stat(filepath.Join(r.Runs, name)); errors.Is(err, fs.ErrNotExist) {
			return name
		}
	}
}

// Create makes the directory of a new run and writes its first status.json.
// The run object (d.PipelineRun or d.TaskRun) must have a name; its
// creationTimestamp and uid are set when empty, and its status is kept as
// given. An earlier run of the same name is removed first, unless it is still
// going on. The returned Run holds the run's lock until Close.
func (r Root) Create(d Document) (*Run, error) {
	if d.Kind() == "" {
		return nil, fmt.Errorf("create run: no PipelineRun or TaskRun")
	}
	doc := d.apply(engine.Status{}) // a copy, status as given
	meta := doc.Meta()
	if err := checkName("run name", meta.Name); err != nil {
		return nil, err
	}
	if meta.CreationTimestamp.IsZero() {
		meta.CreationTimestamp = metav1.Now()
	}
	if meta.UID == "" {
		meta.UID = types.UID(newUID())
	}
	if err := os.MkdirAll(r.Runs, 0o755); err != nil {
		return nil, fmt.Errorf("create run %s: %w", meta.Name, err)
	}
	dir := filepath.Join(r.Runs, meta.Name)
	old, err := retireFinished(dir, string(meta.UID))
	if err != nil {
		return nil, fmt.Errorf("create run %s: %w", meta.Name, err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run %s: %w", meta.Name, err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create run %s: %w", meta.Name, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("create run %s: lock: %w", meta.Name, err)
	}
	run := &Run{root: r, dir: dir, doc: doc, lock: lock, removed: make(chan struct{})}
	if old != "" {
		// The earlier run's logs are set aside for this run's to take
		// over, file by file (see StepLog).
		if err := os.Rename(filepath.Join(old, LogsDir), old+recycledSuffix); err == nil {
			run.recycled = old + recycledSuffix
		}
	}
	// The earlier run's files go while this run starts: removing a run
	// of many tasks takes longer than starting one.
	go inBackground(func() {
		defer close(run.removed)
		if old != "" {
			_ = os.RemoveAll(old)
		}
		// And whatever a process that died meanwhile left retired.
		entries, _ := os.ReadDir(r.Runs)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), retiredPrefix) && filepath.Join(r.Runs, e.Name()) != run.recycled {
				_ = os.RemoveAll(filepath.Join(r.Runs, e.Name()))
			}
		}
	})
	if err := run.write(doc); err != nil {
		run.Close()
		return nil, fmt.Errorf("create run %s: %w", meta.Name, err)
	}
	return run, nil
}

// retiredPrefix starts the names of earlier runs' directories that are
// being removed. No run name starts with a dot.
const retiredPrefix = ".removing-"

// recycledSuffix ends the name of an earlier run's logs directory, set
// aside beside its retired directory while a new run of the same name
// takes its files over.
//
// A new log takes over the earlier run's file of the same path, when there
// is one, rather than a new file: re-running a run of many steps would
// otherwise free and allocate an inode per step, and on ext4 without a
// journal every allocation then scans past the inodes freed in the last
// half minute, which makes each new file cost a third of a millisecond.
const recycledSuffix = ".logs"

// retireFinished moves an earlier run directory at dir out of the way, to
// a hidden name beside it that it returns ("" if there was none), refusing
// if that run is still going on.
func retireFinished(dir, uid string) (string, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if isLive(dir) {
		return "", fmt.Errorf("a run of that name is still going on in %s", dir)
	}
	old := filepath.Join(filepath.Dir(dir), retiredPrefix+filepath.Base(dir)+"-"+uid)
	if err := os.Rename(dir, old); err != nil {
		return "", fmt.Errorf("remove earlier run: %w", err)
	}
	return old, nil
}

// Open opens an existing run for reading.
func (r Root) Open(name string) (*Run, error) {
	if err := checkName("run name", name); err != nil {
		return nil, err
	}
	dir := filepath.Join(r.Runs, name)
	doc, err := readDocument(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("run %q in %s: %w", name, r.Runs, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("run %q: %w", name, err)
	}
	return &Run{root: r, dir: dir, doc: doc}, nil
}

// Info is what List tells about one run.
type Info struct {
	Name    string
	Dir     string
	Created time.Time
	Doc     Document
	// Live is true while the process running it is still going on.
	Live bool
}

// List returns every run in r, newest first. Directories without a readable
// status.json are left out.
func (r Root) List() ([]Info, error) {
	entries, err := os.ReadDir(r.Runs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var out []Info
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(r.Runs, e.Name())
		doc, err := readDocument(dir)
		if err != nil {
			continue
		}
		out = append(out, Info{
			Name:    e.Name(),
			Dir:     dir,
			Created: createdAt(dir, &doc),
			Doc:     doc,
			Live:    isLive(dir),
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// createdAt is when the run was created, to the nanosecond when the lock
// file (made once, at creation) tells it.
func createdAt(dir string, d *Document) time.Time {
	if fi, err := os.Stat(filepath.Join(dir, lockFile)); err == nil {
		return fi.ModTime()
	}
	return d.Meta().CreationTimestamp.Time
}

// Run is one run's directory. A Run made by Create implements the executor's
// Store; one made by Open is for reading.
type Run struct {
	root Root
	dir  string

	mu   sync.Mutex
	doc  Document
	lock *os.File

	// removed is closed once the earlier run of the same name is gone,
	// but for recycled: its logs, which this run's logs take over, and
	// whatever is left of them is removed by Close.
	removed  chan struct{}
	recycled string
	// logs counts step logs still being written.
	logs sync.WaitGroup
}

// Dir is the run's directory.
func (r *Run) Dir() string { return r.dir }

// Name is the run's name.
func (r *Run) Name() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.doc.Name()
}

// ClaimDir returns the directory backing a PersistentVolumeClaim.
func (r *Run) ClaimDir(namespace, name string) (string, error) {
	return r.root.ClaimDir(namespace, name)
}

// StepLog opens (truncating) the log of one container of one attempt.
// The file is created and written on a goroutine of its own; the caller
// must Close the writer, and Run.Close waits until it has.
func (r *Run) StepLog(taskRun string, retry int, container string) (io.WriteCloser, error) {
	rel, err := logFile(taskRun, retry, container)
	if err != nil {
		return nil, err
	}
	w := &stepLog{path: filepath.Join(r.dir, LogsDir, rel), ch: make(chan []byte, 256), done: make(chan struct{})}
	if r.recycled != "" {
		w.recycle = filepath.Join(r.recycled, rel)
	}
	r.logs.Add(1)
	go func() {
		defer r.logs.Done()
		w.drain()
	}()
	return w, nil
}

// stepLog is a step's log file, created and written by a goroutine of its
// own: creating a file can take the disk a while, and a step's output, or
// the start of the next step, should not wait for it.
type stepLog struct {
	path string
	// recycle is the earlier run's log of the same path, which becomes
	// this one when it is there.
	recycle string
	ch      chan []byte
	done    chan struct{}
	err     error // set before done is closed
}

func (w *stepLog) drain() {
	defer close(w.done)
	var f *os.File
	err := os.MkdirAll(filepath.Dir(w.path), 0o755)
	if err == nil {
		if w.recycle != "" {
			_ = os.Rename(w.recycle, w.path) // emptied as it is opened
		}
		f, err = os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
	}
	for b := range w.ch {
		if err == nil {
			_, err = f.Write(b)
		}
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		w.err = fmt.Errorf("step log: %w", err)
	}
}

// Write queues a copy of b for the file.
func (w *stepLog) Write(b []byte) (int, error) {
	w.ch <- bytes.Clone(b)
	return len(b), nil
}

// Close waits until everything written is in the file.
func (w *stepLog) Close() error {
	close(w.ch)
	<-w.done
	return w.err
}

// LogPath is where the log of one container of one attempt is kept.
func (r *Run) LogPath(taskRun string, retry int, container string) (string, error) {
	rel, err := logFile(taskRun, retry, container)
	if err != nil {
		return "", err
	}
	return filepath.Join(r.dir, LogsDir, rel), nil
}

// logFile is the path of a container's log in a run's logs directory.
func logFile(taskRun string, retry int, container string) (string, error) {
	if err := checkName("TaskRun name", taskRun); err != nil {
		return "", err
	}
	if err := checkName("container name", container); err != nil {
		return "", err
	}
	if retry < 0 {
		return "", fmt.Errorf("negative retry %d", retry)
	}
	return filepath.Join(taskRun, strconv.Itoa(retry), container+".log"), nil
}

// WriteStatus records s as the run's status, atomically. The run keeps parts
// of s: the caller must not change s afterwards.
func (r *Run) WriteStatus(s engine.Status) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	doc := r.doc.apply(s)
	if err := r.write(doc); err != nil {
		return err
	}
	r.doc = doc
	return nil
}

// Document returns the run's document as last written or read.
func (r *Run) Document() Document {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.doc
}

// Reload reads status.json again and returns it.
func (r *Run) Reload() (Document, error) {
	doc, err := readDocument(r.dir)
	if err != nil {
		return Document{}, err
	}
	r.mu.Lock()
	r.doc = doc
	r.mu.Unlock()
	return doc, nil
}

// Live tells whether the run is still going on: whether some process holds
// its lock. For a Run made by Create it is true until Close.
func (r *Run) Live() bool {
	r.mu.Lock()
	held := r.lock != nil
	r.mu.Unlock()
	return held || isLive(r.dir)
}

// Close waits until every step log is closed and written and the earlier
// run of the same name, if any, is removed, and releases the run's lock; a
// Run made by Open has none.
func (r *Run) Close() error {
	r.logs.Wait()
	if r.removed != nil {
		<-r.removed
	}
	if r.recycled != "" {
		// The earlier run's logs that no log of this run took over.
		_ = os.RemoveAll(r.recycled)
		r.recycled = ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lock == nil {
		return nil
	}
	err := r.lock.Close() // closing the descriptor releases the flock
	r.lock = nil
	return err
}

// write replaces status.json with doc: a temporary file renamed over it.
func (r *Run) write(doc Document) error {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	b = append(b, '\n')
	tmp, err := os.CreateTemp(r.dir, ".status-*.json")
	if err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write status: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write status: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write status: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(r.dir, StatusFile)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}

func readDocument(dir string) (Document, error) {
	b, err := os.ReadFile(filepath.Join(dir, StatusFile))
	if err != nil {
		return Document{}, err
	}
	var doc Document
	if err := json.Unmarshal(b, &doc); err != nil {
		return Document{}, fmt.Errorf("read %s: %w", StatusFile, err)
	}
	return doc, nil
}

// isLive tells whether some process holds the lock of the run in dir.
func isLive(dir string) bool {
	f, err := os.Open(filepath.Join(dir, lockFile))
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// checkName rejects names that are not one plain path element.
func checkName(what, name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
		return fmt.Errorf("invalid %s %q", what, name)
	}
	return nil
}

func newUID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rand.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
