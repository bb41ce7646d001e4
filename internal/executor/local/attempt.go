package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/sandbox"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// attempt is one attempt of one TaskRun: its directories, its sandbox and
// the processes running in it.
type attempt struct {
	r    *runner
	spec engine.StartAttempt
	dir  string // host directory of this attempt
	// tekton is the host directory seen at /tekton: in the sandbox's
	// memory, as it holds only what the task's processes pass each
	// other and colo reads back at once. It is freed with the run's
	// memory directory, not when the attempt ends: removing a tree file
	// by file costs more than the kernel freeing the tmpfs at once.
	tekton string
	// memTekton is tekton relative to the sandbox's memory directory, ""
	// when it is not there.
	memTekton string
	task      string // name shown in log lines
	box       *sandbox.Group
	vols      map[string]string // task volume name -> host dir
	wsDir     map[string]string // task workspace name -> host dir (subPath applied)
	// mounts every process of the attempt sees, in mount order.
	mounts []sandbox.Mount

	// ready is closed once setUp has returned; box is set by then if it
	// succeeded.
	ready chan struct{}

	mu       sync.Mutex
	step     *running // the running step, if any
	sidecars []*running
	stopped  bool
	// ahead is the step the supervisor starts once the running one
	// exits 0, if any (see engine.StartStep.Next).
	ahead *ahead

	// creds are the entries of /tekton/creds that each step sees in its
	// $HOME (see writeCredentials).
	creds []string

	// shared makes the directories the task's processes share writable
	// for every user (see othersWrite).
	shared bool

	// shell is the /bin/sh every step and sidecar has (see imageShell),
	// mounted once for the attempt; "" when they differ.
	shell string
}

// ahead is a step handed to the supervisor to start the moment the step
// before exits 0. Its output waits in its pipes until the engine asks for
// the step and it is adopted; one the engine never asks for is stopped.
type ahead struct {
	step int
	p    engine.Process
	pr   *prepared
	// resolved is closed once proc is set (started) or not (err).
	resolved chan struct{}
	proc     *sandbox.Process
	at       time.Time // when it started
	err      error
}

// discard stops an ahead step that is not to be adopted and releases what
// it holds, once it has resolved.
func (h *ahead) discard() {
	<-h.resolved
	if h.proc != nil {
		_ = h.proc.Signal(syscall.SIGKILL)
		<-h.proc.Done()
	}
	if h.pr != nil {
		h.pr.release()
	}
}

// running is a process of the attempt and how to stop it.
type running struct {
	proc *sandbox.Process
	done chan struct{} // closed once the process ended and its output is read
	code int
	err  error
}

func newAttempt(r *runner, spec engine.StartAttempt) *attempt {
	dir := filepath.Join(r.opts.Store.Dir(), "attempts", spec.ID.TaskRun, strconv.Itoa(spec.ID.Retry))
	a := &attempt{r: r, spec: spec, dir: dir, vols: map[string]string{}, wsDir: map[string]string{}, ready: make(chan struct{})}
	a.task = spec.PipelineTask
	if a.task == "" {
		a.task = spec.ID.TaskRun
	}
	return a
}

// setUp makes the attempt's directories and sandbox, in its own goroutine
// so that many tasks start at once; ready is closed when it returns.
func (a *attempt) setUp(ctx context.Context) error {
	defer close(a.ready)
	sb, err := a.r.sandbox()
	if err != nil {
		return fmt.Errorf("set up the task's filesystem: %w", err)
	}
	if m := sb.Memory(); m != "" {
		a.memTekton = filepath.Join(a.r.memoryDir, a.spec.ID.TaskRun, strconv.Itoa(a.spec.ID.Retry), "tekton")
		a.tekton = filepath.Join(m, a.memTekton)
	} else {
		a.tekton = filepath.Join(a.dir, "tekton")
	}
	if err := a.layout(); err != nil {
		return err
	}
	// A Pod's host name is its name, cut to the 63 characters a host
	// name may have.
	host := a.spec.ID.TaskRun + "-pod"
	if len(host) > 63 {
		host = strings.TrimRight(host[:63], "-.")
	}
	g, err := sb.Group(sandbox.Spec{Mounts: a.mounts, Hostname: host})
	if err != nil {
		return fmt.Errorf("set up the task's filesystem: %w", err)
	}
	a.box = g
	return nil
}

