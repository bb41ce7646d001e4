package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// kubernetesCommand returns the main package of a Kubernetes binary, or ""
// for a name that is not one.
func kubernetesCommand(name string) string {
	switch name {
	case "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl":
		return "k8s.io/kubernetes/cmd/" + name
	}
	return ""
}

// etcdCommand is etcd's main package: the root of its server module.
const etcdCommand = "go.etcd.io/etcd/server/v3"

// Binaries locates (and, when missing, builds) the cluster's binaries.
type Binaries struct {
	// CacheDir is the root of the cache, e.g. ~/.cache/colo/cluster.
	CacheDir string
	Log      *slog.Logger
}

// Path returns where the named binary is cached.
func (b Binaries) Path(name string) string {
	if name == "etcd" {
		return filepath.Join(b.CacheDir, "etcd-"+EtcdVersion, "bin", name)
	}
	return filepath.Join(b.CacheDir, "kubernetes-"+KubernetesVersion, "bin", name)
}

// Ensure builds whichever of the named binaries is not cached yet.
func (b Binaries) Ensure(ctx context.Context, names ...string) error {
	var kube []string
	needEtcd := false
	for _, n := range names {
		if _, err := os.Stat(b.Path(n)); err == nil {
			continue
		}
		switch {
		case n == "etcd":
			needEtcd = true
		case kubernetesCommand(n) != "":
			kube = append(kube, n)
		default:
			return fmt.Errorf("no recipe to build %q", n)
		}
	}
	if needEtcd {
		if err := b.buildEtcd(ctx); err != nil {
			return err
		}
	}
	if len(kube) > 0 {
		if err := b.buildKubernetes(ctx, kube); err != nil {
			return err
		}
	}
	return nil
}

// buildEtcd builds etcd in a throw-away module that requires its server
// module at EtcdVersion.
func (b Binaries) buildEtcd(ctx context.Context) error {
	root := filepath.Join(b.CacheDir, "etcd-"+EtcdVersion)
	gomod := fmt.Sprintf("module colo.local/etcd-build\n\ngo 1.25\n\nrequire %s %s\n", etcdCommand, EtcdVersion)
	return b.build(ctx, root, gomod, []string{etcdCommand}, []string{"etcd"}, "")
}

// buildKubernetes builds the named Kubernetes binaries. k8s.io/kubernetes
// cannot be installed directly (its go.mod points its staging modules at
// local directories), so a throw-away module requires it and replaces each
// staging module with its published version.
func (b Binaries) buildKubernetes(ctx context.Context, names []string) error {
	root := filepath.Join(b.CacheDir, "kubernetes-"+KubernetesVersion)
	staging, err := b.stagingModules(ctx)
	if err != nil {
		return err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "module colo.local/kubernetes-build\n\ngo 1.25\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n", KubernetesVersion)
	for _, m := range staging {
		fmt.Fprintf(&sb, "\t%s => %s %s\n", m, m, StagingVersion)
	}
	sb.WriteString(")\n")
	var pkgs []string
	for _, n := range names {
		pkgs = append(pkgs, kubernetesCommand(n))
	}
	// Builds from the module proxy report v0.0.0-master; clients that check
	// the server's version need the real one.
	var ld []string
	for _, p := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		ld = append(ld,
			"-X", p+".gitVersion="+KubernetesVersion,
			"-X", p+".gitMajor=1",
			"-X", p+".gitMinor=35",
			"-X", p+".gitTreeState=clean")
	}
	return b.build(ctx, root, sb.String(), pkgs, names, strings.Join(ld, " "))
}

