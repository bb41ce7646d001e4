package local

import (
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"

	"github.com/colo-ci/colo/internal/engine"
)

// volume makes the host directory behind one of the task's volumes.
func (a *attempt) volume(v corev1.Volume) (string, error) {
	dir := filepath.Join(a.dir, "volumes", v.Name)
	src := v.VolumeSource
	switch {
	case src.EmptyDir != nil, src == (corev1.VolumeSource{}):
		// A volume with no source is an emptyDir, as the API server
		// defaults it.
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return "", err
		}
		return dir, a.share(dir)
	case src.HostPath != nil:
		return src.HostPath.Path, nil
	case src.PersistentVolumeClaim != nil:
		return a.r.opts.Store.ClaimDir(a.r.opts.Namespace, src.PersistentVolumeClaim.ClaimName)
	case src.Secret != nil, src.ConfigMap != nil, src.Projected != nil:
		return dir, a.project(dir, src.Secret, src.ConfigMap, src.Projected)
	}
	return "", fmt.Errorf("this kind of volume is not supported on this machine")
}

// workspace makes the host directory behind a bound workspace, with the
// binding's subPath applied.
func (a *attempt) workspace(ws engine.Workspace) (string, error) {
	b := ws.Binding
	var dir string
	switch {
	case b.EmptyDir != nil, b.VolumeClaimTemplate != nil:
		// One directory per run and workspace: every task of the run that
		// binds it shares it, as tasks sharing a claim would.
		dir = filepath.Join(a.r.opts.Store.Dir(), "workspaces", ws.Source)
	case b.PersistentVolumeClaim != nil:
		d, err := a.r.opts.Store.ClaimDir(a.r.opts.Namespace, b.PersistentVolumeClaim.ClaimName)
		if err != nil {
			return "", err
		}
		dir = d
	case b.Secret != nil, b.ConfigMap != nil, b.Projected != nil:
		dir = filepath.Join(a.dir, "bindings", ws.Name)
		if err := a.project(dir, b.Secret, b.ConfigMap, b.Projected); err != nil {
			return "", err
		}
	case b.CSI != nil:
		return "", fmt.Errorf("csi workspaces are not supported on this machine")
	default:
		return "", fmt.Errorf("binding has no volume source")
	}
	hd, given := a.r.opts.HostDirs[ws.Source]
	if given {
		dir = hd
	}
	if b.SubPath != "" {
		dir = filepath.Join(dir, b.SubPath)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", err
	}
	if given {
		// A directory of the user's own keeps its mode.
		return dir, nil
	}
	return dir, a.share(dir)
}

// project writes the files a secret, configMap or projected volume holds.
func (a *attempt) project(dir string, sec *corev1.SecretVolumeSource, cm *corev1.ConfigMapVolumeSource, pr *corev1.ProjectedVolumeSource) error {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	mode := func(m *int32, def int32) os.FileMode {
		if m != nil {
			return os.FileMode(*m)
		}
		return os.FileMode(def)
	}
	write := func(data map[string]string, items []corev1.KeyToPath, defMode os.FileMode, what string) error {
		if len(items) == 0 {
			for k, v := range data {
				if err := os.WriteFile(filepath.Join(dir, k), []byte(v), defMode); err != nil {
					return err
				}
			}
			return nil
		}
		for _, it := range items {
			v, ok := data[it.Key]
			if !ok {
				return fmt.Errorf("%s has no key %q", what, it.Key)
			}
			p := filepath.Join(dir, it.Path)
			if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(v), mode(it.Mode, int32(defMode))); err != nil {
				return err
			}
		}
		return nil
	}
	if sec != nil {
		data, err := a.secretData(sec.SecretName, sec.Optional)
		if err != nil {
			return err
		}
		if err := write(data, sec.Items, mode(sec.DefaultMode, 0o644), fmt.Sprintf("secret %q", sec.SecretName)); err != nil {
			return err
		}
	}
	if cm != nil {
		data, err := a.configMapData(cm.Name, cm.Optional)
		if err != nil {
			return err
		}
		if err := write(data, cm.Items, mode(cm.DefaultMode, 0o644), fmt.Sprintf("configmap %q", cm.Name)); err != nil {
			return err
		}
	}
	if pr != nil {
		def := mode(pr.DefaultMode, 0o644)
		for _, s := range pr.Sources {
			switch {
			case s.Secret != nil:
				data, err := a.secretData(s.Secret.Name, s.Secret.Optional)
				if err != nil {
					return err
				}
				if err := write(data, s.Secret.Items, def, fmt.Sprintf("secret %q", s.Secret.Name)); err != nil {
					return err
				}
			case s.ConfigMap != nil:
				data, err := a.configMapData(s.ConfigMap.Name, s.ConfigMap.Optional)
				if err != nil {
					return err
				}
				if err := write(data, s.ConfigMap.Items, def, fmt.Sprintf("configmap %q", s.ConfigMap.Name)); err != nil {
					return err
				}
			case s.DownwardAPI != nil:
				for _, it := range s.DownwardAPI.Items {
					v := ""
					if it.FieldRef != nil {
						switch it.FieldRef.FieldPath {
						case "metadata.name":
							v = a.spec.ID.TaskRun + "-pod"
						case "metadata.namespace":
							v = a.r.opts.Namespace
						}
					}
					if err := os.WriteFile(filepath.Join(dir, it.Path), []byte(v), def); err != nil {
						return err
					}
				}
			case s.ServiceAccountToken != nil:
				// No cluster issues a token here; the file exists, empty.
				if err := os.WriteFile(filepath.Join(dir, s.ServiceAccountToken.Path), nil, def); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
