package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Options configure Up and Down.
type Options struct {
	// Dir is the state directory (DefaultStateDir when empty).
	Dir string
	// CacheDir holds built binaries (DefaultCacheDir when empty).
	CacheDir string
	// ControlPlaneOnly runs etcd and kube-apiserver alone.
	ControlPlaneOnly bool
	// Executable is a program whose "daemon --dir DIR" command runs
	// RunDaemon. Up copies it into the state directory.
	Executable string
	// RepoRoot is the root of colo's source tree, used to build the pause
	// and colo images. Images are skipped when empty.
	RepoRoot string
	Log      *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	var err error
	if o.Dir == "" {
		if o.Dir, err = DefaultStateDir(); err != nil {
			return o, err
		}
	}
	if o.CacheDir == "" {
		if o.CacheDir, err = DefaultCacheDir(); err != nil {
			return o, err
		}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return o, nil
}

// Up starts a cluster, or returns the running one. It installs missing
// packages, builds missing binaries, starts the supervisor, waits for the
// API server, pushes the test images and waits for the node to be Ready.
func Up(ctx context.Context, o Options) (State, error) {
	o, err := o.withDefaults()
	if err != nil {
		return State{}, err
	}
	l := layout{o.Dir}
	log := o.Log
	if s, err := readState(l); err == nil && s.Daemon.Alive() {
		if s.ControlPlaneOnly != o.ControlPlaneOnly {
			return s, fmt.Errorf("a cluster with controlPlaneOnly=%v is already up in %s: run down first", s.ControlPlaneOnly, o.Dir)
		}
		log.Info("cluster already up", "dir", o.Dir)
		return s, waitReady(ctx, l, s, log)
	}
	// Whatever a crashed cluster left behind goes first.
	if err := Down(ctx, o); err != nil {
		return State{}, fmt.Errorf("cleaning up an old cluster: %w", err)
	}

	full := !o.ControlPlaneOnly
	if full && os.Geteuid() != 0 {
		return State{}, errors.New("a full cluster needs root (namespaces, mounts, cgroups); run as root or use the control-plane-only mode")
	}
	if err := EnsurePackages(ctx, log, o.ControlPlaneOnly); err != nil {
		return State{}, err
	}
	names := []string{"etcd", "kube-apiserver", "kubectl"}
	if full {
		names = append(names, "kube-controller-manager", "kube-scheduler", "kubelet")
	}
	bins := Binaries{CacheDir: o.CacheDir, Log: log}
	if err := bins.Ensure(ctx, names...); err != nil {
		return State{}, err
	}
	start := time.Now()

	// A fresh cluster every time: state from an earlier run is wiped.
	for _, d := range []string{"pki", "config", "data", "run", "logs", "bin"} {
		if err := os.RemoveAll(l.path(d)); err != nil {
			return State{}, err
		}
		if err := os.MkdirAll(l.path(d), 0o755); err != nil {
			return State{}, err
		}
	}
	if err := writePKI(l.path("pki")); err != nil {
		return State{}, err
	}

	spec := runSpec{ControlPlaneOnly: o.ControlPlaneOnly, Namespaced: full, Bin: map[string]string{}}
	for _, n := range names {
		spec.Bin[n] = bins.Path(n)
	}
	var extra []*os.File
	var st State
	if full {
		spec.APIPort, spec.EtcdClientPort, spec.EtcdPeerPort = apiPort, etcdClientPort, etcdPeerPort
		spec.Advertise = nodeIP
		// The daemon inherits these listeners on the host's 127.0.0.1.
		for _, name := range []string{"api", "registry"} {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return State{}, err
			}
			f, err := ln.(*net.TCPListener).File()
			ln.Close()
			if err != nil {
				return State{}, err
			}
			defer f.Close()
			extra = append(extra, f)
			if name == "api" {
				st.APIServer = ln.Addr().String()
			} else {
				st.Registry = ln.Addr().String()
			}
		}
		if err := writeNodeConfig(l); err != nil {
			return State{}, err
		}
		if spec.Cgroups, err = makeCgroups(l.cgroupName()); err != nil {
			return State{}, err
		}
	} else {
		ports, err := freePorts(3)
		if err != nil {
			return State{}, err
		}
		spec.APIPort, spec.EtcdClientPort, spec.EtcdPeerPort = ports[0], ports[1], ports[2]
		spec.Advertise = "127.0.0.1"
		st.APIServer = "127.0.0.1:" + strconv.Itoa(spec.APIPort)
	}
	st.ControlPlaneOnly, st.Namespaced, st.Cgroups = o.ControlPlaneOnly, full, spec.Cgroups
	st.Kubeconfig = l.Kubeconfig()
	if err := writeKubeconfig(l, l.Kubeconfig(), "https://"+st.APIServer, "admin"); err != nil {
		return State{}, err
	}
	inner := "https://127.0.0.1:" + strconv.Itoa(spec.APIPort)
	if err := writeKubeconfig(l, l.innerKubeconfig(), inner, "admin"); err != nil {
		return State{}, err
	}
	if err := writeKubeconfig(l, l.kubeletKubeconfig(), inner, "kubelet-client"); err != nil {
		return State{}, err
	}
	if err := writeRunSpec(l, spec); err != nil {
		return State{}, err
	}

	daemon, err := startDaemon(l, o.Executable, full, extra)
	if err != nil {
		return State{}, err
	}
	st.Daemon = daemon
	if err := writeState(l, st); err != nil {
		return st, errors.Join(err, Down(ctx, o))
	}
	log.Info("supervisor started", "pid", daemon.PID, "log", l.log("daemon"))
	if err := finishUp(ctx, o, l, st, start); err != nil {
		// A half-started cluster is stopped; its logs stay for reading.
		log.Error("bringing the cluster up failed; stopping it", "logs", l.path("logs"))
		return st, errors.Join(err, Down(context.WithoutCancel(ctx), o))
	}
	return st, nil
}

