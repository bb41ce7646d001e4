package steprunner

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/colo-ci/colo/internal/control"
)

// defaultGrace is how long a process gets between SIGTERM and SIGKILL when
// a command names no grace period.
const defaultGrace = 2 * time.Second

// Options configure a runner.
type Options struct {
	// Dir is the runner's control directory (control.Dir in a Pod).
	Dir string
	// Stdout and Stderr receive the processes' output (the container's
	// log). An *os.File is handed to the process as it is.
	Stdout, Stderr io.Writer
	// Log receives the runner's own messages (nil: Stderr).
	Log io.Writer
}

// Run is `colo step [--control DIR] | --install PATH [--mkdir DIR]...`: it
// parses args (without the command's name) and serves commands until told
// to exit. With --install it copies the running program to PATH instead
// and makes each --mkdir directory (what the Pod's init container does to
// give step containers a colo binary and the directories they mount).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("colo step", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("control", control.Dir, "control directory of this container")
	install := fs.String("install", "", "copy this program to `PATH` and exit")
	var mkdirs []string
	fs.Func("mkdir", "with --install, make `DIR` and its missing parents, writable by every user", func(d string) error {
		mkdirs = append(mkdirs, d)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *install != "" {
		if err := Install(*install); err != nil {
			return err
		}
		for _, d := range mkdirs {
			if err := MkdirShared(d); err != nil {
				return err
			}
		}
		return nil
	}
	if len(mkdirs) > 0 {
		return errors.New("--mkdir needs --install")
	}
	return Serve(ctx, Options{Dir: *dir, Stdout: stdout, Stderr: stderr})
}

// Install copies the running program to path, atomically, executable by
// everyone.
func Install(path string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	src, err := os.Open(self)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".colo-*")
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	_, cerr := io.Copy(tmp, src)
	if err := errors.Join(cerr, tmp.Chmod(0o755), tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("install: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("install: %w", err)
	}
	return nil
}

// MkdirShared makes dir and each missing parent with mode 0777 whatever
// the umask: a step may run as any user, and the kubelet gives a subPath
// the mode of what it finds there.
func MkdirShared(dir string) error {
	dir = filepath.Clean(dir)
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("mkdir %s: not a directory", dir)
		}
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := MkdirShared(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o777); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("mkdir: %w", err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		return fmt.Errorf("mkdir: %w", err)
	}
	return nil
}

// runner serves one control directory.
type runner struct {
	opts  Options
	log   io.Writer
	last  int               // number of the last command read
	queue []control.Command // read, not yet carried out
	cur   *process          // the running process, if any
	reap  *reaper
}

