package steprunner

import (
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/colo-ci/colo/internal/control"
)

// probePeriod bounds the time between two tries of a readiness probe, so
// that a sidecar is seen ready soon after it is.
const probePeriod = 50 * time.Millisecond

// probeUntilReady tries run's readiness probe until it passes (true) or
// the process ends (false).
func probeUntilReady(run control.Run, ended <-chan struct{}, reap *reaper) bool {
	p := run.Probe
	if d := time.Duration(p.InitialDelay); d > 0 {
		select {
		case <-ended:
			return false
		case <-time.After(d):
		}
	}
	period := time.Duration(p.Period)
	if period <= 0 || period > probePeriod {
		period = probePeriod
	}
	timeout := time.Duration(p.Timeout)
	if timeout <= 0 {
		timeout = time.Second
	}
	for {
		if probeOnce(p, run, timeout, reap) {
			return true
		}
		select {
		case <-ended:
			return false
		case <-time.After(period):
		}
	}
}

// probeOnce tries a probe once. In a Pod every container shares the
// network namespace, so a port of the sidecar is a port of 127.0.0.1.
func probeOnce(p *control.Probe, run control.Run, timeout time.Duration, reap *reaper) bool {
	switch {
	case len(p.Exec) > 0:
		env, vars := environ(os.Environ(), run.Env)
		path, err := lookPath(p.Exec[0], vars["PATH"], run.Dir)
		if err != nil {
			return false
		}
		cmd := &exec.Cmd{Path: path, Args: p.Exec, Env: env, Dir: run.Dir, SysProcAttr: &syscall.SysProcAttr{Setpgid: true}}
		exited, err := reap.start(cmd)
		if err != nil {
			return false
		}
		defer cmd.Process.Release()
		select {
		case ws := <-exited:
			return ws.Exited() && ws.ExitStatus() == 0
		case <-time.After(timeout):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			return false
		}
	case p.TCPPort > 0:
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.TCPPort)), timeout)
		if err != nil {
			return false
		}
		c.Close()
		return true
	case p.HTTPPort > 0:
		scheme := "http"
		tr := &http.Transport{}
		if p.HTTPS {
			scheme = "https"
			// As the kubelet does, a probe does not check certificates.
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec
		}
		defer tr.CloseIdleConnections()
		client := http.Client{Timeout: timeout, Transport: tr}
		resp, err := client.Get(scheme + "://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HTTPPort)) + p.HTTPPath)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode >= 200 && resp.StatusCode < 400
	}
	return true
}
