package orchestrator

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/colo-ci/colo/internal/control"
	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/podspec"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Paths as a task's containers see them.
const (
	tektonDir    = "/tekton"
	workspaceDir = "/workspace"
)

// tektonDirs are the directories Tekton gives every task under /tekton.
var tektonDirs = []string{"results", "steps", "home", "scripts", "run", "creds", "artifacts", "bin", "downward"}

// task is one TaskRun's part of the Pod: its volume and its containers.
type task struct {
	layout   podspec.TaskLayout
	dir      string // the task's volume, as the orchestrator mounts it
	steps    []*container
	sidecars []*container
	att      *attempt
	exiting  bool
}

// container is one step or sidecar container, through its control
// directory.
type container struct {
	layout podspec.ContainerLayout
	dir    string
	seq    int             // number of the last command written
	seen   map[string]bool // event files read
	exited bool
}

// attempt is the attempt a task runs now.
type attempt struct {
	id   engine.AttemptID
	spec engine.StartAttempt
	// step is the running step (-1: none), stepSeq its command.
	step    int
	stepSeq int
	stopped bool
	// sidecarSeq is each sidecar's run command (0: not running);
	// pending the sidecars not yet ready.
	sidecarSeq []int
	pending    map[int]bool
	failed     bool
}

func newTask(tl podspec.TaskLayout, dir string) (*task, error) {
	t := &task{layout: tl, dir: dir}
	mk := func(cl podspec.ContainerLayout) (*container, error) {
		c := &container{layout: cl, dir: filepath.Join(dir, control.ControlSub, cl.Container), seen: map[string]bool{}}
		if err := mkdirAll(c.dir); err != nil {
			return nil, err
		}
		return c, nil
	}
	for _, cl := range tl.Steps {
		c, err := mk(cl)
		if err != nil {
			return nil, err
		}
		t.steps = append(t.steps, c)
	}
	for _, cl := range tl.Sidecars {
		c, err := mk(cl)
		if err != nil {
			return nil, err
		}
		t.sidecars = append(t.sidecars, c)
	}
	for _, sub := range []string{control.TektonSub, control.WorkspaceSub} {
		if err := mkdirAll(filepath.Join(dir, sub)); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// mkdirAll makes dir writable by every user: a step may run as any user,
// and the kubelet gives a subPath the mode of what it finds.
func mkdirAll(dir string) error {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	return os.Chmod(dir, 0o777)
}

func (t *task) containers() []*container {
	return append(append([]*container{}, t.steps...), t.sidecars...)
}

func (t *task) path(p ...string) string {
	return filepath.Join(append([]string{t.dir, control.TektonSub}, p...)...)
}

// send writes the next command to c.
func (c *container) send(cmd control.Command) (int, error) {
	c.seq++
	cmd.Seq = c.seq
	if err := control.WriteCommand(c.dir, cmd); err != nil {
		return 0, err
	}
	return cmd.Seq, nil
}

// startAttempt lays out the attempt's directories and starts its sidecars.
// It returns the events the engine learns at once.
func (t *task) startAttempt(d *driver, sa engine.StartAttempt) []engine.Event {
	fail := func(reason, msg string) []engine.Event {
		return []engine.Event{engine.AttemptFailed{Attempt: sa.ID, Reason: reason, Message: msg, At: time.Now()}}
	}
	if len(sa.Spec.Steps) != len(t.steps) || len(sa.Sidecars) != len(t.sidecars) {
		return fail("CreateContainerConfigError", fmt.Sprintf("TaskRun %q has %d steps and %d sidecars, but the Pod was compiled with %d and %d",
			sa.ID.TaskRun, len(sa.Spec.Steps), len(sa.Sidecars), len(t.steps), len(t.sidecars)))
	}
	t.att = &attempt{id: sa.ID, spec: sa, step: -1, sidecarSeq: make([]int, len(t.sidecars)), pending: map[int]bool{}}
	if err := t.layoutDirs(sa); err != nil {
		return fail("CreateContainerConfigError", fmt.Sprintf("set up the task's directories: %v", err))
	}
	for i, sc := range sa.Sidecars {
		c := t.sidecars[i]
		if sc.Image != c.layout.Image {
			return fail("SidecarFailed", fmt.Sprintf("sidecar %q runs image %q, but its container was compiled with %q", sc.Name, sc.Image, c.layout.Image))
		}
		run, err := t.processRun(sc, c, fmt.Sprintf("%s-%d", sc.Name, sa.ID.Retry))
		if err != nil {
			return fail("SidecarFailed", fmt.Sprintf("sidecar %q: %v", sc.Name, err))
		}
		if sc.ReadinessProbe != nil {
			run.Probe = probeOf(sc.ReadinessProbe, c.layout.Ports)
		}
		seq, err := c.send(control.Command{Op: control.OpRun, Run: run})
		if err != nil {
			return fail("SidecarFailed", err.Error())
		}
		t.att.sidecarSeq[i] = seq
		t.att.pending[i] = true
	}
	if len(sa.Sidecars) == 0 {
		return []engine.Event{engine.SidecarsReady{Attempt: sa.ID, At: time.Now()}}
	}
	d.log.Debug("sidecars starting", "taskRun", sa.ID.TaskRun, "sidecars", len(sa.Sidecars))
	return nil
}

// layoutDirs makes /tekton's directories for an attempt, emptying what an
// earlier attempt left: a retry starts from fresh directories, as a new
// Pod would. The directories themselves stay (they are mounted by
// subPath, which holds on to the directory, not its name), and so do the
// directories other volumes are mounted on in the task's containers, such
// as /workspace/NAME: removing a mount point here would detach the mount
// in the containers.
func (t *task) layoutDirs(sa engine.StartAttempt) error {
	if sa.ID.Retry > 0 {
		keep := mountPoints(sa)
		for sub, root := range map[string]string{control.TektonSub: tektonDir, control.WorkspaceSub: workspaceDir} {
			if err := emptyDir(filepath.Join(t.dir, sub), root, keep); err != nil {
				return err
			}
		}
	}
	for _, dir := range tektonDirs {
		if err := mkdirAll(t.path(dir)); err != nil {
			return err
		}
	}
	if err := os.WriteFile(t.path("downward", "ready"), []byte("READY"), 0o644); err != nil {
		return err
	}
	for i, st := range sa.Spec.Steps {
		status := t.path("run", strconv.Itoa(i), "status")
		for _, sub := range []string{"results", "artifacts"} {
			if err := mkdirAll(filepath.Join(status, sub)); err != nil {
				return err
			}
		}
		rel := filepath.Join("..", "run", strconv.Itoa(i), "status")
		for _, link := range []string{stepContainerName(st.Name, i), strconv.Itoa(i)} {
			if err := os.Symlink(rel, t.path("steps", link)); err != nil && !errors.Is(err, os.ErrExist) {
				return err
			}
		}
	}
	return nil
}

// mountPoints returns the clean paths volumes are mounted on in an
// attempt's containers: its workspaces and the volumeMounts of its steps
// and sidecars.
func mountPoints(sa engine.StartAttempt) map[string]bool {
	keep := map[string]bool{}
	for _, w := range sa.Workspaces {
		keep[path.Clean(w.MountPath)] = true
	}
	add := func(mounts []corev1.VolumeMount, usages []v1.WorkspaceUsage) {
		for _, m := range mounts {
			keep[path.Clean(m.MountPath)] = true
		}
		for _, u := range usages {
			if u.MountPath != "" {
				keep[path.Clean(u.MountPath)] = true
			}
		}
	}
	if sa.Spec != nil {
		for i, st := range sa.Spec.Steps {
			add(st.VolumeMounts, st.Workspaces)
			// Each step's run directory is mounted read-only into the
			// task's other steps.
			keep[path.Join(tektonDir, "run", strconv.Itoa(i))] = true
		}
		for _, sc := range sa.Spec.Sidecars {
			add(sc.VolumeMounts, sc.Workspaces)
		}
	}
	return keep
}

// emptyDir removes everything in dir, which the containers see at root,
// except the mount points in keep and the directories leading to them:
// those are emptied in turn. (Here a mount point is an empty directory of
// the task's volume, or the volume's own directory bound elsewhere, so its
// contents go but the directory stays.)
func emptyDir(dir, root string, keep map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		p, seen := path.Join(root, e.Name()), filepath.Join(dir, e.Name())
		switch {
		case keep[p] && !e.IsDir():
		case e.IsDir() && (keep[p] || leadsTo(p, keep)):
			errs = append(errs, emptyDir(seen, p, keep))
		default:
			errs = append(errs, os.RemoveAll(seen))
		}
	}
	return errors.Join(errs...)
}

// leadsTo reports whether a path in keep lies below dir.
func leadsTo(dir string, keep map[string]bool) bool {
	for k := range keep {
		if strings.HasPrefix(k, dir+"/") {
			return true
		}
	}
	return false
}

func stepContainerName(name string, i int) string {
	if name == "" {
		return "step-unnamed-" + strconv.Itoa(i)
	}
	return "step-" + name
}

// startStep tells a step's container to run it.
func (t *task) startStep(d *driver, ss engine.StartStep) []engine.Event {
	a := t.att
	failed := func(msg string) []engine.Event {
		return []engine.Event{engine.StepFinished{Attempt: ss.Attempt, Step: ss.Step, ExitCode: -1, Reason: "StartFailed", Message: msg, StartedAt: time.Now(), At: time.Now()}}
	}
	if a == nil || a.id != ss.Attempt || ss.Step < 0 || ss.Step >= len(t.steps) {
		return failed("the step's attempt was not started")
	}
	c := t.steps[ss.Step]
	if ss.Process.Image != c.layout.Image {
		return failed(fmt.Sprintf("the step runs image %q, but its container was compiled with %q", ss.Process.Image, c.layout.Image))
	}
	if a.stopped {
		return []engine.Event{engine.StepFinished{Attempt: ss.Attempt, Step: ss.Step, ExitCode: -1, Reason: "Cancelled", StartedAt: time.Now(), At: time.Now()}}
	}
	run, err := t.processRun(ss.Process, c, fmt.Sprintf("%s-%d", ss.Process.Name, ss.Attempt.Retry))
	if err != nil {
		return failed(err.Error())
	}
	run.Timeout = control.Duration(ss.Process.Timeout)
	run.Grace = control.Duration(gracePeriod)
	seq, err := c.send(control.Command{Op: control.OpRun, Run: run})
	if err != nil {
		return failed(err.Error())
	}
	a.step, a.stepSeq = ss.Step, seq
	return nil
}

// processRun is how a step or sidecar container runs p: its command line
// as Tekton makes it, its plain environment and working directory.
func (t *task) processRun(p engine.Process, c *container, scriptName string) (*control.Run, error) {
	var argv []string
	switch {
	case p.Script != "":
		body := p.Script
		trimmed := strings.TrimLeft(body, " \t\r\n")
		if strings.HasPrefix(trimmed, "#!") {
			body = trimmed
		} else {
			body = "#!/bin/sh\nset -e\n" + body
		}
		name := scriptName + "-" + randomSuffix()
		if err := os.WriteFile(t.path("scripts", name), []byte(body), 0o755); err != nil {
			return nil, fmt.Errorf("write script: %w", err)
		}
		// The mode is set whatever the umask: a step may run as any user.
		if err := os.Chmod(t.path("scripts", name), 0o755); err != nil {
			return nil, err
		}
		argv = append([]string{path.Join(tektonDir, "scripts", name)}, p.Args...)
	case len(p.Command) > 0:
		argv = append(append([]string{}, p.Command...), p.Args...)
	case len(c.layout.Entrypoint) > 0:
		argv = append(append([]string{}, c.layout.Entrypoint...), p.Args...)
	default:
		return nil, fmt.Errorf("%s gives no command or script, and no command of image %q was looked up when the Pod was compiled", p.Name, p.Image)
	}
	run := &control.Run{Argv: argv, Label: p.Name, Stdout: p.StdoutPath, Stderr: p.StderrPath}
	for _, e := range p.Env {
		// Values from Secrets, ConfigMaps and the downward API are in
		// the container's environment already.
		if e.ValueFrom == nil {
			run.Env = append(run.Env, control.EnvVar{Name: e.Name, Value: e.Value})
		}
	}
	if wd := p.WorkingDir; wd != "" {
		if !path.IsAbs(wd) {
			wd = path.Join(workspaceDir, wd)
		}
		run.Dir = wd
	}
	return run, nil
}

// probeOf turns a readiness probe into the runner's form; named ports are
// looked up in the container's ports.
func probeOf(p *corev1.Probe, ports map[string]int32) *control.Probe {
	out := &control.Probe{
		InitialDelay: control.Duration(time.Duration(p.InitialDelaySeconds) * time.Second),
		Period:       control.Duration(time.Duration(p.PeriodSeconds) * time.Second),
		Timeout:      control.Duration(time.Duration(p.TimeoutSeconds) * time.Second),
	}
	port := func(ip intstr.IntOrString) int {
		if ip.Type == intstr.String {
			return int(ports[ip.StrVal])
		}
		return ip.IntValue()
	}
	switch {
	case p.Exec != nil:
		out.Exec = p.Exec.Command
	case p.TCPSocket != nil:
		out.TCPPort = port(p.TCPSocket.Port)
	case p.HTTPGet != nil:
		out.HTTPPort = port(p.HTTPGet.Port)
		out.HTTPPath = p.HTTPGet.Path
		out.HTTPS = strings.EqualFold(string(p.HTTPGet.Scheme), "https")
	}
	return out
}

// stop stops the running attempt: its step and its sidecars.
func (t *task) stop(d *driver, id engine.AttemptID) {
	a := t.att
	if a == nil || a.id != id {
		return
	}
	a.stopped = true
	if a.step >= 0 {
		if _, err := t.steps[a.step].send(control.Command{Op: control.OpStop, Target: a.stepSeq, Grace: control.Duration(gracePeriod)}); err != nil {
			d.log.Error("stop step", "taskRun", id.TaskRun, "err", err)
		}
	}
	t.stopSidecars(d)
}

// end ends an attempt: its sidecars are stopped.
func (t *task) end(d *driver, id engine.AttemptID) {
	a := t.att
	if a == nil || a.id != id {
		return
	}
	t.stopSidecars(d)
	t.att = nil
}

func (t *task) stopSidecars(d *driver) {
	a := t.att
	for i, seq := range a.sidecarSeq {
		if seq == 0 {
			continue
		}
		if _, err := t.sidecars[i].send(control.Command{Op: control.OpStop, Target: seq, Grace: control.Duration(gracePeriod)}); err != nil {
			d.log.Error("stop sidecar", "taskRun", a.id.TaskRun, "err", err)
		}
		a.sidecarSeq[i] = 0
	}
}

// exit tells every container of the task to exit.
func (t *task) exit(d *driver) {
	t.exiting = true
	for _, c := range t.containers() {
		if _, err := c.send(control.Command{Op: control.OpExit, Grace: control.Duration(gracePeriod)}); err != nil {
			d.log.Error("exit", "container", c.layout.Container, "err", err)
		}
	}
}

// poll reads the events the task's containers wrote and returns what the
// engine learns from them.
func (t *task) poll(d *driver) []engine.Event {
	var out []engine.Event
	for i, c := range t.steps {
		for _, ev := range t.read(d, c) {
			if e, ok := t.stepEvent(d, i, ev); ok {
				out = append(out, e)
			}
		}
	}
	for i, c := range t.sidecars {
		for _, ev := range t.read(d, c) {
			if e, ok := t.sidecarEvent(i, ev); ok {
				out = append(out, e)
			}
		}
	}
	return out
}

func (t *task) read(d *driver, c *container) []control.Event {
	if c.exited {
		return nil
	}
	evs, err := control.ReadEvents(c.dir, c.seen)
	if err != nil {
		d.log.Error("read events", "container", c.layout.Container, "err", err)
	}
	for _, ev := range evs {
		if ev.Kind == control.KindExited {
			c.exited = true
		}
	}
	return evs
}

// stepEvent turns a step container's event into the engine's.
func (t *task) stepEvent(d *driver, i int, ev control.Event) (engine.Event, bool) {
	a := t.att
	if ev.Kind != control.KindDone || a == nil || a.step != i || a.stepSeq != ev.Seq {
		return nil, false
	}
	a.step, a.stepSeq = -1, 0
	status := t.path("run", strconv.Itoa(i), "status")
	maxSize := d.maxRead
	sf := engine.StepFinished{
		Attempt:     a.id,
		Step:        i,
		ExitCode:    ev.ExitCode,
		Message:     ev.Message,
		StartedAt:   ev.StartedAt,
		At:          ev.At,
		Results:     readDir(filepath.Join(status, "results"), maxSize),
		TaskResults: readDir(t.path("results"), maxSize),
	}
	if sf.StartedAt.IsZero() {
		sf.StartedAt = ev.At
	}
	switch ev.Reason {
	case control.ReasonTimeoutExceeded:
		sf.Reason = "TimeoutExceeded"
	case control.ReasonStartFailed:
		sf.Reason = "StartFailed"
	case control.ReasonStopped:
		sf.Reason = "Cancelled"
	case control.ReasonOOMKilled:
		sf.Reason = "OOMKilled"
	}
	if a.stopped && sf.Reason == "" {
		sf.Reason = "Cancelled"
	}
	if b, err := readLimited(filepath.Join(status, "artifacts", "provenance.json"), maxSize); err == nil {
		sf.Artifacts = b
	}
	if ev.ExitCode >= 0 {
		_ = os.WriteFile(filepath.Join(status, "exitCode"), []byte(strconv.Itoa(ev.ExitCode)), 0o644)
	}
	return sf, true
}

// sidecarEvent turns a sidecar container's event into the engine's: once
// every sidecar is ready (or ended), the attempt's steps may start.
func (t *task) sidecarEvent(i int, ev control.Event) (engine.Event, bool) {
	a := t.att
	if a == nil || a.failed || ev.Seq != a.sidecarSeq[i] || !a.pending[i] {
		return nil, false
	}
	switch {
	case ev.Kind == control.KindDone && ev.Reason == control.ReasonStartFailed:
		a.failed = true
		return engine.AttemptFailed{Attempt: a.id, Reason: "SidecarFailed", Message: fmt.Sprintf("sidecar %q could not start: %s", t.sidecars[i].layout.Name, ev.Message), At: ev.At}, true
	case ev.Kind == control.KindReady,
		ev.Kind == control.KindStarted && a.spec.Sidecars[i].ReadinessProbe == nil,
		ev.Kind == control.KindDone:
		delete(a.pending, i)
	default:
		return nil, false
	}
	if len(a.pending) > 0 {
		return nil, false
	}
	return engine.SidecarsReady{Attempt: a.id, At: ev.At}, true
}

// readDir reads every regular file of dir as name -> contents, each at
// most limit bytes.
func readDir(dir string, limit int64) map[string]string {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := readLimited(filepath.Join(dir, e.Name()), limit)
		if err != nil {
			continue
		}
		out[e.Name()] = string(b)
	}
	return out
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

func randomSuffix() string {
	return newUID()[:8]
}