// finishUp waits for the API server, pushes the images and waits for the
// node.
func finishUp(ctx context.Context, o Options, l layout, st State, start time.Time) error {
	log := o.Log
	if err := waitAPI(ctx, l, st); err != nil {
		return err
	}
	log.Info("API server ready", "address", st.APIServer, "after", time.Since(start).Round(time.Millisecond))
	if !st.ControlPlaneOnly && o.RepoRoot != "" {
		if err := PushImages(ctx, log, st.Registry, o.RepoRoot, ""); err != nil {
			return err
		}
	}
	if err := waitReady(ctx, l, st, log); err != nil {
		return err
	}
	log.Info("cluster ready", "after", time.Since(start).Round(time.Millisecond), "kubeconfig", st.Kubeconfig)
	return nil
}

// startDaemon copies the executable into the state directory and starts
// its daemon command, detached, in new network and mount namespaces for a
// full cluster.
func startDaemon(l layout, executable string, namespaced bool, extra []*os.File) (Proc, error) {
	if executable == "" {
		var err error
		if executable, err = os.Executable(); err != nil {
			return Proc{}, err
		}
	}
	bin := l.path("bin", "colo-cluster")
	if err := copyFile(executable, bin, 0o755); err != nil {
		return Proc{}, fmt.Errorf("copying the supervisor: %w", err)
	}
	logf, err := os.OpenFile(l.log("daemon"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return Proc{}, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "daemon", "--dir", l.dir)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Dir = l.dir
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if namespaced {
		cmd.SysProcAttr.Unshareflags = syscall.CLONE_NEWNET | syscall.CLONE_NEWNS
	}
	if err := cmd.Start(); err != nil {
		return Proc{}, fmt.Errorf("starting the supervisor: %w", err)
	}
	p, err := procOf("daemon", cmd.Process.Pid)
	if err != nil {
		return Proc{}, err
	}
	// The daemon outlives this process; nobody waits for it here.
	_ = cmd.Process.Release()
	return p, nil
}

// waitAPI waits for the API server's /readyz through the host address,
// failing early if the supervisor dies.
func waitAPI(ctx context.Context, l layout, st State) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	client, err := adminHTTPClient(l)
	if err != nil {
		return err
	}
	for {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		err := httpReady(rctx, "https://"+st.APIServer+"/readyz", client, "ok")
		rcancel()
		if err == nil {
			return nil
		}
		if !st.Daemon.Alive() {
			return fmt.Errorf("the supervisor exited; last lines of %s:\n%s", l.log("daemon"), tail(l.log("daemon"), 20))
		}
		if ctx.Err() != nil {
			return fmt.Errorf("API server not ready: %w; see %s", err, l.path("logs"))
		}
	}
}

