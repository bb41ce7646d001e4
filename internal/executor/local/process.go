package local

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/colo-ci/colo/internal/engine"
)

// argv works out the command line of a step or sidecar the way Tekton
// does: a script becomes a file that runs with its shebang (or `sh` with
// `set -e` when it has none) and gets the args; otherwise command and args;
// otherwise the image's own entrypoint.
func (a *attempt) argv(p engine.Process, i int) ([]string, error) {
	if p.Script != "" {
		body := p.Script
		trimmed := strings.TrimLeft(body, " \t\r\n")
		if !strings.HasPrefix(trimmed, "#!") {
			body = "#!/bin/sh\nset -e\n" + body
		} else {
			body = trimmed
		}
		name := p.Name + "-" + randomSuffix()
		path := filepath.Join(a.tekton, "scripts", name)
		if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
			return nil, fmt.Errorf("write script: %w", err)
		}
		return append([]string{"/tekton/scripts/" + name}, p.Args...), nil
	}
	if len(p.Command) > 0 {
		return append(append([]string{}, p.Command...), p.Args...), nil
	}
	argv, ok := imageCommand(p.Image, p.Args)
	if !ok {
		return nil, fmt.Errorf("%s gives no command or script, and the entrypoint of image %q cannot be looked up without pulling it: give the step a command or a script", p.Name, p.Image)
	}
	return argv, nil
}

// imageCommand is what a container of one of the common base images the
// Tekton examples name runs when it is given only args: the image's
// ENTRYPOINT with the args, or, as Tekton resolves it, its CMD when it has
// no ENTRYPOINT. On the host the image is not pulled, so the programs are
// this machine's.
func imageCommand(image string, args []string) ([]string, bool) {
	base := imageBase(image)
	with := func(cmd ...string) []string { return append(cmd, args...) }
	switch {
	case base == "ubuntu" || base == "debian" || base == "fedora":
		return with("bash"), true
	case base == "busybox" || base == "alpine":
		return with("sh"), true
	case base == "bash":
		// The bash image's docker-entrypoint.sh: no args or an option
		// first runs bash, anything else runs as a command.
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return with("bash"), true
		}
		return append([]string{}, args...), true
	case strings.HasPrefix(base, "nop"):
		// Tekton's nop image prints a line and exits.
		return []string{"true"}, true
	}
	return nil, false
}

// imageShell is the program behind /bin/sh in images whose shell differs
// from this machine's: the busybox-based images (alpine, busybox, and the
// bash image, built on alpine) have busybox's sh, which accepts what
// scripts written for them use (`[ a == b ]`). "" keeps the machine's.
func imageShell(image string, progs *programs) string {
	switch imageBase(image) {
	case "alpine", "busybox", "bash":
		return progs.find("busybox")
	}
	return ""
}

// programs finds this machine's programs in $PATH, each once: a run
// looks up the same few for every step, and a lookup that fails stats
// every directory of $PATH.
type programs struct {
	mu    sync.Mutex
	found map[string]string
}

// find returns the path of the program name, or "" if $PATH has none.
func (p *programs) find(name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if path, ok := p.found[name]; ok {
		return path
	}
	path, err := exec.LookPath(name)
	if err != nil {
		path = ""
	}
	if p.found == nil {
		p.found = map[string]string{}
	}
	p.found[name] = path
	return path
}

// imageBase is an image reference's last path element without tag or
// digest: "alpine" for mirror.gcr.io/alpine:3.20@sha256:....
func imageBase(image string) string {
	repo := image
	if i := strings.Index(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	return repo[strings.LastIndex(repo, "/")+1:]
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// env builds a process's environment: a base like a container's, the pod
// template's env, then the container's envFrom and env, with references to
// Secrets and ConfigMaps read from the run's objects.
func (a *attempt) env(p engine.Process) ([]string, error) {
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	set("PATH", "/tekton/bin:"+hostPath())
	set("HOSTNAME", a.spec.ID.TaskRun+"-pod")
	if uid, _, ok := a.user(p); ok && uid != 0 && os.Geteuid() == 0 {
		// As a container runtime does: the user's home from the passwd
		// file, else "/".
		home := "/"
		if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.HomeDir != "" {
			home = u.HomeDir
		}
		set("HOME", home)
	} else if os.Geteuid() == 0 {
		set("HOME", "/root")
	} else if h, err := os.UserHomeDir(); err == nil {
		set("HOME", h)
	}
	if t := os.Getenv("TERM"); t != "" {
		set("TERM", t)
	}
	if a.spec.PodTemplate != nil {
		for _, e := range a.spec.PodTemplate.Env {
			v, ok, err := a.envValue(e)
			if err != nil {
				return nil, err
			}
			if ok {
				set(e.Name, v)
			}
		}
	}
	for _, ef := range p.EnvFrom {
		data, err := a.envFrom(ef)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(ef.Prefix+k, data[k])
		}
	}
	for _, e := range p.Env {
		v, ok, err := a.envValue(e)
		if err != nil {
			return nil, err
		}
		if ok {
			set(e.Name, expandEnv(v, vars))
		}
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vars[k])
	}
	return out, nil
}