// Serve carries out the commands written to opts.Dir until an exit command
// (it returns nil) or ctx ends or SIGTERM arrives (the running process is
// stopped first; it returns an error).
func Serve(ctx context.Context, opts Options) error {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	r := &runner{opts: opts, log: opts.Log}
	if r.log == nil {
		r.log = opts.Stderr
	}
	if err := os.MkdirAll(opts.Dir, 0o777); err != nil {
		return fmt.Errorf("control directory: %w", err)
	}
	w := control.NewWatcher()
	defer w.Close()
	if err := w.Add(opts.Dir); err != nil {
		return fmt.Errorf("control directory: %w", err)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	r.reap = startReaper()
	defer r.reap.stop()

	for {
		if err := r.read(); err != nil {
			return err
		}
		exit, err := r.work()
		if err != nil {
			return err
		}
		if exit {
			return nil
		}
		var done <-chan struct{}
		var timeout <-chan time.Time
		if r.cur != nil {
			done = r.cur.done
			timeout = r.cur.timeout
		}
		select {
		case <-w.C:
		case <-done:
			r.finish()
		case <-timeout:
			r.cur.timeout = nil
			r.cur.kill(control.ReasonTimeoutExceeded, graceOf(r.cur.run.Grace))
		case sig := <-sigs:
			return r.abort(fmt.Errorf("stopped by %v", sig))
		case <-ctx.Done():
			return r.abort(ctx.Err())
		}
	}
}

// read queues the commands written since the last read.
func (r *runner) read() error {
	cmds, err := control.ReadCommands(r.opts.Dir, r.last)
	if err != nil {
		return fmt.Errorf("read commands: %w", err)
	}
	for _, c := range cmds {
		if c.Seq != r.last+1 {
			// A gap: the next file is still being renamed into place.
			break
		}
		r.last = c.Seq
		r.queue = append(r.queue, c)
	}
	return nil
}

// work carries out queued commands as far as it can. Stops and exits take
// effect at once, even behind a run that waits; a run waits for the running
// process to end. It reports whether an exit command was done.
func (r *runner) work() (bool, error) {
	var runs []control.Command
	for _, c := range r.queue {
		switch c.Op {
		case control.OpRun:
			runs = append(runs, c)
		case control.OpStop:
			if r.cur != nil && r.cur.seq == c.Target {
				r.cur.kill(control.ReasonStopped, graceOf(c.Grace))
				continue
			}
			for i, q := range runs {
				if q.Seq == c.Target {
					runs = append(runs[:i:i], runs[i+1:]...)
					r.event(control.Event{Seq: q.Seq, Kind: control.KindDone, ExitCode: -1, Reason: control.ReasonStopped})
					break
				}
			}
		case control.OpExit:
			// Whatever waits to run never will.
			for _, q := range runs {
				r.event(control.Event{Seq: q.Seq, Kind: control.KindDone, ExitCode: -1, Reason: control.ReasonStopped})
			}
			r.queue = nil
			if r.cur != nil {
				r.cur.kill(control.ReasonStopped, graceOf(c.Grace))
				<-r.cur.done
				r.finish()
			}
			r.event(control.Event{Seq: c.Seq, Kind: control.KindExited})
			return true, nil
		default:
			fmt.Fprintf(r.log, "colo step: ignoring command %d: unknown op %q\n", c.Seq, c.Op)
		}
	}
	r.queue = runs
	for len(r.queue) > 0 && r.cur == nil {
		c := r.queue[0]
		r.queue = r.queue[1:]
		if c.Run == nil {
			r.event(control.Event{Seq: c.Seq, Kind: control.KindDone, ExitCode: -1, Reason: control.ReasonStartFailed, Message: "run command without a process"})
			continue
		}
		r.start(c.Seq, *c.Run)
	}
	return false, nil
}

// start starts a process and reports it.
func (r *runner) start(seq int, run control.Run) {
	p, err := startProcess(seq, run, r.opts.Stdout, r.opts.Stderr, r.reap)
	if err != nil {
		r.event(control.Event{Seq: seq, Kind: control.KindDone, ExitCode: -1, Reason: control.ReasonStartFailed, Message: err.Error(), StartedAt: time.Now(), At: time.Now()})
		return
	}
	r.cur = p
	r.event(control.Event{Seq: seq, Kind: control.KindStarted, StartedAt: p.started, At: p.started})
	if run.Probe != nil {
		go func() {
			if probeUntilReady(run, p.done, r.reap) {
				p.readyOnce.Do(func() {
					r.event(control.Event{Seq: seq, Kind: control.KindReady, StartedAt: p.started, At: time.Now()})
				})
			}
		}()
	}
}

// finish reports the end of the running process.
func (r *runner) finish() {
	p := r.cur
	r.cur = nil
	if p.run.Probe != nil {
		// A sidecar that ended before its probe passed counts as ready,
		// as upstream counts a terminated sidecar.
		p.readyOnce.Do(func() {
			r.event(control.Event{Seq: p.seq, Kind: control.KindReady, StartedAt: p.started, At: p.ended})
		})
	}
	ev := control.Event{Seq: p.seq, Kind: control.KindDone, ExitCode: p.code, Reason: p.reason, StartedAt: p.started, At: p.ended}
	if p.err != nil {
		ev.Message = p.err.Error()
	}
	r.event(ev)
}

// abort stops the running process, says the runner is gone, and returns
// err.
func (r *runner) abort(err error) error {
	if r.cur != nil {
		r.cur.kill(control.ReasonStopped, graceOf(r.cur.run.Grace))
		<-r.cur.done
		r.finish()
	}
	r.event(control.Event{Seq: r.last + 1, Kind: control.KindExited, Message: err.Error()})
	return err
}

// event writes ev, with the time it is written if it has none.
func (r *runner) event(ev control.Event) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	if err := control.WriteEvent(r.opts.Dir, ev); err != nil {
		fmt.Fprintf(r.log, "colo step: %v\n", err)
	}
}
