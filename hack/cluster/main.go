package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/colo-ci/colo/internal/testcluster/cluster"
)

const usage = `usage: go run ./hack/cluster COMMAND [flags]

commands:
  up       build what is missing and start the cluster (or reuse a running one)
  down     stop the cluster and remove its processes, mounts and namespaces
  status   show the cluster's processes and whether the API server is ready
  env      print KUBECONFIG=... and COLO_REGISTRY=... for a shell
  images   build the test images and push them to the running cluster
  daemon   (internal) the supervisor that up starts

flags:
`

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(os.Args[1:], os.Stdout, log); err != nil {
		log.Error(err.Error())
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	dir := fs.String("dir", "", "state directory (default $COLO_CLUSTER_DIR or ${XDG_STATE_HOME:-~/.local/state}/colo/cluster)")
	cacheDir := fs.String("cache-dir", "", "where built binaries are kept (default ${XDG_CACHE_HOME:-~/.cache}/colo/cluster)")
	cpOnly := fs.Bool("control-plane-only", false, "up: run etcd and kube-apiserver only (no root needed)")
	coloTag := fs.String("colo-tag", "latest", "images: the tag of colo's image (pulled as ghcr.io/colo-ci/colo:TAG)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if len(args) == 0 {
		fs.Usage()
		return errors.New("no command")
	}
	cmd := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := cluster.Options{Dir: *dir, CacheDir: *cacheDir, ControlPlaneOnly: *cpOnly, Log: log}
	if opts.Dir == "" {
		d, err := cluster.DefaultStateDir()
		if err != nil {
			return err
		}
		opts.Dir = d
	}
	switch cmd {
	case "up":
		if !opts.ControlPlaneOnly {
			root, err := repoRoot()
			if err != nil {
				return err
			}
			opts.RepoRoot = root
		}
		st, err := cluster.Up(ctx, opts)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "KUBECONFIG=%s\n", st.Kubeconfig)
		return nil
	case "down":
		return cluster.Down(ctx, opts)
	case "status":
		_, err := cluster.Status(ctx, opts, stdout)
		return err
	case "env":
		env, err := cluster.Env(opts)
		if err != nil {
			return err
		}
		for _, e := range env {
			k, v, _ := strings.Cut(e, "=")
			fmt.Fprintf(stdout, "%s=%s\n", k, shellQuote(v))
		}
		return nil
	case "images":
		st, err := cluster.ReadState(opts.Dir)
		if err != nil {
			return err
		}
		if st.Registry == "" {
			return errors.New("the running cluster has no registry (control-plane-only)")
		}
		root, err := repoRoot()
		if err != nil {
			return err
		}
		return cluster.PushImages(ctx, log, st.Registry, root, *coloTag)
	case "daemon":
		return cluster.RunDaemon(ctx, log, opts.Dir)
	default:
		fs.Usage()
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// repoRoot finds the root of colo's module from the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		first, _, _ := strings.Cut(string(b), "\n")
		if err == nil && strings.TrimSpace(first) == "module github.com/colo-ci/colo" {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run this from inside colo's source tree (the images are built from it)")
		}
		dir = parent
	}
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:,@+=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