// tektonDirs are the directories Tekton gives every task under /tekton.
var tektonDirs = []string{"results", "steps", "home", "scripts", "run", "creds", "artifacts", "bin", "downward"}

// layout makes the attempt's directories and works out what is mounted where.
func (a *attempt) layout() error {
	tekton := a.tekton
	wsRoot := filepath.Join(a.dir, "workspace")
	// The attempt's directories are new: make their parents first, then
	// one mkdir each rather than MkdirAll's walk up for every path.
	if err := os.MkdirAll(a.dir, 0o777); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(tekton), 0o777); err != nil {
		return err
	}
	dirs := []string{tekton, wsRoot}
	for _, d := range tektonDirs {
		dirs = append(dirs, filepath.Join(tekton, d))
	}
	// Each step's run directory, empty as its volume is upstream; its
	// status directory is made when the step is about to start (see
	// statusDirs), as upstream's entrypoint makes it.
	for i := range a.spec.Spec.Steps {
		dirs = append(dirs, filepath.Join(tekton, "run", strconv.Itoa(i)))
	}
	a.shared = a.othersWrite()
	if err := a.mkdirs(dirs...); err != nil {
		return err
	}
	// The downward API's ready file: sidecars are awaited by colo itself,
	// but a step that looks for it finds it.
	if err := os.WriteFile(filepath.Join(tekton, "downward", "ready"), []byte("READY"), 0o644); err != nil {
		return err
	}
	for i, st := range a.spec.Spec.Steps {
		rel := filepath.Join("..", "run", strconv.Itoa(i), "status")
		for _, link := range []string{stepContainerName(st.Name, i), strconv.Itoa(i)} {
			if err := os.Symlink(rel, filepath.Join(tekton, "steps", link)); err != nil && !errors.Is(err, os.ErrExist) {
				return err
			}
		}
	}
	if err := shims(filepath.Join(tekton, "bin"), &a.r.programs); err != nil {
		return err
	}
	if err := a.writeCredentials(filepath.Join(tekton, "creds")); err != nil {
		return withReason("CreateContainerConfigError", err)
	}
	if a.shell = a.commonShell(); a.shell != "" {
		a.mounts = append(a.mounts, sandbox.Mount{Source: a.shell, Target: "/bin/sh", ReadOnly: true})
	}
	a.mounts = append(a.mounts,
		sandbox.Mount{Source: wsRoot, Target: "/workspace"},
		sandbox.Mount{Source: tekton, Target: "/tekton"},
		// Every step and sidecar reads the run directories; each step
		// writes only its own, mounted for it alone.
		sandbox.Mount{Source: filepath.Join(tekton, "run"), Target: "/tekton/run", ReadOnly: true},
	)

	// Volumes: the task's own and the pod template's.
	vols := append([]corev1.Volume{}, a.spec.Spec.Volumes...)
	if a.spec.PodTemplate != nil {
		vols = append(vols, a.spec.PodTemplate.Volumes...)
	}
	for _, v := range vols {
		d, err := a.volume(v)
		if err != nil {
			return withReason("CreateContainerConfigError", fmt.Errorf("volume %q: %w", v.Name, err))
		}
		a.vols[v.Name] = d
	}
	for _, ws := range a.spec.Workspaces {
		if ws.Binding == nil {
			continue
		}
		d, err := a.workspace(ws)
		if err != nil {
			return withReason("CreateContainerConfigError", fmt.Errorf("workspace %q: %w", ws.Name, err))
		}
		a.wsDir[ws.Name] = d
		if !isolated(a.spec.Spec, ws.Name) {
			a.mounts = append(a.mounts, sandbox.Mount{Source: d, Target: ws.MountPath, ReadOnly: ws.ReadOnly})
		}
	}
	sortMounts(a.mounts)
	return nil
}

