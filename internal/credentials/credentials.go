package credentials

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Annotation prefixes that say which hosts a Secret is for.
const (
	gitAnnotation    = "tekton.dev/git-"
	dockerAnnotation = "tekton.dev/docker-"
)

// File is one credential file, its path relative to the home directory.
type File struct {
	Path string
	Data []byte
	// Mode is the file's permission bits.
	Mode uint32
}

// Files returns the credential files for the Secrets a ServiceAccount
// lists, in path order; secret looks a Secret up by name. A listed Secret
// that does not exist is skipped, as upstream skips it; one that exists
// but lacks the keys its type needs is an error.
func Files(sa *corev1.ServiceAccount, secret func(name string) (*corev1.Secret, bool)) ([]File, error) {
	if sa == nil {
		return nil, nil
	}
	var b builder
	for _, ref := range sa.Secrets {
		s, ok := secret(ref.Name)
		if !ok || s == nil {
			continue
		}
		if err := b.add(s); err != nil {
			return nil, fmt.Errorf("secret %q: %w", s.Name, err)
		}
	}
	return b.files()
}

// Entries returns the names directly under the home directory that files
// occupy (".ssh", ".gitconfig", ...), sorted.
func Entries(files []File) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range files {
		top, _, _ := strings.Cut(f.Path, "/")
		if !seen[top] {
			seen[top] = true
			out = append(out, top)
		}
	}
	sort.Strings(out)
	return out
}

type builder struct {
	gitConfig   strings.Builder
	gitCreds    strings.Builder
	sshConfig   strings.Builder
	knownHosts  strings.Builder
	sshKeys     []File
	dockerAuths map[string]json.RawMessage
}

func value(s *corev1.Secret, key string) (string, bool) {
	if v, ok := s.Data[key]; ok {
		return string(v), true
	}
	v, ok := s.StringData[key]
	return v, ok
}

// hosts returns the values of s's annotations with the prefix, in key
// order.
func hosts(s *corev1.Secret, prefix string) []string {
	var keys []string
	for k := range s.Annotations {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, s.Annotations[k])
	}
	return out
}

func (b *builder) add(s *corev1.Secret) error {
	switch s.Type {
	case corev1.SecretTypeBasicAuth:
		user, uok := value(s, corev1.BasicAuthUsernameKey)
		pass, pok := value(s, corev1.BasicAuthPasswordKey)
		git, docker := hosts(s, gitAnnotation), hosts(s, dockerAnnotation)
		if len(git)+len(docker) == 0 {
			return nil
		}
		if !uok || !pok {
			return fmt.Errorf("a basic-auth secret needs %q and %q", corev1.BasicAuthUsernameKey, corev1.BasicAuthPasswordKey)
		}
		for _, h := range git {
			if err := b.gitBasic(h, user, pass); err != nil {
				return err
			}
		}
		for _, h := range docker {
			b.docker(h, user, pass)
		}
	case corev1.SecretTypeSSHAuth:
		git := hosts(s, gitAnnotation)
		if len(git) == 0 {
			return nil
		}
		key, ok := value(s, corev1.SSHAuthPrivateKey)
		if !ok {
			return fmt.Errorf("an ssh-auth secret needs %q", corev1.SSHAuthPrivateKey)
		}
		keyFile := ".ssh/id_" + s.Name
		b.sshKeys = append(b.sshKeys, File{Path: keyFile, Data: []byte(key), Mode: 0o600})
		known, hasKnown := value(s, "known_hosts")
		if hasKnown {
			b.knownHosts.WriteString(strings.TrimRight(known, "\n") + "\n")
		}
		for _, h := range git {
			host, port := h, "22"
			if hh, p, err := net.SplitHostPort(h); err == nil {
				host, port = hh, p
			}
			fmt.Fprintf(&b.sshConfig, "Host %s\n    HostName %s\n    Port %s\n    IdentityFile ~/%s\n", host, host, port, keyFile)
			if !hasKnown {
				// Without known hosts, upstream accepts the server's key.
				b.sshConfig.WriteString("    StrictHostKeyChecking no\n")
			}
		}
	case corev1.SecretTypeDockerConfigJson:
		raw, ok := value(s, corev1.DockerConfigJsonKey)
		if !ok {
			return fmt.Errorf("a dockerconfigjson secret needs %q", corev1.DockerConfigJsonKey)
		}
		var cfg struct {
			Auths map[string]json.RawMessage `json:"auths"`
		}
		if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
			return fmt.Errorf("%s: %w", corev1.DockerConfigJsonKey, err)
		}
		b.dockerMerge(cfg.Auths)
	case corev1.SecretTypeDockercfg:
		raw, ok := value(s, corev1.DockerConfigKey)
		if !ok {
			return fmt.Errorf("a dockercfg secret needs %q", corev1.DockerConfigKey)
		}
		var auths map[string]json.RawMessage
		if err := json.Unmarshal([]byte(raw), &auths); err != nil {
			return fmt.Errorf("%s: %w", corev1.DockerConfigKey, err)
		}
		b.dockerMerge(auths)
	}
	return nil
}

func (b *builder) gitBasic(host, user, pass string) error {
	u, err := url.Parse(host)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("annotation value %q: a git basic-auth secret is for a URL such as https://github.com", host)
	}
	if b.gitConfig.Len() == 0 {
		b.gitConfig.WriteString("[credential]\n    helper = store\n")
	}
	fmt.Fprintf(&b.gitConfig, "[credential %q]\n    username = %s\n", host, user)
	withUser := *u
	withUser.User = url.UserPassword(user, pass)
	b.gitCreds.WriteString(withUser.String() + "\n")
	return nil
}

func (b *builder) docker(host, user, pass string) {
	entry, _ := json.Marshal(map[string]string{
		"username": user,
		"password": pass,
		"auth":     base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)),
	})
	b.dockerMerge(map[string]json.RawMessage{host: entry})
}

// dockerMerge adds registries' entries; a registry already there keeps
// its first entry.
func (b *builder) dockerMerge(auths map[string]json.RawMessage) {
	if b.dockerAuths == nil {
		b.dockerAuths = map[string]json.RawMessage{}
	}
	for k, v := range auths {
		if _, ok := b.dockerAuths[k]; !ok {
			b.dockerAuths[k] = v
		}
	}
}

func (b *builder) files() ([]File, error) {
	var out []File
	if b.gitConfig.Len() > 0 {
		out = append(out,
			File{Path: ".gitconfig", Data: []byte(b.gitConfig.String()), Mode: 0o644},
			File{Path: ".git-credentials", Data: []byte(b.gitCreds.String()), Mode: 0o600})
	}
	if len(b.sshKeys) > 0 {
		out = append(out, b.sshKeys...)
		out = append(out, File{Path: ".ssh/config", Data: []byte(b.sshConfig.String()), Mode: 0o644})
		if b.knownHosts.Len() > 0 {
			out = append(out, File{Path: ".ssh/known_hosts", Data: []byte(b.knownHosts.String()), Mode: 0o644})
		}
	}
	if b.dockerAuths != nil {
		data, err := json.MarshalIndent(map[string]any{"auths": b.dockerAuths}, "", "  ")
		if err != nil {
			return nil, err
		}
		out = append(out, File{Path: ".docker/config.json", Data: append(data, '\n'), Mode: 0o600})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Write writes files under dir, making the directories they need.
func Write(dir string, files []File) error {
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return fmt.Errorf("write credentials: %w", err)
		}
		if err := os.WriteFile(p, f.Data, os.FileMode(f.Mode)); err != nil {
			return fmt.Errorf("write credentials: %w", err)
		}
	}
	return nil
}
