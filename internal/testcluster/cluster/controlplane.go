package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// ControlPlane is etcd and kube-apiserver run as children of the calling
// process, on 127.0.0.1 of the host, for tests of controllers that need an
// API server but no node. It needs neither root nor namespaces.
type ControlPlane struct {
	// Kubeconfig is an admin kubeconfig for the API server.
	Kubeconfig string
	// Server is the API server's URL.
	Server string
	log    *slog.Logger
	procs  []Proc
	cmds   []*exec.Cmd
	waited []chan struct{}
}

// StartControlPlane starts a control plane with its state in dir (which
// should be empty and is left in place), building etcd and kube-apiserver
// into cacheDir first if they are missing (DefaultCacheDir when empty).
func StartControlPlane(ctx context.Context, log *slog.Logger, dir, cacheDir string) (*ControlPlane, error) {
	if cacheDir == "" {
		var err error
		if cacheDir, err = DefaultCacheDir(); err != nil {
			return nil, err
		}
	}
	bins := Binaries{CacheDir: cacheDir, Log: log}
	if err := bins.Ensure(ctx, "etcd", "kube-apiserver"); err != nil {
		return nil, err
	}
	l := layout{dir}
	for _, d := range []string{"pki", "config", "data", "logs"} {
		if err := os.MkdirAll(l.path(d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := writePKI(l.path("pki")); err != nil {
		return nil, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	spec := runSpec{
		ControlPlaneOnly: true,
		APIPort:          ports[0], EtcdClientPort: ports[1], EtcdPeerPort: ports[2],
		Advertise: "127.0.0.1",
		Bin:       map[string]string{"etcd": bins.Path("etcd"), "kube-apiserver": bins.Path("kube-apiserver")},
	}
	cp := &ControlPlane{
		Kubeconfig: l.Kubeconfig(),
		Server:     "https://127.0.0.1:" + strconv.Itoa(spec.APIPort),
		log:        log,
	}
	if err := writeKubeconfig(l, cp.Kubeconfig, cp.Server, "admin"); err != nil {
		return nil, err
	}
	if err := writeKubeconfig(l, l.innerKubeconfig(), cp.Server, "admin"); err != nil {
		return nil, err
	}
	for _, c := range components(l, spec) {
		if err := cp.start(l, c); err != nil {
			return nil, errors.Join(err, cp.Stop())
		}
		rctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		err := c.ready(rctx)
		cancel()
		if err != nil {
			err = fmt.Errorf("%s did not get ready: %w; last lines of its log:\n%s", c.name, err, tail(l.log(c.name), 20))
			return nil, errors.Join(err, cp.Stop())
		}
	}
	return cp, nil
}

func (cp *ControlPlane) start(l layout, c component) error {
	logf, err := os.OpenFile(l.log(c.name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(c.args[0], c.args[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = logf, logf, l.dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", c.name, err)
	}
	p, err := procOf(c.name, cmd.Process.Pid)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	cp.procs, cp.cmds, cp.waited = append(cp.procs, p), append(cp.cmds, cmd), append(cp.waited, done)
	return nil
}

// Stop stops the API server and etcd.
func (cp *ControlPlane) Stop() error {
	var errs []error
	for i := len(cp.procs) - 1; i >= 0; i-- {
		if err := cp.procs[i].stop(10 * time.Second); err != nil {
			errs = append(errs, err)
		}
		<-cp.waited[i]
	}
	cp.procs, cp.cmds, cp.waited = nil, nil, nil
	return errors.Join(errs...)
}
