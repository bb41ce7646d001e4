package local

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/colo-ci/colo/internal/credentials"
	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/sandbox"
)

// writeCredentials writes the credential files of the attempt's
// ServiceAccount (when the run's files hold it) into dir, the task's
// /tekton/creds, as upstream's creds-init does.
func (a *attempt) writeCredentials(dir string) error {
	objs := a.r.opts.Objects
	if objs == nil || a.spec.ServiceAccount == "" {
		return nil
	}
	sa, ok := objs.ServiceAccounts[a.spec.ServiceAccount]
	if !ok {
		return nil
	}
	files, err := credentials.Files(sa, func(name string) (*corev1.Secret, bool) {
		s, ok := objs.Secrets[name]
		return s, ok
	})
	if err != nil {
		return fmt.Errorf("credentials of service account %q: %w", sa.Name, err)
	}
	if err := credentials.Write(dir, files); err != nil {
		return err
	}
	a.creds = credentials.Entries(files)
	return nil
}

// credentialMounts shows the credential files in a step's $HOME, where
// upstream's entrypoint copies them before the step runs.
func (a *attempt) credentialMounts(p engine.Process) ([]sandbox.Mount, error) {
	if len(a.creds) == 0 {
		return nil, nil
	}
	env, err := a.env(p)
	if err != nil {
		return nil, withReason("CreateContainerConfigError", err)
	}
	home := "/"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok && v != "" {
			home = v
		}
	}
	src := filepath.Join(a.tekton, "creds")
	var ms []sandbox.Mount
	for _, e := range a.creds {
		ms = append(ms, sandbox.Mount{Source: filepath.Join(src, e), Target: path.Join(home, e)})
	}
	return ms, nil
}
