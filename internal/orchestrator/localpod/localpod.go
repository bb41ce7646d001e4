// Package localpod runs a Pod that podspec compiled on this machine, as a
// kubelet would but without one: every container is a host process in one
// sandbox (see package sandbox), with its volumeMounts bound over
// directories that stand for the Pod's volumes. Init containers run one
// after another, then every container at once. Images are not pulled: a
// container runs the host's programs, and the colo binary for colo's own
// containers.
//
// It exists to test the in-Pod orchestrator and step runners together,
// with real processes sharing real directories laid out as the Pod's
// volumes would be. A program using it must dispatch to the sandbox's
// supervisor first thing, and must itself be colo (or act as colo when run
// with colo's arguments), since it is what colo's containers run.
package localpod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/podspec"
	"github.com/colo-ci/colo/internal/sandbox"
)

// Options configure Run.
type Options struct {
	// Colo is the program colo's own containers run: it is bound at the
	// colo image's binary path (podspec.DefaultImagePath unless ImagePath
	// says otherwise) in the init container and the orchestrator.
	Colo      string
	ImagePath string
	// Dir holds the volumes' directories (Dir/<volume>).
	Dir string
	// Claims maps a PersistentVolumeClaim's name to the directory that
	// backs it.
	Claims map[string]string
	// Objects are the Secrets and ConfigMaps env values, secret and
	// configMap volumes come from.
	Objects *load.Set
	// Env is added to every container's environment (before the
	// container's own).
	Env []string
}

// Result is how a Pod's containers ended.
type Result struct {
	// Logs holds each container's output, stdout and stderr together.
	Logs map[string][]byte
	// Exit holds each container's exit code.
	Exit map[string]int
}

// Run runs pod to its end: init containers in order (stopping at one that
// fails), then the others together until every one has exited. Canceling
// ctx kills them.
func Run(ctx context.Context, pod *corev1.Pod, opts Options) (*Result, error) {
	if opts.ImagePath == "" {
		opts.ImagePath = podspec.DefaultImagePath
	}
	vols, err := volumes(pod, opts)
	if err != nil {
		return nil, err
	}
	// The kubelet gives a Pod's containers its name, cut to 63
	// characters, as their host name.
	host := pod.Name
	if len(host) > 63 {
		host = strings.TrimRight(host[:63], "-.")
	}
	box, err := sandbox.Start(ctx, sandbox.Spec{Hostname: host})
	if err != nil {
		return nil, fmt.Errorf("localpod: %w", err)
	}
	defer box.Close()
	res := &Result{Logs: map[string][]byte{}, Exit: map[string]int{}}
	var mu sync.Mutex
	run := func(c corev1.Container) (*sandbox.Process, func(), error) {
		cmd, err := command(pod, c, vols, opts)
		if err != nil {
			return nil, nil, err
		}
		r, w, err := os.Pipe()
		if err != nil {
			return nil, nil, err
		}
		cmd.Stdout, cmd.Stderr = w, w
		p, err := box.Start(cmd)
		w.Close()
		if err != nil {
			r.Close()
			return nil, nil, fmt.Errorf("container %s: %w", c.Name, err)
		}
		var buf bytes.Buffer
		copied := make(chan struct{})
		go func() {
			_, _ = io.Copy(&buf, r)
			r.Close()
			close(copied)
		}()
		wait := func() {
			exit, err := p.Wait()
			<-copied
			mu.Lock()
			defer mu.Unlock()
			res.Logs[c.Name] = buf.Bytes()
			res.Exit[c.Name] = exit.Code
			if err != nil {
				res.Exit[c.Name] = -1
			}
		}
		return p, wait, nil
	}
	for _, c := range pod.Spec.InitContainers {
		_, wait, err := run(c)
		if err != nil {
			return res, err
		}
		wait()
		if res.Exit[c.Name] != 0 {
			return res, fmt.Errorf("init container %s exited with %d: %s", c.Name, res.Exit[c.Name], res.Logs[c.Name])
		}
	}
	var wg sync.WaitGroup
	var errs []error
	for _, c := range pod.Spec.Containers {
		_, wait, err := run(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); wait() }()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		box.Close()
		<-done
		errs = append(errs, ctx.Err())
	}
	return res, errors.Join(errs...)
}

// volumes makes the directory behind each of the Pod's volumes.
func volumes(pod *corev1.Pod, opts Options) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		dir := filepath.Join(opts.Dir, v.Name)
		switch {
		case v.EmptyDir != nil:
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return nil, err
			}
			// An emptyDir is writable by every user.
			if err := os.Chmod(dir, 0o777); err != nil {
				return nil, err
			}
		case v.PersistentVolumeClaim != nil:
			d, ok := opts.Claims[v.PersistentVolumeClaim.ClaimName]
			if !ok {
				return nil, fmt.Errorf("volume %s: no directory for claim %q", v.Name, v.PersistentVolumeClaim.ClaimName)
			}
			dir = d
		case v.Secret != nil:
			data, err := secretData(opts.Objects, v.Secret.SecretName)
			if err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			if err := writeFiles(dir, data); err != nil {
				return nil, err
			}
		case v.ConfigMap != nil:
			data, err := configMapData(opts.Objects, v.ConfigMap.Name)
			if err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			if err := writeFiles(dir, data); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("volume %s: this kind of volume cannot be played here", v.Name)
		}
		out[v.Name] = dir
	}
	return out, nil
}

