package cluster

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// ColoImage is the repository the colo image is pushed to; through the
// registry mirror it is pulled as ghcr.io/colo-ci/colo:latest (or any other
// mirrored host).
const ColoImage = "colo-ci/colo"

// baseImages are the stand-ins for public images: all of them are the same
// busybox-static + bash-static layer, differing in their default command,
// which follows the real image's: bash's ENTRYPOINT is a script that runs
// its arguments as a command unless they are options for bash.
func baseImages() []struct {
	repo       string
	entrypoint []string
	cmd        string
} {
	return []struct {
		repo       string
		entrypoint []string
		cmd        string
	}{
		{"busybox", nil, "sh"},
		{"alpine", nil, "/bin/sh"},
		{"bash", []string{"docker-entrypoint.sh"}, "bash"},
		{"ubuntu", nil, "/bin/bash"},
		{"debian", nil, "bash"},
	}
}

// bashEntrypoint is what the bash image's docker-entrypoint.sh does: no
// arguments, or a first one that is an option, go to bash; anything else
// is a command.
const bashEntrypoint = `#!/bin/bash
set -e
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
	exec bash "$@"
fi
exec "$@"
`

// StandIns names the public images the cluster's registry serves
// stand-ins for ("busybox", "ubuntu", ...): each under NAME:latest and
// library/NAME:latest.
func StandIns() []string {
	var out []string
	for _, b := range baseImages() {
		out = append(out, b.repo)
	}
	return out
}

const imagePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// PushImages builds the test images and pushes them to the registry at
// addr (host:port): the base stand-ins, the pause image, and colo's own
// image as ColoImage:coloTag ("latest" when empty). The colo image is
// skipped with a warning when ./cmd/colo or ./cmd/colo-kube does not build.
func PushImages(ctx context.Context, log *slog.Logger, addr, repoRoot, coloTag string) error {
	if coloTag == "" {
		coloTag = "latest"
	}
	start := time.Now()
	base, err := baseLayer()
	if err != nil {
		return fmt.Errorf("building the base layer: %w", err)
	}
	entry, err := contentLayer(map[string][]byte{"/usr/local/bin/docker-entrypoint.sh": []byte(bashEntrypoint)})
	if err != nil {
		return err
	}
	for _, b := range baseImages() {
		layers := []v1.Layer{base}
		if len(b.entrypoint) > 0 {
			layers = append(layers, entry)
		}
		img, err := image(layers, b.entrypoint, []string{b.cmd})
		if err != nil {
			return err
		}
		// Through docker.io the path is library/NAME, through other hosts
		// (mirror.gcr.io) just NAME.
		for _, repo := range []string{"library/" + b.repo, b.repo} {
			if err := push(ctx, addr, repo+":latest", img); err != nil {
				return err
			}
		}
	}

	tmp, err := os.MkdirTemp("", "colo-images-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	pause := filepath.Join(tmp, "pause")
	if err := goBuild(ctx, repoRoot, pause, "./hack/cluster/pause"); err != nil {
		return fmt.Errorf("building the pause program: %w", err)
	}
	pauseLayer, err := fileLayer(map[string]string{"/pause": pause})
	if err != nil {
		return err
	}
	img, err := image([]v1.Layer{pauseLayer}, []string{"/pause"}, nil)
	if err != nil {
		return err
	}
	if err := push(ctx, addr, "pause:latest", img); err != nil {
		return err
	}

	// colo and, beside it, colo-kube, to which colo hands the controller.
	colo, kube := filepath.Join(tmp, "colo"), filepath.Join(tmp, "colo-kube")
	err = goBuild(ctx, repoRoot, colo, "./cmd/colo")
	if err == nil {
		err = goBuild(ctx, repoRoot, kube, "./cmd/colo-kube")
	}
	if err != nil {
		log.Warn("skipping the colo image: ./cmd/colo or ./cmd/colo-kube does not build; rerun `go run ./hack/cluster images` once it does", "err", err)
	} else {
		coloLayer, err := fileLayer(map[string]string{"/usr/local/bin/colo": colo, "/usr/local/bin/colo-kube": kube})
		if err != nil {
			return err
		}
		img, err := image([]v1.Layer{base, coloLayer}, []string{"/usr/local/bin/colo"}, nil)
		if err != nil {
			return err
		}
		if err := push(ctx, addr, ColoImage+":"+coloTag, img); err != nil {
			return err
		}
	}
	log.Info("images pushed", "registry", addr, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func push(ctx context.Context, addr, repoTag string, img v1.Image) error {
	ref, err := name.ParseReference(addr+"/"+repoTag, name.Insecure)
	if err != nil {
		return err
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}

// image assembles an image for this machine's platform.
func image(layers []v1.Layer, entrypoint, cmd []string) (v1.Image, error) {
	cfg := &v1.ConfigFile{
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Config: v1.Config{
			Env:        []string{"PATH=" + imagePath},
			Entrypoint: entrypoint,
			Cmd:        cmd,
			WorkingDir: "/",
		},
	}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return nil, err
	}
	return mutate.AppendLayers(img, layers...)
}

func goBuild(ctx context.Context, dir, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// tarWriter builds an image layer in memory.
type tarWriter struct {
	buf  bytes.Buffer
	tw   *tar.Writer
	dirs map[string]bool
}

func newTarWriter() *tarWriter {
	t := &tarWriter{dirs: map[string]bool{}}
	t.tw = tar.NewWriter(&t.buf)
	return t
}

// dir adds a directory and its parents.
func (t *tarWriter) dir(p string, mode int64) error {
	p = strings.Trim(p, "/")
	if p == "" || p == "." || t.dirs[p] {
		return nil
	}
	if err := t.dir(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	t.dirs[p] = true
	return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: p + "/", Mode: mode, ModTime: time.Unix(0, 0)})
}

func (t *tarWriter) file(p string, mode int64, data []byte) error {
	p = strings.Trim(p, "/")
	if err := t.dir(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: mode, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	_, err := t.tw.Write(data)
	return err
}

func (t *tarWriter) symlink(p, target string) error {
	p = strings.Trim(p, "/")
	if err := t.dir(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: p, Linkname: target, Mode: 0o777, ModTime: time.Unix(0, 0)})
}

func (t *tarWriter) layer() (v1.Layer, error) {
	if err := t.tw.Close(); err != nil {
		return nil, err
	}
	b := t.buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
}

// contentLayer builds a layer of executable files (image path -> content).
func contentLayer(files map[string][]byte) (v1.Layer, error) {
	t := newTarWriter()
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if err := t.file(p, 0o755, files[p]); err != nil {
			return nil, err
		}
	}
	return t.layer()
}

// fileLayer builds a layer holding host files (image path -> host path).
func fileLayer(files map[string]string) (v1.Layer, error) {
	t := newTarWriter()
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		data, err := os.ReadFile(files[p])
		if err != nil {
			return nil, err
		}
		if err := t.file(p, 0o755, data); err != nil {
			return nil, err
		}
	}
	return t.layer()
}

// baseLayer is a minimal root file system: busybox-static with a link for
// each of its applets, bash-static as /bin/bash, and the usual users and
// directories.
func baseLayer() (v1.Layer, error) {
	t := newTarWriter()
	busybox, err := os.ReadFile(busyboxBin)
	if err != nil {
		return nil, err
	}
	bash, err := os.ReadFile(bashStaticBin)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"/root", "/home", "/etc", "/dev", "/proc", "/sys", "/run", "/var", "/usr/local/bin", "/workspace"} {
		if err := t.dir(d, 0o755); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{"/tmp", "/var/tmp"} {
		if err := t.dir(d, 0o1777); err != nil {
			return nil, err
		}
	}
	if err := t.file("/bin/busybox", 0o755, busybox); err != nil {
		return nil, err
	}
	if err := t.file("/bin/bash", 0o755, bash); err != nil {
		return nil, err
	}
	out, err := exec.Command(busyboxBin, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("listing busybox applets: %w", err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "bin/busybox" || applet == "bin/bash" {
			continue
		}
		if err := t.symlink(applet, "/bin/busybox"); err != nil {
			return nil, err
		}
	}
	etc := map[string]string{
		"/etc/passwd":   "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"/etc/group":    "root:x:0:\nnogroup:x:65534:\n",
		"/etc/hostname": "localhost\n",
		"/etc/os-release": "NAME=\"colo test image\"\nID=colo-test\nPRETTY_NAME=\"colo test image " +
			"(busybox-static and bash-static; stands in for a public image)\"\n",
	}
	for _, p := range []string{"/etc/passwd", "/etc/group", "/etc/hostname", "/etc/os-release"} {
		if err := t.file(p, 0o644, []byte(etc[p])); err != nil {
			return nil, err
		}
	}
	return t.layer()
}