// commonShell returns the shell of the images of all the attempt's steps
// and sidecars, or "" if they have different ones or keep the machine's.
func (a *attempt) commonShell() string {
	var images []string
	for _, s := range a.spec.Spec.Steps {
		// A step's image, or else its template's, as merging them gives.
		image := s.Image
		if image == "" && a.spec.Spec.StepTemplate != nil {
			image = a.spec.Spec.StepTemplate.Image
		}
		images = append(images, image)
	}
	for _, sc := range a.spec.Sidecars {
		images = append(images, sc.Image)
	}
	shell := ""
	for i, image := range images {
		sh := imageShell(image, &a.r.programs)
		if sh == "" || i > 0 && sh != shell {
			return ""
		}
		shell = sh
	}
	return shell
}

// isolated reports whether a workspace is named by some step or sidecar,
// which makes it visible to those alone.
func isolated(ts *v1.TaskSpec, name string) bool {
	for _, s := range ts.Steps {
		for _, w := range s.Workspaces {
			if w.Name == name {
				return true
			}
		}
	}
	for _, s := range ts.Sidecars {
		for _, w := range s.Workspaces {
			if w.Name == name {
				return true
			}
		}
	}
	return false
}

// processMounts is what one step (i >= 0) or sidecar (i < 0) sees beyond
// the attempt's own mounts, as a container has its own volumeMounts: its
// volumeMounts, the workspaces it names, its own run directory (the only
// one writable for it, so no step can forge another's results or exit
// code), and the shell of its image.
func (a *attempt) processMounts(p engine.Process, i int) ([]sandbox.Mount, error) {
	ms, err := a.volumeMounts(p)
	if err != nil {
		return nil, err
	}
	run := filepath.Join(a.tekton, "run")
	if i >= 0 {
		ms = append(ms, sandbox.Mount{Source: filepath.Join(run, strconv.Itoa(i)), Target: "/tekton/run/" + strconv.Itoa(i)})
		creds, err := a.credentialMounts(p)
		if err != nil {
			return nil, err
		}
		ms = append(ms, creds...)
	}
	// The attempt's shell is the process's, unless a mount of its own
	// covers it.
	if sh := imageShell(p.Image, &a.r.programs); sh != "" && (sh != a.shell || coversShell(ms)) {
		ms = append(ms, sandbox.Mount{Source: sh, Target: "/bin/sh", ReadOnly: true})
	}
	sortMounts(ms)
	return ms, nil
}

// volumeMounts are a step's or sidecar's volumeMounts and the workspaces
// it names.
func (a *attempt) volumeMounts(p engine.Process) ([]sandbox.Mount, error) {
	var ms []sandbox.Mount
	for _, vm := range p.VolumeMounts {
		d, ok := a.vols[vm.Name]
		if !ok {
			// A mount of a workspace's volume by name.
			if wd, ok := a.workspaceByVolume(vm.Name); ok {
				d = wd
			} else {
				return nil, fmt.Errorf("volumeMount %q names no volume", vm.Name)
			}
		}
		if vm.SubPath != "" {
			d = filepath.Join(d, vm.SubPath)
			if err := os.MkdirAll(d, 0o777); err != nil {
				return nil, err
			}
			if err := a.share(d); err != nil {
				return nil, err
			}
		}
		ms = append(ms, sandbox.Mount{Source: d, Target: vm.MountPath, ReadOnly: vm.ReadOnly})
	}
	for _, w := range p.Workspaces {
		d, ok := a.wsDir[w.Name]
		if !ok {
			continue
		}
		target := w.MountPath
		if target == "" {
			for _, ws := range a.spec.Workspaces {
				if ws.Name == w.Name {
					target = ws.MountPath
				}
			}
		}
		ro := false
		for _, ws := range a.spec.Workspaces {
			if ws.Name == w.Name {
				ro = ws.ReadOnly
			}
		}
		ms = append(ms, sandbox.Mount{Source: d, Target: target, ReadOnly: ro})
	}
	return ms, nil
}