func writeFiles(dir string, data map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for k, v := range data {
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// command is how a container starts: its command line, environment and
// mounts.
func command(pod *corev1.Pod, c corev1.Container, vols map[string]string, opts Options) (sandbox.Cmd, error) {
	argv := append(append([]string{}, c.Command...), c.Args...)
	if len(argv) == 0 {
		return sandbox.Cmd{}, fmt.Errorf("container %s: no command (images are not looked at here)", c.Name)
	}
	var mounts []sandbox.Mount
	if c.Name == podspec.InitContainer || c.Name == podspec.OrchestratorContainer {
		mounts = append(mounts, sandbox.Mount{Source: opts.Colo, Target: opts.ImagePath, ReadOnly: true})
	}
	for _, m := range c.VolumeMounts {
		src, ok := vols[m.Name]
		if !ok {
			return sandbox.Cmd{}, fmt.Errorf("container %s: volume %q is not in the Pod", c.Name, m.Name)
		}
		if m.SubPath != "" {
			src = filepath.Join(src, m.SubPath)
			// As the kubelet does: a missing subPath is made with the
			// volume's mode.
			mode := os.FileMode(0o755)
			if fi, err := os.Stat(vols[m.Name]); err == nil {
				mode = fi.Mode().Perm()
			}
			if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
				if err := os.MkdirAll(src, mode); err != nil {
					return sandbox.Cmd{}, err
				}
				if err := os.Chmod(src, mode); err != nil {
					return sandbox.Cmd{}, err
				}
			}
		}
		mounts = append(mounts, sandbox.Mount{Source: src, Target: m.MountPath, ReadOnly: m.ReadOnly})
	}
	env := []string{
		"PATH=" + hostPath(),
		"HOSTNAME=" + pod.Name,
		"HOME=/root",
	}
	env = append(env, opts.Env...)
	for _, e := range c.Env {
		v, ok, err := envValue(pod, e, opts.Objects)
		if err != nil {
			return sandbox.Cmd{}, fmt.Errorf("container %s: %w", c.Name, err)
		}
		if ok {
			env = append(env, e.Name+"="+v)
		}
	}
	return sandbox.Cmd{Path: argv[0], Args: argv, Env: env, Dir: c.WorkingDir, MkdirDir: c.WorkingDir != "", Mounts: mounts}, nil
}

func hostPath() string {
	if p := os.Getenv("PATH"); p != "" {
		return p
	}
	return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

// envValue is one env entry's value, as the kubelet would fill it in.
func envValue(pod *corev1.Pod, e corev1.EnvVar, objs *load.Set) (string, bool, error) {
	vf := e.ValueFrom
	if vf == nil {
		return e.Value, true, nil
	}
	optional := func(b *bool) bool { return b != nil && *b }
	switch {
	case vf.SecretKeyRef != nil:
		data, err := secretData(objs, vf.SecretKeyRef.Name)
		if err != nil {
			if optional(vf.SecretKeyRef.Optional) {
				return "", false, nil
			}
			return "", false, err
		}
		v, ok := data[vf.SecretKeyRef.Key]
		if !ok && !optional(vf.SecretKeyRef.Optional) {
			return "", false, fmt.Errorf("env %s: secret %q has no key %q", e.Name, vf.SecretKeyRef.Name, vf.SecretKeyRef.Key)
		}
		return v, ok, nil
	case vf.ConfigMapKeyRef != nil:
		data, err := configMapData(objs, vf.ConfigMapKeyRef.Name)
		if err != nil {
			if optional(vf.ConfigMapKeyRef.Optional) {
				return "", false, nil
			}
			return "", false, err
		}
		v, ok := data[vf.ConfigMapKeyRef.Key]
		if !ok && !optional(vf.ConfigMapKeyRef.Optional) {
			return "", false, fmt.Errorf("env %s: configmap %q has no key %q", e.Name, vf.ConfigMapKeyRef.Name, vf.ConfigMapKeyRef.Key)
		}
		return v, ok, nil
	case vf.FieldRef != nil:
		switch vf.FieldRef.FieldPath {
		case "metadata.name":
			return pod.Name, true, nil
		case "metadata.namespace":
			return pod.Namespace, true, nil
		case "spec.serviceAccountName":
			return pod.Spec.ServiceAccountName, true, nil
		}
		if strings.HasPrefix(vf.FieldRef.FieldPath, "status.") {
			return "127.0.0.1", true, nil
		}
	}
	return "", false, fmt.Errorf("env %s: this kind of valueFrom cannot be played here", e.Name)
}

func secretData(objs *load.Set, name string) (map[string]string, error) {
	if objs != nil {
		if s, ok := objs.Secrets[name]; ok {
			out := map[string]string{}
			for k, v := range s.Data {
				out[k] = string(v)
			}
			for k, v := range s.StringData {
				out[k] = v
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("secret %q not found", name)
}

func configMapData(objs *load.Set, name string) (map[string]string, error) {
	if objs != nil {
		if c, ok := objs.ConfigMaps[name]; ok {
			out := map[string]string{}
			for k, v := range c.Data {
				out[k] = v
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("configmap %q not found", name)
}