// expandEnv expands $(VAR) references to earlier variables, as the kubelet
// does for a container's env; $$ escapes.
func expandEnv(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '$' && i+1 < len(s) {
			if s[i+1] == '$' {
				b.WriteByte('$')
				i++
				continue
			}
			if s[i+1] == '(' {
				if end := strings.IndexByte(s[i+2:], ')'); end >= 0 {
					name := s[i+2 : i+2+end]
					if v, ok := vars[name]; ok {
						b.WriteString(v)
						i += end + 2
						continue
					}
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func hostPath() string {
	if p := os.Getenv("PATH"); p != "" {
		return p
	}
	return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

func (a *attempt) envValue(e corev1.EnvVar) (string, bool, error) {
	if e.ValueFrom == nil {
		return e.Value, true, nil
	}
	vf := e.ValueFrom
	switch {
	case vf.SecretKeyRef != nil:
		ref := vf.SecretKeyRef
		data, err := a.secretData(ref.Name, ref.Optional)
		if err != nil {
			return "", false, fmt.Errorf("env %s: %w", e.Name, err)
		}
		v, ok := data[ref.Key]
		if !ok {
			if ref.Optional != nil && *ref.Optional {
				return "", false, nil
			}
			return "", false, fmt.Errorf("env %s: key %q not found in Secret %q", e.Name, ref.Key, ref.Name)
		}
		return v, true, nil
	case vf.ConfigMapKeyRef != nil:
		ref := vf.ConfigMapKeyRef
		data, err := a.configMapData(ref.Name, ref.Optional)
		if err != nil {
			return "", false, fmt.Errorf("env %s: %w", e.Name, err)
		}
		v, ok := data[ref.Key]
		if !ok {
			if ref.Optional != nil && *ref.Optional {
				return "", false, nil
			}
			return "", false, fmt.Errorf("env %s: key %q not found in ConfigMap %q", e.Name, ref.Key, ref.Name)
		}
		return v, true, nil
	case vf.FieldRef != nil:
		switch vf.FieldRef.FieldPath {
		case "metadata.name":
			return a.spec.ID.TaskRun + "-pod", true, nil
		case "metadata.namespace", "spec.serviceAccountName":
			if vf.FieldRef.FieldPath == "spec.serviceAccountName" {
				return a.spec.ServiceAccount, true, nil
			}
			return a.r.opts.Namespace, true, nil
		case "spec.nodeName", "status.hostIP", "status.podIP":
			if vf.FieldRef.FieldPath == "spec.nodeName" {
				h, _ := os.Hostname()
				return h, true, nil
			}
			return "127.0.0.1", true, nil
		}
		if strings.HasPrefix(vf.FieldRef.FieldPath, "metadata.labels['") {
			k := strings.TrimSuffix(strings.TrimPrefix(vf.FieldRef.FieldPath, "metadata.labels['"), "']")
			return a.spec.Labels[k], true, nil
		}
		if strings.HasPrefix(vf.FieldRef.FieldPath, "metadata.annotations['") {
			k := strings.TrimSuffix(strings.TrimPrefix(vf.FieldRef.FieldPath, "metadata.annotations['"), "']")
			return a.spec.Annotations[k], true, nil
		}
		return "", false, fmt.Errorf("env %s: fieldRef %q is not supported on this machine", e.Name, vf.FieldRef.FieldPath)
	}
	return "", false, fmt.Errorf("env %s: this kind of valueFrom is not supported on this machine", e.Name)
}

func (a *attempt) envFrom(ef corev1.EnvFromSource) (map[string]string, error) {
	switch {
	case ef.SecretRef != nil:
		return a.secretData(ef.SecretRef.Name, ef.SecretRef.Optional)
	case ef.ConfigMapRef != nil:
		return a.configMapData(ef.ConfigMapRef.Name, ef.ConfigMapRef.Optional)
	}
	return nil, nil
}

func (a *attempt) secretData(name string, optional *bool) (map[string]string, error) {
	if objs := a.r.opts.Objects; objs != nil {
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
	if optional != nil && *optional {
		return map[string]string{}, nil
	}
	return nil, fmt.Errorf("secret %q not found in the run's files", name)
}

func (a *attempt) configMapData(name string, optional *bool) (map[string]string, error) {
	if objs := a.r.opts.Objects; objs != nil {
		if c, ok := objs.ConfigMaps[name]; ok {
			out := map[string]string{}
			for k, v := range c.Data {
				out[k] = v
			}
			for k, v := range c.BinaryData {
				out[k] = string(v)
			}
			return out, nil
		}
	}
	if optional != nil && *optional {
		return map[string]string{}, nil
	}
	return nil, fmt.Errorf("configmap %q not found in the run's files", name)
}

// shims makes /tekton/bin hold the shells of the base images the examples
// name where this machine lacks them under that name (alpine's ash is
// busybox's).
func shims(dir string, progs *programs) error {
	if progs.find("ash") != "" {
		return nil
	}
	bb := progs.find("busybox")
	if bb == "" {
		return nil
	}
	if err := os.Symlink(bb, filepath.Join(dir, "ash")); err != nil && !os.IsExist(err) {
		return err
	}
	return nil
}