// workspaceByVolume returns the directory of the workspace a volumeMount
// names: by the workspace's name, or by $(workspaces.<w>.volume).
func (a *attempt) workspaceByVolume(name string) (string, bool) {
	if d, ok := a.wsDir[name]; ok {
		return d, true
	}
	for w, d := range a.wsDir {
		if engine.WorkspaceVolume(w) == name {
			return d, true
		}
	}
	return "", false
}

// coversShell reports whether one of ms hides /bin/sh.
func coversShell(ms []sandbox.Mount) bool {
	for _, m := range ms {
		if t := filepath.Clean(m.Target); t == "/" || t == "/bin" || t == "/bin/sh" {
			return true
		}
	}
	return false
}

func sortMounts(ms []sandbox.Mount) {
	sort.SliceStable(ms, func(i, j int) bool {
		return strings.Count(filepath.Clean(ms[i].Target), "/") < strings.Count(filepath.Clean(ms[j].Target), "/")
	})
}

// hostPath maps a path as a process sees it to the host path behind it.
func (a *attempt) hostPath(p string, own []sandbox.Mount) string {
	p = filepath.Clean(p)
	best, bestLen := p, -1
	for _, m := range append(append([]sandbox.Mount{}, a.mounts...), own...) {
		t := filepath.Clean(m.Target)
		if (p == t || strings.HasPrefix(p, t+"/")) && len(t) >= bestLen {
			best, bestLen = filepath.Join(m.Source, strings.TrimPrefix(p, t)), len(t)
		}
	}
	return best
}

// user returns the user and group a process runs as: its securityContext's,
// else the pod template's, as for a container in a Pod; ok is false when
// neither sets a user.
func (a *attempt) user(p engine.Process) (uid, gid int, ok bool) {
	var user, group *int64
	if pt := a.spec.PodTemplate; pt != nil && pt.SecurityContext != nil {
		user, group = pt.SecurityContext.RunAsUser, pt.SecurityContext.RunAsGroup
	}
	if sc := p.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			user = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			group = sc.RunAsGroup
		}
	}
	if user == nil {
		return 0, 0, false
	}
	if group != nil {
		gid = int(*group)
	}
	return int(*user), gid, true
}

// othersWrite reports whether a process of the attempt runs as a user
// other than root: then the directories its steps share are made
// writable for every user, as a Pod's emptyDirs are.
func (a *attempt) othersWrite() bool {
	if os.Geteuid() != 0 {
		return false
	}
	var procs []engine.Process
	if t := a.spec.Spec.StepTemplate; t != nil {
		procs = append(procs, engine.Process{SecurityContext: t.SecurityContext})
	}
	for _, st := range a.spec.Spec.Steps {
		procs = append(procs, engine.Process{SecurityContext: st.SecurityContext})
	}
	procs = append(procs, a.spec.Sidecars...)
	for _, p := range procs {
		if uid, _, ok := a.user(p); ok && uid != 0 {
			return true
		}
	}
	return false
}

// share makes dir writable for every user when the attempt needs it (see
// othersWrite), whatever the umask.
// statusDirs makes step i's status directory, with its results and
// artifacts directories, unless an earlier start of the step (one started
// ahead and dropped) made them.
func (a *attempt) statusDirs(i int) error {
	status := filepath.Join(a.tekton, "run", strconv.Itoa(i), "status")
	return a.mkdirs(status, filepath.Join(status, "results"), filepath.Join(status, "artifacts"))
}

