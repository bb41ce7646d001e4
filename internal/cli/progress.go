package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/colo-ci/colo/internal/engine"
)

// isTerminal tells whether w is a terminal, and its width.
func isTerminal(w io.Writer) (bool, func() int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, nil
	}
	return true, func() int {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
		return 80
	}
}

// progress shows a run as it goes on: step output as "[task : step] line"
// and the tasks' states. On a terminal the states are a block below the
// output, redrawn in place; elsewhere each change is one plain line.
// It implements the local executor's Sink.
type progress struct {
	out   io.Writer
	width func() int // nil: not a terminal
	now   func() time.Time

	mu     sync.Mutex
	states map[string]string // TaskRun or task name → last state shown
	spans  map[string]*span  // TaskRun or task name → when it ran, as seen
	began  time.Time         // when the first status came
	status engine.Status
	lines  []string // terminal: output waiting for the next redraw
	drawn  int      // terminal: lines of the block now on screen
	stop   chan struct{}
	done   chan struct{}
}

// newProgress returns a progress writing to out; width is nil unless out is
// a terminal. Close must be called when the run is over.
func newProgress(out io.Writer, width func() int) *progress {
	p := &progress{
		out:    out,
		width:  width,
		now:    time.Now,
		states: map[string]string{},
		spans:  map[string]*span{},
	}
	if width != nil {
		p.stop = make(chan struct{})
		p.done = make(chan struct{})
		go p.redrawLoop()
	}
	return p
}

// Line implements local.Sink.
func (p *progress) Line(task, step, line string) {
	text := fmt.Sprintf("[%s : %s] %s", task, step, line)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.width != nil {
		p.lines = append(p.lines, text)
		return
	}
	fmt.Fprintln(p.out, text)
}

// span is when a task was first seen running and then first seen done. The
// status keeps whole seconds only; this keeps what a person sees.
type span struct{ start, end time.Time }

// Status implements local.Sink.
func (p *progress) Status(st engine.Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.began.IsZero() {
		p.began = now
	}
	p.status = st
	for _, row := range taskRows(st, false) {
		sp := p.spans[row.Key]
		if sp == nil {
			sp = &span{}
			p.spans[row.Key] = sp
		}
		switch row.State {
		case stateRunning:
			if sp.start.IsZero() || !sp.end.IsZero() { // first seen, or retried
				sp.start, sp.end = now, time.Time{}
			}
		case stateSucceeded, stateFailed, stateCancelled:
			// Never seen running: the status's own times will do.
			if !sp.start.IsZero() && sp.end.IsZero() {
				sp.end = now
			}
		}
	}
	if p.width != nil {
		return // the block shows it on the next redraw
	}
	for _, row := range p.rows(false) {
		shown := row.State + "/" + row.Reason
		if row.Retries > 0 {
			shown += fmt.Sprintf("/%d", row.Retries)
		}
		if p.states[row.Key] == shown {
			continue
		}
		p.states[row.Key] = shown
		fmt.Fprintln(p.out, stateLine(row, p.now()))
	}
}

// rows are the task rows of the last status, with the times seen. Called
// with p.mu held.
func (p *progress) rows(waiting bool) []taskRow {
	rows := taskRows(p.status, waiting)
	for i := range rows {
		if sp := p.spans[rows[i].Key]; sp != nil && !sp.start.IsZero() {
			rows[i].Start, rows[i].End = sp.start, sp.end
		}
	}
	return rows
}

// Summary returns the rows of the final status and how long the run took,
// as seen.
func (p *progress) Summary() ([]taskRow, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var took time.Duration
	if !p.began.IsZero() {
		took = p.now().Sub(p.began)
	}
	return p.rows(false), took
}

// stateLine is the plain line that tells a task's new state.
func stateLine(row taskRow, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s", row.Label, row.State)
	if row.Reason != "" && row.Reason != row.State {
		fmt.Fprintf(&b, " (%s)", row.Reason)
	}
	if row.Retries > 0 && row.State == stateRunning {
		fmt.Fprintf(&b, ", retry %d", row.Retries)
	}
	switch row.State {
	case stateSucceeded, stateFailed, stateCancelled:
		fmt.Fprintf(&b, " in %s", formatDuration(row.duration(now)))
	}
	if row.State != stateSucceeded && row.State != stateRunning && row.Message != "" {
		fmt.Fprintf(&b, ": %s", firstLine(row.Message))
	}
	return b.String()
}

// Close stops redrawing and leaves the output as plain lines, without the
// block.
func (p *progress) Close() {
	if p.width == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	p.redraw(false)
}

func (p *progress) redrawLoop() {
	defer close(p.done)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
			p.mu.Lock()
			p.redraw(true)
			p.mu.Unlock()
		}
	}
}

// redraw clears the block, writes waiting output, and draws the block again
// (when block is true). Called with p.mu held.
func (p *progress) redraw(block bool) {
	var b strings.Builder
	if p.drawn > 0 {
		// Up to the block's first line, then clear to the end of screen.
		fmt.Fprintf(&b, "\x1b[%dF\x1b[J", p.drawn)
	}
	for _, l := range p.lines {
		b.WriteString(l)
		b.WriteString("\n")
	}
	p.lines = p.lines[:0]
	p.drawn = 0
	if block {
		width := p.width()
		now := p.now()
		for _, row := range p.rows(true) {
			b.WriteString(truncate(blockLine(row, now), width-1))
			b.WriteString("\n")
			p.drawn++
		}
	}
	io.WriteString(p.out, b.String())
}

// blockLine is one task's line of the terminal block.
func blockLine(row taskRow, now time.Time) string {
	icon := map[string]string{
		stateWaiting:   " ",
		stateRunning:   "\x1b[33m●\x1b[0m",
		stateSucceeded: "\x1b[32m✓\x1b[0m",
		stateFailed:    "\x1b[31m✗\x1b[0m",
		stateCancelled: "\x1b[31m✗\x1b[0m",
		stateSkipped:   "-",
	}[row.State]
	text := fmt.Sprintf("%-24s %-10s", row.Label, row.State)
	if !row.Start.IsZero() {
		text += " " + formatDuration(row.duration(now))
	}
	if row.Reason != "" && row.Reason != row.State {
		text += "  " + row.Reason
	}
	if row.Retries > 0 {
		text += fmt.Sprintf(" (retry %d)", row.Retries)
	}
	return " " + icon + " " + text
}

// truncate cuts s (whose escape codes take no room) to n visible runes.
func truncate(s string, n int) string {
	if n <= 0 {
		return s
	}
	var b strings.Builder
	visible := 0
	inEscape := false
	for _, r := range s {
		switch {
		case inEscape:
			b.WriteRune(r)
			if r >= 'A' && r <= 'z' && r != '[' {
				inEscape = false
			}
			continue
		case r == '\x1b':
			inEscape = true
			b.WriteRune(r)
			continue
		}
		if visible == n {
			continue
		}
		b.WriteRune(r)
		visible++
	}
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
