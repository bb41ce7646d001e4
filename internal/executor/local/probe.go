package local

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/sandbox"
)

// awaitReady waits until a sidecar is ready: at once without a readiness
// probe (a running container without one is ready), else when its probe
// passes. A sidecar that has already exited counts as ready, as upstream
// counts a terminated sidecar. An exec probe runs as a process of the
// sidecar's container would: with its mounts and working directory.
func (a *attempt) awaitReady(p engine.Process, run *running, mounts []sandbox.Mount) error {
	probe := p.ReadinessProbe
	if probe == nil {
		return nil
	}
	if d := time.Duration(probe.InitialDelaySeconds) * time.Second; d > 0 {
		select {
		case <-run.done:
			return nil
		case <-time.After(d):
		}
	}
	period := 100 * time.Millisecond
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		if a.isStopped() {
			return fmt.Errorf("stopped before it was ready")
		}
		if a.probeOnce(probe.ProbeHandler, p, mounts) {
			return nil
		}
		select {
		case <-run.done:
			return nil
		case <-time.After(period):
		}
	}
	return fmt.Errorf("readiness probe did not pass in time")
}

func (a *attempt) isStopped() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stopped
}

func (a *attempt) probeOnce(h corev1.ProbeHandler, p engine.Process, mounts []sandbox.Mount) bool {
	switch {
	case h.Exec != nil && len(h.Exec.Command) > 0:
		env, err := a.env(p)
		if err != nil {
			return false
		}
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return false
		}
		defer devnull.Close()
		proc, err := a.box.Start(sandbox.Cmd{
			Path: h.Exec.Command[0], Args: h.Exec.Command, Env: env,
			Dir: p.WorkingDir, Mounts: mounts, Stdout: devnull, Stderr: devnull,
		})
		if err != nil {
			return false
		}
		code, err := proc.Wait()
		return err == nil && code.Code == 0
	case h.TCPSocket != nil:
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port(h.TCPSocket.Port, p)), time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	case h.HTTPGet != nil:
		client := http.Client{Timeout: time.Second}
		resp, err := client.Get("http://" + net.JoinHostPort("127.0.0.1", port(h.HTTPGet.Port, p)) + h.HTTPGet.Path)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode >= 200 && resp.StatusCode < 400
	}
	return true
}

func port(p intstr.IntOrString, proc engine.Process) string {
	if p.Type == intstr.Int {
		return strconv.Itoa(p.IntValue())
	}
	return p.String()
}