// mkdirs makes each directory, parents first, unless it exists, open to
// every user of the attempt (see share).
func (a *attempt) mkdirs(dirs ...string) error {
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o777); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		if err := a.share(d); err != nil {
			return err
		}
	}
	return nil
}

func (a *attempt) share(dir string) error {
	if !a.shared {
		return nil
	}
	return os.Chmod(dir, 0o777)
}

func stepContainerName(name string, i int) string {
	if name == "" {
		return "step-unnamed-" + strconv.Itoa(i)
	}
	return "step-" + name
}

// startSidecars starts the attempt's sidecars and reports when all are
// ready (at once when there are none).
func (a *attempt) startSidecars() {
	if len(a.spec.Sidecars) == 0 {
		a.r.send(engine.SidecarsReady{Attempt: a.spec.ID, At: time.Now()})
		return
	}
	var ready sync.WaitGroup
	failed := make(chan error, len(a.spec.Sidecars))
	for _, sc := range a.spec.Sidecars {
		mounts, err := a.processMounts(sc, -1)
		var run *running
		if err == nil {
			run, err = a.start(sc, -1, mounts, nil)
		}
		if err != nil {
			a.r.send(engine.AttemptFailed{Attempt: a.spec.ID, Reason: "SidecarFailed", Message: fmt.Sprintf("sidecar %q: %v", sc.Name, err), At: time.Now()})
			return
		}
		a.mu.Lock()
		a.sidecars = append(a.sidecars, run)
		a.mu.Unlock()
		ready.Add(1)
		go func(sc engine.Process, run *running, mounts []sandbox.Mount) {
			defer ready.Done()
			if err := a.awaitReady(sc, run, mounts); err != nil {
				failed <- fmt.Errorf("sidecar %q: %w", sc.Name, err)
			}
		}(sc, run, mounts)
	}
	a.r.wg.Add(1)
	go func() {
		defer a.r.wg.Done()
		ready.Wait()
		select {
		case err := <-failed:
			a.r.send(engine.AttemptFailed{Attempt: a.spec.ID, Reason: "SidecarFailed", Message: err.Error(), At: time.Now()})
		default:
			a.r.send(engine.SidecarsReady{Attempt: a.spec.ID, At: time.Now()})
		}
	}()
}

// startStep runs one step and reports StepFinished when it ends. It
// returns at once; the step starts when the attempt's set-up is done.
func (a *attempt) startStep(i int, p engine.Process, next *engine.Process) {
	a.r.wg.Add(1)
	go func() {
		defer a.r.wg.Done()
		<-a.ready
		a.r.send(a.runStep(i, p, next))
	}()
}

// goAhead prepares step i+1, next, while step i starts, and hands it to
// the supervisor to start once step i exits 0; the caller passes step i's
// process, or nil if it did not start, to the function it returns. It does
// so only when that is safe: not for a step that writes its output to
// files of its own (they would appear for a step that may never run).
func (a *attempt) goAhead(i int, next *engine.Process) func(prev *sandbox.Process) {
	if next == nil || next.StdoutPath != "" || next.StderrPath != "" || a.memTekton == "" {
		// Without the memory directory, colo writes a step's exit
		// code itself, which the step after may read.
		return func(*sandbox.Process) {}
	}
	h := &ahead{step: i + 1, p: *next, resolved: make(chan struct{})}
	a.mu.Lock()
	if a.stopped || a.ahead != nil {
		a.mu.Unlock()
		return func(*sandbox.Process) {}
	}
	a.ahead = h
	a.mu.Unlock()
	prevc := make(chan *sandbox.Process, 1)
	a.r.wg.Add(1)
	go func() {
		defer a.r.wg.Done()
		defer close(h.resolved)
		own, err := a.processMounts(*next, i+1)
		if err == nil {
			h.pr, err = a.prepare(*next, i+1, own, nil)
		}
		prev := <-prevc
		switch {
		case err != nil:
			h.err = err
		case prev == nil:
			h.err = fmt.Errorf("step %d did not start", i)
		default:
			h.proc, h.err = a.box.StartAfter(h.pr.cmd, prev)
			h.at = time.Now()
		}
		if h.pr != nil {
			h.pr.started()
		}
	}()
	return func(prev *sandbox.Process) { prevc <- prev }
}