// stagingModules lists the modules that k8s.io/kubernetes's go.mod replaces
// with its ./staging directories.
func (b Binaries) stagingModules(ctx context.Context) ([]string, error) {
	out, err := b.goCmd(ctx, "", "mod", "download", "-json", "k8s.io/kubernetes@"+KubernetesVersion).Output()
	if err != nil {
		return nil, fmt.Errorf("downloading k8s.io/kubernetes@%s: %w", KubernetesVersion, exitDetail(err))
	}
	var info struct{ GoMod string }
	if err := json.Unmarshal(out, &info); err != nil {
		return nil, fmt.Errorf("reading go mod download output: %w", err)
	}
	f, err := os.Open(info.GoMod)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var mods []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// e.g. "	k8s.io/api => ./staging/src/k8s.io/api"
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[1] == "=>" && strings.HasPrefix(fields[2], "./staging/") {
			mods = append(mods, fields[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("no staging modules found in %s", info.GoMod)
	}
	return mods, nil
}

// build writes the throw-away module under root/mod, resolves it, and
// builds pkgs into root/bin. Binaries land under a temporary name first, so
// an interrupted build never leaves a partial binary in the cache. A lock
// file keeps two builds of the same module from running at once.
func (b Binaries) build(ctx context.Context, root, gomod string, pkgs, names []string, ldflags string) error {
	modDir := filepath.Join(root, "mod")
	binDir := filepath.Join(root, "bin")
	for _, d := range []string{modDir, binDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	unlock, err := lockFile(filepath.Join(root, "build.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	// Another process may have finished the build while we waited.
	done := true
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(binDir, n)); err != nil {
			done = false
		}
	}
	if done {
		return nil
	}

	var imports strings.Builder
	imports.WriteString("//go:build tools\n\n// Package tools pins the commands this module builds.\npackage tools\n\nimport (\n")
	for _, p := range pkgs {
		fmt.Fprintf(&imports, "\t_ %q\n", p)
	}
	imports.WriteString(")\n")
	if err := os.WriteFile(filepath.Join(modDir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(modDir, "tools.go"), []byte(imports.String()), 0o644); err != nil {
		return err
	}
	b.Log.Info("resolving modules", "dir", modDir)
	if err := b.run(b.goCmd(ctx, modDir, "mod", "tidy")); err != nil {
		return fmt.Errorf("resolving %s: %w", modDir, err)
	}

	tmpDir, err := os.MkdirTemp(root, "bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmpDir)
	args := []string{"build", "-trimpath", "-ldflags", strings.TrimSpace("-s -w " + ldflags), "-o", tmpDir + "/"}
	if len(pkgs) == 1 {
		args[len(args)-1] = filepath.Join(tmpDir, names[0])
	}
	args = append(args, pkgs...)
	start := time.Now()
	b.Log.Info("building (this takes minutes on a cold cache)", "binaries", strings.Join(names, ","))
	// One retry: a long build on a busy machine can die of a transient
	// resource shortage (no thread could be created), and the second try
	// starts from what the build cache already holds.
	for try := 1; ; try++ {
		cmd := b.goCmd(ctx, modDir, args...)
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
		err := b.run(cmd)
		if err == nil {
			break
		}
		if try == 2 || ctx.Err() != nil {
			return fmt.Errorf("building %s: %w", strings.Join(names, ", "), err)
		}
		b.Log.Warn("build failed; trying once more", "binaries", strings.Join(names, ","), "err", err)
	}
	for i, n := range names {
		src := filepath.Join(tmpDir, n)
		if len(pkgs) > 1 {
			src = filepath.Join(tmpDir, filepath.Base(pkgs[i]))
		}
		if err := os.Rename(src, filepath.Join(binDir, n)); err != nil {
			return err
		}
	}
	b.Log.Info("built", "binaries", strings.Join(names, ","), "took", time.Since(start).Round(time.Second))
	return nil
}

func (b Binaries) goCmd(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	// The throw-away module must not see a workspace or flags meant for the
	// project's own module.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	return cmd
}

// run runs cmd, sending its output to the log's writer (stderr).
func (b Binaries) run(cmd *exec.Cmd) error {
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	return cmd.Run()
}

// lockFile takes an exclusive flock on name, waiting for it.
func lockFile(name string) (func(), error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", name, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// exitDetail adds a command's stderr to its error.
func exitDetail(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return err
}
