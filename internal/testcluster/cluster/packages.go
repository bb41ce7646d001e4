package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
)

// Files the cluster takes from Debian packages.
const (
	containerdBin = "/usr/bin/containerd"
	runcBin       = "/usr/sbin/runc"
	cniBinDir     = "/usr/lib/cni"
	busyboxBin    = "/bin/busybox"
	bashStaticBin = "/bin/bash-static"
)

// debianPackage is a package the cluster needs and a file that shows it is
// installed.
type debianPackage struct {
	name string
	file string
}

func debianPackages(controlPlaneOnly bool) []debianPackage {
	if controlPlaneOnly {
		return nil
	}
	return []debianPackage{
		{"containerd", containerdBin},
		{"runc", runcBin},
		{"containernetworking-plugins", cniBinDir + "/bridge"},
		{"iproute2", "/usr/sbin/ip"},
		// Static builds go into the test images; the dynamic busybox does
		// not run in an image without a libc.
		{"busybox-static", busyboxBin},
		{"bash-static", bashStaticBin},
	}
}

// EnsurePackages installs the missing Debian packages with apt-get.
func EnsurePackages(ctx context.Context, log *slog.Logger, controlPlaneOnly bool) error {
	var missing []string
	for _, p := range debianPackages(controlPlaneOnly) {
		if !installed(p) {
			missing = append(missing, p.name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("missing Debian packages (install them as root): %s", strings.Join(missing, " "))
	}
	log.Info("installing Debian packages", "packages", strings.Join(missing, " "))
	if err := aptGet(ctx, "update"); err != nil {
		return err
	}
	if err := aptGet(ctx, append([]string{"install", "-y", "--no-install-recommends"}, missing...)...); err != nil {
		return err
	}
	for _, p := range debianPackages(controlPlaneOnly) {
		if !installed(p) {
			return fmt.Errorf("package %s installed but %s is missing", p.name, p.file)
		}
	}
	return nil
}

func installed(p debianPackage) bool {
	if _, err := os.Stat(p.file); err != nil {
		return false
	}
	if p.name == "busybox-static" {
		// /bin/busybox is also shipped, dynamically linked, by "busybox".
		out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", p.name).Output()
		return err == nil && strings.Contains(string(out), "install ok installed")
	}
	return true
}

func aptGet(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("apt-get %s: %w", strings.Join(args, " "), err)
	}
	return nil
}