// takeAhead takes step i, if it was handed to the supervisor ahead, from
// the attempt; adopt then waits for it.
func (a *attempt) takeAhead(i int) *ahead {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.ahead
	if h == nil || h.step > i {
		return nil
	}
	a.ahead = nil
	return h
}

// adopt returns step i started ahead as h, as p, or nil when it was not:
// then the caller starts it itself.
func (a *attempt) adopt(h *ahead, i int, p engine.Process) (*prepared, *sandbox.Process, time.Time) {
	if h == nil {
		return nil, nil, time.Time{}
	}
	<-h.resolved
	if h.step != i || h.proc == nil || !equality.Semantic.DeepEqual(h.p, p) {
		h.discard()
		return nil, nil, time.Time{}
	}
	return h.pr, h.proc, h.at
}

// runStep runs step i to its end and says how it ended; next is the step
// after it, if known ahead.
func (a *attempt) runStep(i int, p engine.Process, next *engine.Process) engine.StepFinished {
	started := time.Now()
	failed := func(reason string, err error) engine.StepFinished {
		ev := engine.StepFinished{Attempt: a.spec.ID, Step: i, ExitCode: -1, Reason: reason, StartedAt: started, At: time.Now()}
		if err != nil {
			ev.Message = err.Error()
		}
		return ev
	}
	if a.isStopped() {
		return failed("Cancelled", nil)
	}
	var run *running
	// The step after is prepared while this one's start is awaited.
	h := a.takeAhead(i)
	follow := a.goAhead(i, next)
	defer func() {
		if run == nil {
			follow(nil)
		}
	}()
	if pr, proc, at := a.adopt(h, i, p); proc != nil {
		var err error
		if run, err = a.attach(pr, proc); err != nil {
			return failed("StartFailed", err)
		}
		started = at
	} else {
		own, err := a.processMounts(p, i)
		if err != nil {
			return failed("StartFailed", err)
		}
		var stdoutFile, stderrFile string
		if p.StdoutPath != "" {
			stdoutFile = a.hostPath(p.StdoutPath, own)
		}
		if p.StderrPath != "" {
			stderrFile = a.hostPath(p.StderrPath, own)
		}
		if run, err = a.start(p, i, own, &outputs{stdout: stdoutFile, stderr: stderrFile}); err != nil {
			return failed("StartFailed", err)
		}
	}
	follow(run.proc)
	a.mu.Lock()
	a.step = run
	stopped := a.stopped
	a.mu.Unlock()
	if stopped {
		// Stopped while it was starting: stop finds no step to stop then.
		go terminate(run)
	}

	var timeout <-chan time.Time
	if p.Timeout > 0 {
		// From when it started: a step started ahead has run a moment.
		t := time.NewTimer(p.Timeout - time.Since(started))
		defer t.Stop()
		timeout = t.C
	}
	reason := ""
	select {
	case <-run.done:
	case <-timeout:
		reason = "TimeoutExceeded"
		terminate(run)
	}
	<-run.done
	code, werr := run.code, run.err
	if a.isStopped() && reason == "" {
		reason = "Cancelled"
	}
	msg := ""
	if werr != nil {
		msg = werr.Error()
	}
	status := filepath.Join(a.tekton, "run", strconv.Itoa(i), "status")
	ev := engine.StepFinished{
		Attempt:     a.spec.ID,
		Step:        i,
		ExitCode:    code,
		Reason:      reason,
		Message:     msg,
		StartedAt:   started,
		At:          time.Now(),
		Results:     readDir(filepath.Join(status, "results")),
		TaskResults: readDir(filepath.Join(a.tekton, "results")),
	}
	if b, err := os.ReadFile(filepath.Join(status, "artifacts", "provenance.json")); err == nil {
		ev.Artifacts = b
	}
	if a.memTekton == "" {
		// In the memory directory, the supervisor has written it.
		_ = os.WriteFile(filepath.Join(status, "exitCode"), []byte(strconv.Itoa(code)), 0o644)
	}
	return ev
}

