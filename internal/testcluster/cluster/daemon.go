package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// RunDaemon is the cluster's supervisor. Up starts it as a separate process
// (in fresh network and mount namespaces for a full cluster); it starts the
// components in order, records their pids, serves the registry and forwards
// the host's API port into the namespace, and on SIGTERM or SIGINT stops
// everything in reverse order and exits.
func RunDaemon(ctx context.Context, log *slog.Logger, dir string) error {
	l := layout{dir}
	spec, err := readRunSpec(l)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	d := &daemon{log: log, l: l, spec: spec, exited: make(chan string, 16)}
	if err := d.prepare(); err != nil {
		return err
	}
	runErr := d.start(ctx)
	if runErr == nil {
		if err := os.WriteFile(l.run("ready"), []byte("ok\n"), 0o644); err != nil {
			return err
		}
		log.Info("cluster is up")
		d.watch(ctx)
	}
	stopErr := d.shutdown()
	return errors.Join(runErr, stopErr)
}

type daemon struct {
	log    *slog.Logger
	l      layout
	spec   runSpec
	exited chan string

	mu      sync.Mutex
	procs   []Proc
	cmds    map[string]*exec.Cmd
	servers []*http.Server
}

// prepare sets up the namespaces the daemon was started in: loopback and
// the node address, a tmpfs for containerd's runtime state, and its cgroup.
func (d *daemon) prepare() error {
	if len(d.spec.Cgroups) > 0 {
		if err := joinCgroup(d.spec.Cgroups); err != nil {
			return err
		}
	}
	if !d.spec.Namespaced {
		return nil
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", nodeIP + "/32", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %v: %w: %s", args, err, out)
		}
	}
	if err := os.MkdirAll(containerdRunDir, 0o711); err != nil {
		return err
	}
	// The mount namespace is private (Up started us with CLONE_NEWNS): the
	// tmpfs, and every mount the kubelet and containerd make, vanish with
	// the last process of the namespace.
	if err := syscall.Mount("tmpfs", containerdRunDir, "tmpfs", 0, "mode=0711"); err != nil {
		return fmt.Errorf("mounting tmpfs on %s: %w", containerdRunDir, err)
	}
	return nil
}

// start runs the registry, the forwarder and the components, each waiting
// for the one before it to be ready.
func (d *daemon) start(ctx context.Context) error {
	if d.spec.Namespaced {
		// fd 3 and 4 are the host listeners Up opened for us.
		apiHost, err := inheritedListener(3, "api-listener")
		if err != nil {
			return err
		}
		regHost, err := inheritedListener(4, "registry-listener")
		if err != nil {
			return err
		}
		regInner, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(registryPort))
		if err != nil {
			return fmt.Errorf("registry listener: %w", err)
		}
		reg := newRegistry(d.log.With("component", "registry"))
		for _, ln := range []net.Listener{regHost, regInner} {
			srv := &http.Server{Handler: reg, ReadHeaderTimeout: 10 * time.Second}
			d.servers = append(d.servers, srv)
			go func() { _ = srv.Serve(ln) }()
		}
		go forward(ctx, d.log, apiHost, "127.0.0.1:"+strconv.Itoa(d.spec.APIPort))
	}
	for _, c := range components(d.l, d.spec) {
		if err := d.run(c); err != nil {
			return err
		}
		if c.ready == nil {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		err := c.ready(rctx)
		cancel()
		if err != nil {
			return fmt.Errorf("%s did not get ready (see %s): %w", c.name, d.l.log(c.name), err)
		}
		d.log.Info("ready", "component", c.name)
	}
	return nil
}

// inheritedListener turns an inherited file descriptor into a listener.
// The descriptor itself is closed: it is not close-on-exec, and the
// components must not inherit it.
func inheritedListener(fd uintptr, name string) (net.Listener, error) {
	f := os.NewFile(fd, name)
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ln, nil
}

// run starts one component with its output in logs/NAME.log.
func (d *daemon) run(c component) error {
	logf, err := os.OpenFile(d.l.log(c.name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(c.args[0], c.args[1:]...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Dir = d.l.dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", c.name, err)
	}
	p, err := procOf(c.name, cmd.Process.Pid)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.procs = append(d.procs, p)
	if d.cmds == nil {
		d.cmds = map[string]*exec.Cmd{}
	}
	d.cmds[c.name] = cmd
	procs := append([]Proc(nil), d.procs...)
	d.mu.Unlock()
	if err := writeProcs(d.l.run("pids.json"), procs); err != nil {
		return err
	}
	d.log.Info("started", "component", c.name, "pid", p.PID)
	go func() {
		err := cmd.Wait()
		d.log.Info("exited", "component", c.name, "err", err)
		d.exited <- c.name
	}()
	return nil
}

// watch waits for a stop signal. A component that exits on its own is
// logged; the others keep running so that its log can be read.
func (d *daemon) watch(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case name := <-d.exited:
			d.log.Error("component exited unexpectedly", "component", name, "log", d.l.log(name))
		}
	}
}

// shutdown stops the components in reverse order. The Pods' processes go
// after the kubelet and before containerd; whatever containerd left behind
// (its shims) goes after containerd.
func (d *daemon) shutdown() error {
	d.mu.Lock()
	procs := append([]Proc(nil), d.procs...)
	d.mu.Unlock()
	comps := map[string]component{}
	for _, c := range components(d.l, d.spec) {
		comps[c.name] = c
	}
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		grace := comps[p.Name].grace
		if grace == 0 {
			grace = 5 * time.Second
		}
		if err := p.stop(grace); err != nil {
			errs = append(errs, err)
		}
		d.log.Info("stopped", "component", p.Name)
		switch {
		case p.Name == "kubelet" && len(d.spec.Cgroups) > 0:
			if err := killCgroup(d.spec.Cgroups, "pods"); err != nil {
				errs = append(errs, err)
			}
		case p.Name == "containerd" && len(d.spec.Cgroups) > 0:
			if err := d.killStrays(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, s := range d.servers {
		_ = s.Close()
	}
	return errors.Join(errs...)
}

// killStrays kills the processes in the cluster's cgroups that are neither
// the daemon nor a component still running (containerd's shims).
func (d *daemon) killStrays() error {
	except := []int{os.Getpid()}
	d.mu.Lock()
	for _, p := range d.procs {
		if p.Alive() {
			except = append(except, p.PID)
		}
	}
	d.mu.Unlock()
	return killCgroup(d.spec.Cgroups, "", except...)
}

// forward accepts connections on ln and joins each to a connection to
// target, dialled from the daemon's own network namespace.
func forward(ctx context.Context, log *slog.Logger, ln net.Listener, target string) {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				log.Error("forwarder stopped", "err", err)
			}
			return
		}
		go func() {
			defer c.Close()
			t, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				log.Warn("forward", "target", target, "err", err)
				return
			}
			defer t.Close()
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				if cw, ok := dst.(interface{ CloseWrite() error }); ok {
					_ = cw.CloseWrite()
				}
				done <- struct{}{}
			}
			go pipe(t, c)
			go pipe(c, t)
			<-done
			<-done
		}()
	}
}