// waitReady waits for the API server and, in a full cluster, for the node
// to be Ready and the default ServiceAccount to exist.
func waitReady(ctx context.Context, l layout, st State, log *slog.Logger) error {
	if err := waitAPI(ctx, l, st); err != nil {
		return err
	}
	if st.ControlPlaneOnly {
		return nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", st.Kubeconfig)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for {
		n, err := cs.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err == nil && nodeReady(n) {
			if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err == nil {
				return nil
			}
		}
		if !st.Daemon.Alive() {
			return fmt.Errorf("the supervisor exited; last lines of %s:\n%s", l.log("daemon"), tail(l.log("daemon"), 20))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %s not Ready: %w; see %s", nodeName, ctx.Err(), l.log("kubelet"))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Down stops the cluster in o.Dir: the supervisor first (it stops the
// components and the Pods), then, should anything survive, every recorded
// pid and every process in the cluster's cgroups. The namespaces and their
// mounts go with their last process.
func Down(ctx context.Context, o Options) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	l := layout{o.Dir}
	st, err := readState(l)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	if st.Daemon.Alive() {
		o.Log.Info("stopping the cluster", "pid", st.Daemon.PID)
		if err := st.Daemon.stop(2 * time.Minute); err != nil {
			errs = append(errs, err)
		}
	}
	procs, err := readProcs(l.run("pids.json"))
	if err != nil {
		errs = append(errs, err)
	}
	for _, p := range procs {
		if p.Alive() {
			o.Log.Warn("stopping a leftover process", "component", p.Name, "pid", p.PID)
			if err := p.stop(5 * time.Second); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(st.Cgroups) > 0 {
		if pids := cgroupPids(st.Cgroups, ""); len(pids) > 0 {
			o.Log.Warn("killing leftover processes in the cluster's cgroups", "pids", pids)
			if err := killCgroup(st.Cgroups, ""); err != nil {
				errs = append(errs, err)
			}
		}
		if err := removeCgroups(st.Cgroups); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, f := range []string{l.stateFile(), l.run("pids.json"), l.run("ready")} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Status reports on the cluster in o.Dir.
func Status(ctx context.Context, o Options, w io.Writer) (State, error) {
	o, err := o.withDefaults()
	if err != nil {
		return State{}, err
	}
	l := layout{o.Dir}
	st, err := readState(l)
	if errors.Is(err, os.ErrNotExist) || (err == nil && !st.Daemon.Alive()) {
		fmt.Fprintf(w, "cluster: down (%s)\n", o.Dir)
		return State{}, ErrNotRunning
	}
	if err != nil {
		return st, err
	}
	mode := "full"
	if st.ControlPlaneOnly {
		mode = "control-plane-only"
	}
	fmt.Fprintf(w, "cluster: up (%s, %s)\nsupervisor: pid %d\napi server: https://%s\n", mode, o.Dir, st.Daemon.PID, st.APIServer)
	if st.Registry != "" {
		fmt.Fprintf(w, "registry: %s\n", st.Registry)
	}
	if st.Namespaced {
		fmt.Fprintf(w, "namespaces: nsenter -t %d -n -m\n", st.Daemon.PID)
	}
	procs, _ := readProcs(l.run("pids.json"))
	for _, p := range procs {
		state := "running"
		if !p.Alive() {
			state = "EXITED (see " + l.log(p.Name) + ")"
		}
		fmt.Fprintf(w, "  %-24s pid %-7d %s\n", p.Name, p.PID, state)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := waitAPIOnce(cctx, l, st); err != nil {
		fmt.Fprintf(w, "api: not ready: %v\n", err)
		return st, nil
	}
	fmt.Fprintln(w, "api: ready")
	return st, nil
}

// ErrNotRunning is returned by Status when no cluster is up.
var ErrNotRunning = errors.New("cluster is not running")

func waitAPIOnce(ctx context.Context, l layout, st State) error {
	client, err := adminHTTPClient(l)
	if err != nil {
		return err
	}
	return httpReady(ctx, "https://"+st.APIServer+"/readyz", client, "ok")
}

// Env returns the environment that points clients at the cluster.
func Env(o Options) ([]string, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	l := layout{o.Dir}
	st, err := readState(l)
	if err != nil || !st.Daemon.Alive() {
		return nil, ErrNotRunning
	}
	env := []string{"KUBECONFIG=" + st.Kubeconfig, "COLO_CLUSTER_DIR=" + o.Dir}
	if st.Registry != "" {
		env = append(env, "COLO_REGISTRY="+st.Registry)
	}
	env = append(env, "PATH="+filepath.Dir(Binaries{CacheDir: o.CacheDir}.Path("kubectl"))+":"+os.Getenv("PATH"))
	return env, nil
}

// ReadState returns the state of the running cluster in dir.
func ReadState(dir string) (State, error) {
	st, err := readState(layout{dir})
	if errors.Is(err, os.ErrNotExist) || (err == nil && !st.Daemon.Alive()) {
		return State{}, ErrNotRunning
	}
	return st, err
}

func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// tail returns the last n lines of a file.
func tail(name string, n int) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