// stepDone is called by the run loop when a step's finish was observed.
func (a *attempt) stepDone(int) {
	a.mu.Lock()
	a.step = nil
	a.mu.Unlock()
}

// stop terminates the running step and the sidecars, and any step
// started ahead.
func (a *attempt) stop() {
	a.mu.Lock()
	a.stopped = true
	procs := append([]*running{}, a.sidecars...)
	if a.step != nil {
		procs = append(procs, a.step)
	}
	h := a.ahead
	a.ahead = nil
	a.mu.Unlock()
	if h != nil {
		go h.discard()
	}
	for _, p := range procs {
		go terminate(p)
	}
}

// close stops the sidecars and tears the sandbox down.
func (a *attempt) close() {
	a.mu.Lock()
	side := append([]*running{}, a.sidecars...)
	h := a.ahead
	a.ahead = nil
	a.mu.Unlock()
	if h != nil {
		// Started ahead for a step the engine did not ask for.
		h.discard()
	}
	var wg sync.WaitGroup
	for _, p := range side {
		wg.Add(1)
		go func(p *running) { defer wg.Done(); terminate(p) }(p)
	}
	wg.Wait()
	<-a.ready
	if a.box != nil {
		_ = a.box.Close()
	}
}

// terminate sends SIGTERM, then SIGKILL after the grace period.
func terminate(p *running) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.proc.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(gracePeriod):
		_ = p.proc.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// readDir reads every regular file of dir as name -> contents.
func readDir(dir string) map[string]string {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		out[e.Name()] = string(b)
	}
	return out
}

// outputs are files a step's stdout and stderr are also written to.
type outputs struct{ stdout, stderr string }

// start starts a step (i >= 0) or sidecar (i < 0) in the attempt's sandbox.
func (a *attempt) start(p engine.Process, i int, mounts []sandbox.Mount, outs *outputs) (*running, error) {
	pr, err := a.prepare(p, i, mounts, outs)
	if err != nil {
		return nil, err
	}
	proc, err := a.box.Start(pr.cmd)
	// A script written just now may still be open for writing in a
	// process forked at that moment (by another attempt starting its
	// sandbox) until that process execs: the kernel refuses to run it
	// meanwhile. That passes within milliseconds.
	for try := 0; errors.Is(err, syscall.ETXTBSY) && try < 50; try++ {
		time.Sleep(2 * time.Millisecond)
		proc, err = a.box.Start(pr.cmd)
	}
	pr.started()
	if err != nil {
		pr.release()
		return nil, err
	}
	return a.attach(pr, proc)
}

// prepared is a process ready to be started: its command, and the pipes
// and files its output goes to.
type prepared struct {
	p     engine.Process
	cmd   sandbox.Cmd
	label string
	sinks [2][]io.Writer
	// rd and wr are the read and write ends of the stdout and stderr
	// pipes; wr is closed once the process has started (or not).
	rd, wr [2]*os.File
}

// started closes the write ends of the pipes, which the process holds now.
func (pr *prepared) started() {
	for k, w := range pr.wr {
		if w != nil {
			w.Close()
			pr.wr[k] = nil
		}
	}
}

// release closes what pr holds, for a process that is not to run.
func (pr *prepared) release() {
	pr.started()
	for _, r := range pr.rd {
		if r != nil {
			r.Close()
		}
	}
	for _, ws := range pr.sinks {
		for _, w := range ws {
			if c, ok := w.(io.Closer); ok {
				c.Close()
			}
		}
	}
}

