package credentials

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

func TestFiles(t *testing.T) {
	tests := []struct {
		name    string
		secrets string
		want    map[string]string
		wantErr bool
	}{{
		name: "git basic-auth for two hosts",
		secrets: `
- metadata: {name: gh, annotations: {tekton.dev/git-0: https://github.com, tekton.dev/git-1: https://gitlab.com}}
  type: kubernetes.io/basic-auth
  stringData: {username: ann, password: "p@ss"}`,
		want: map[string]string{
			".gitconfig":       "[credential]\n    helper = store\n[credential \"https://github.com\"]\n    username = ann\n[credential \"https://gitlab.com\"]\n    username = ann\n",
			".git-credentials": "https://ann:p%40ss@github.com\nhttps://ann:p%40ss@gitlab.com\n",
		},
	}, {
		name: "git ssh with a port and known hosts",
		secrets: `
- metadata: {name: key, annotations: {tekton.dev/git-0: "git.example.com:2222"}}
  type: kubernetes.io/ssh-auth
  stringData: {ssh-privatekey: PRIVATE, known_hosts: "git.example.com ssh-ed25519 AAAA"}`,
		want: map[string]string{
			".ssh/id_key":      "PRIVATE",
			".ssh/config":      "Host git.example.com\n    HostName git.example.com\n    Port 2222\n    IdentityFile ~/.ssh/id_key\n",
			".ssh/known_hosts": "git.example.com ssh-ed25519 AAAA\n",
		},
	}, {
		name: "git ssh without known hosts accepts the server's key",
		secrets: `
- metadata: {name: key, annotations: {tekton.dev/git-0: github.com}}
  type: kubernetes.io/ssh-auth
  data: {ssh-privatekey: UFJJVkFURQ==}`,
		want: map[string]string{
			".ssh/id_key": "PRIVATE",
			".ssh/config": "Host github.com\n    HostName github.com\n    Port 22\n    IdentityFile ~/.ssh/id_key\n    StrictHostKeyChecking no\n",
		},
	}, {
		name: "docker basic-auth and a dockerconfigjson merge",
		secrets: `
- metadata: {name: hub, annotations: {tekton.dev/docker-0: https://index.docker.io/v1/}}
  type: kubernetes.io/basic-auth
  stringData: {username: u, password: p}
- metadata: {name: reg}
  type: kubernetes.io/dockerconfigjson
  stringData: {.dockerconfigjson: '{"auths":{"reg.example.com":{"auth":"eDp5"}}}'}`,
		want: map[string]string{
			".docker/config.json": `{
  "auths": {
    "https://index.docker.io/v1/": {
      "auth": "dTpw",
      "password": "p",
      "username": "u"
    },
    "reg.example.com": {
      "auth": "eDp5"
    }
  }
}
`,
		},
	}, {
		name: "secrets without annotations, other types and missing secrets give nothing",
		secrets: `
- metadata: {name: plain}
  type: kubernetes.io/basic-auth
  stringData: {username: u, password: p}
- metadata: {name: opaque, annotations: {tekton.dev/git-0: https://github.com}}
  stringData: {token: t}`,
		want: map[string]string{},
	}, {
		name: "a git basic-auth secret without a password",
		secrets: `
- metadata: {name: bad, annotations: {tekton.dev/git-0: https://github.com}}
  type: kubernetes.io/basic-auth
  stringData: {username: u}`,
		wantErr: true,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var secrets []corev1.Secret
			if err := yaml.Unmarshal([]byte(tc.secrets), &secrets); err != nil {
				t.Fatal(err)
			}
			byName := map[string]*corev1.Secret{}
			sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sa"}}
			for i := range secrets {
				byName[secrets[i].Name] = &secrets[i]
				sa.Secrets = append(sa.Secrets, corev1.ObjectReference{Name: secrets[i].Name})
			}
			sa.Secrets = append(sa.Secrets, corev1.ObjectReference{Name: "not-there"})
			files, err := Files(sa, func(n string) (*corev1.Secret, bool) { s, ok := byName[n]; return s, ok })
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Files = %v, want an error", files)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, f := range files {
				got[f.Path] = string(f.Data)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteAndEntries(t *testing.T) {
	files := []File{
		{Path: ".docker/config.json", Data: []byte("{}"), Mode: 0o600},
		{Path: ".gitconfig", Data: []byte("g"), Mode: 0o644},
		{Path: ".ssh/config", Data: []byte("c"), Mode: 0o644},
		{Path: ".ssh/id_k", Data: []byte("k"), Mode: 0o600},
	}
	if diff := cmp.Diff([]string{".docker", ".gitconfig", ".ssh"}, Entries(files)); diff != "" {
		t.Errorf("Entries (-want +got):\n%s", diff)
	}
	dir := t.TempDir()
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, ".ssh", "id_k"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode = %v, want 0600", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ".gitconfig")); string(b) != "g" {
		t.Errorf(".gitconfig = %q", b)
	}
}