// prepare works out how to start a step (i >= 0) or sidecar (i < 0).
func (a *attempt) prepare(p engine.Process, i int, mounts []sandbox.Mount, outs *outputs) (*prepared, error) {
	if a.box == nil {
		return nil, fmt.Errorf("the task's sandbox is not set up")
	}
	if i >= 0 {
		if err := a.statusDirs(i); err != nil {
			return nil, err
		}
	}
	argv, err := a.argv(p, i)
	if err != nil {
		return nil, err
	}
	env, err := a.env(p)
	if err != nil {
		return nil, withReason("CreateContainerConfigError", err)
	}
	pr := &prepared{p: p}
	pr.label = strings.TrimPrefix(strings.TrimPrefix(p.Name, "step-"), "sidecar-")
	if strings.HasPrefix(p.Name, "sidecar-") {
		pr.label = p.Name
	}
	if outs != nil {
		for k, path := range []string{outs.stdout, outs.stderr} {
			if path == "" {
				continue
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
				pr.release()
				return nil, err
			}
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
			if err != nil {
				pr.release()
				return nil, err
			}
			pr.sinks[k] = append(pr.sinks[k], f)
		}
	}
	for k := range pr.rd {
		pr.rd[k], pr.wr[k], err = os.Pipe()
		if err != nil {
			pr.release()
			return nil, err
		}
	}
	pr.cmd = sandbox.Cmd{
		Path:     argv[0],
		Args:     argv,
		Env:      env,
		Dir:      p.WorkingDir,
		Stdout:   pr.wr[0],
		Stderr:   pr.wr[1],
		MkdirDir: p.WorkingDir != "",
		Mounts:   mounts,
		// Steps run one after another: each has its mounts in the
		// group's namespace for steps, no namespace of its own.
		Exclusive: i >= 0,
	}
	if i >= 0 && a.memTekton != "" {
		// Written by the supervisor before the step after can start.
		pr.cmd.ExitCodeFile = filepath.Join(a.memTekton, "run", strconv.Itoa(i), "status", "exitCode")
	}
	if os.Geteuid() == 0 {
		if uid, gid, ok := a.user(p); ok {
			pr.cmd.UID, pr.cmd.GID = &uid, &gid
		}
	}
	return pr, nil
}

// attach copies the output of pr's process, started as proc, to its log,
// its files and the run's sink, and returns it running.
func (a *attempt) attach(pr *prepared, proc *sandbox.Process) (*running, error) {
	logw, err := a.r.opts.Store.StepLog(a.spec.ID.TaskRun, a.spec.ID.Retry, pr.p.Name)
	if err != nil {
		_ = proc.Signal(syscall.SIGKILL)
		pr.release()
		return nil, err
	}
	run := &running{proc: proc, done: make(chan struct{})}
	var copying sync.WaitGroup
	var logMu sync.Mutex
	for k, rd := range pr.rd {
		copying.Add(1)
		go func(rd *os.File, extra []io.Writer) {
			defer copying.Done()
			defer rd.Close()
			br := bufio.NewReaderSize(rd, 64*1024)
			for {
				line, err := br.ReadString('\n')
				if len(line) > 0 {
					for _, w := range extra {
						_, _ = io.WriteString(w, line)
					}
					logMu.Lock()
					_, _ = io.WriteString(logw, line)
					logMu.Unlock()
					if a.r.opts.Sink != nil {
						a.r.opts.Sink.Line(a.task, pr.label, strings.TrimRight(line, "\n"))
					}
				}
				if err != nil {
					break
				}
			}
			for _, w := range extra {
				if c, ok := w.(io.Closer); ok {
					c.Close()
				}
			}
		}(rd, pr.sinks[k])
	}
	go func() {
		exit, err := proc.Wait()
		run.code, run.err = exit.Code, err
		copying.Wait()
		close(run.done)
		// The log file may still be on its way to the disk: the run's
		// store waits for it at the end, the next step need not.
		_ = logw.Close()
	}()
	return run, nil
}
