package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Names the supervisor uses at the top of the sandbox root while it builds
// it. Both are gone before the first process starts.
const (
	oldRootName = ".colo-sandbox-oldroot"
	stageName   = ".colo-sandbox-stage"
	scratchName = ".colo-sandbox-scratch"
)

// maxSymlinks bounds symbolic links followed while resolving one path, as
// the kernel's ELOOP limit does.
const maxSymlinks = 40

// mountRec is a mount point the supervisor made. Under a host mount, an
// entry created would change the host, so the supervisor never creates one
// there directly. Elsewhere it does: in sandbox memory (its tmpfs mounts),
// in a Mount's source (the caller's directory, where mount points are
// created as a kubelet creates them in a volume), or in /proc (which
// refuses).
type mountRec struct {
	path string
	host bool
}

// rootfs is the supervisor's view of the sandbox's mount tree.
type rootfs struct {
	// mounts are the mount points the supervisor made, in order; for a
	// path, the last of the longest matching ones decides.
	mounts []mountRec
	// memoryPath is where the memory directory is mounted, memory an
	// O_PATH fd of it; set in the sandbox's own namespace only ("" and
	// -1 elsewhere), where mount sources are taken (see sources).
	memoryPath string
	memory     int
}

// clone returns a copy of r for a mount namespace copied from this one.
func (r *rootfs) clone() *rootfs { return &rootfs{mounts: slices.Clone(r.mounts), memory: -1} }

// setupError marks a failure that means namespaces are not usable here.
type setupError struct{ err error }

func (e *setupError) Error() string { return e.err.Error() }
func (e *setupError) Unwrap() error { return e.err }

// unsupportedIfDenied wraps err as a setupError when the kernel denied the
// operation outright.
func unsupportedIfDenied(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return &setupError{err}
	}
	return err
}

type openSource struct {
	fd    int
	isDir bool
	m     wireMount
}

// buildRoot turns the supervisor's fresh mount namespace into the sandbox:
//
//  1. All mounts become private, so nothing here propagates to the host.
//  2. The mount sources are opened (O_PATH) while the host's tree is still
//     the root, so host symbolic links resolve as the caller meant.
//  3. A tmpfs becomes the new root (pivot_root). Each entry of the host's
//     root is recreated in it: directories and files as recursive bind
//     mounts of the host's, symbolic links as copies. /proc is a fresh
//     procfs for the sandbox's PID namespace.
//  4. Each Mount is bound from its open source at its target; missing
//     parents are created (see mkdirAll).
//  5. The host's old root is detached.
//
// The host's filesystem is never written: new mount points live in tmpfs.
func buildRoot(spec *wireSpec) (*rootfs, error) {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil, unsupportedIfDenied(fmt.Errorf("make mounts private: %w", err))
	}
	srcs := make([]openSource, 0, len(spec.Mounts))
	defer func() {
		for _, s := range srcs {
			unix.Close(s.fd)
		}
	}()
	for _, m := range spec.Mounts {
		fd, err := unix.Open(m.Source, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("mount source %s: %w", m.Source, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("mount source %s: %w", m.Source, err)
		}
		srcs = append(srcs, openSource{fd: fd, isDir: st.Mode&unix.S_IFMT == unix.S_IFDIR, m: m})
	}
	// Parents before children; among equals, the given order.
	slices.SortStableFunc(srcs, func(a, b openSource) int {
		return depth(a.m.Target) - depth(b.m.Target)
	})

	var hostRoot unix.Stat_t
	if err := unix.Stat("/", &hostRoot); err != nil {
		return nil, fmt.Errorf("stat /: %w", err)
	}
	base, err := stagingPoint()
	if err != nil {
		return nil, err
	}
	if err := unix.Mount("tmpfs", base, "tmpfs", 0, "mode=0755"); err != nil {
		return nil, unsupportedIfDenied(fmt.Errorf("mount tmpfs root: %w", err))
	}
	if err := os.Mkdir(filepath.Join(base, oldRootName), 0o700); err != nil {
		return nil, fmt.Errorf("make old root directory: %w", err)
	}
	if err := unix.PivotRoot(base, filepath.Join(base, oldRootName)); err != nil {
		return nil, unsupportedIfDenied(fmt.Errorf("pivot_root: %w", err))
	}
	if err := unix.Chdir("/"); err != nil {
		return nil, fmt.Errorf("chdir /: %w", err)
	}
	old := "/" + oldRootName
	if err := unix.Chmod("/", hostRoot.Mode&0o7777); err != nil {
		return nil, fmt.Errorf("chmod /: %w", err)
	}
	// Best effort: in a user namespace the host root's owner may not be
	// mapped.
	_ = unix.Chown("/", int(hostRoot.Uid), int(hostRoot.Gid))

	r := &rootfs{mounts: []mountRec{{path: "/"}}, memory: -1}
	entries, err := os.ReadDir(old)
	if err != nil {
		return nil, fmt.Errorf("read host root: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if name == oldRootName || name == stageName || name == scratchName {
			continue
		}
		if name == "proc" && e.IsDir() {
			if err := r.mountProc(old); err != nil {
				return nil, err
			}
			continue
		}
		if err := r.mirror(filepath.Join(old, name), "/"+name); err != nil {
			return nil, err
		}
	}

	for _, s := range srcs {
		if err := r.bind(fmt.Sprintf("/proc/self/fd/%d", s.fd), s); err != nil {
			return nil, err
		}
	}

	if spec.Memory != "" {
		target, err := r.mkdirAll(spec.Memory, true)
		if err != nil {
			return nil, fmt.Errorf("memory directory %s: %w", spec.Memory, err)
		}
		if err := unix.Mount("tmpfs", target, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
			return nil, fmt.Errorf("memory directory %s: mount tmpfs: %w", spec.Memory, err)
		}
		r.mounts = append(r.mounts, mountRec{path: target})
		fd, err := unix.Open(target, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("memory directory %s: %w", spec.Memory, err)
		}
		r.memoryPath, r.memory = target, fd
	}

	if err := unix.Unmount(old, unix.MNT_DETACH); err != nil {
		return nil, fmt.Errorf("detach host root: %w", err)
	}
	if err := unix.Rmdir(old); err != nil {
		return nil, fmt.Errorf("remove old root directory: %w", err)
	}
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return nil, fmt.Errorf("set hostname: %w", err)
		}
	}
	return r, nil
}

// stagingPoint picks an existing host directory to mount the new root on
// before pivot_root moves it to /. The host's directory is not changed and
// is visible again, unshadowed, under the old root.
func stagingPoint() (string, error) {
	for _, d := range []string{"/tmp", "/mnt", "/run", "/var", "/dev"} {
		var st unix.Stat_t
		if unix.Lstat(d, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return d, nil
		}
	}
	return "", errors.New("no directory to build the sandbox root on")
}

// mountProc gives the sandbox a procfs of its own PID namespace, so that
// process ids in /proc are the ones processes see. Where that is refused
// (a user namespace on a host whose /proc is partly covered), it binds the
// host's instead.
func (r *rootfs) mountProc(old string) error {
	if err := os.Mkdir("/proc", 0o555); err != nil {
		return fmt.Errorf("make /proc: %w", err)
	}
	err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	if err == nil {
		r.mounts = append(r.mounts, mountRec{path: "/proc"})
		return nil
	}
	if err := unix.Mount(old+"/proc", "/proc", "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	r.mounts = append(r.mounts, mountRec{path: "/proc"})
	return nil
}

// mirror recreates the host entry src at dst: a directory or file as a
// recursive bind mount, a symbolic link as a copy. An entry that the host
// removes meanwhile is left out.
func (r *rootfs) mirror(src, dst string) error {
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("mirror %s: %w", dst, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		target, err := os.Readlink(src)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("mirror %s: %w", dst, err)
		}
		if err := os.Symlink(target, dst); err != nil {
			return fmt.Errorf("mirror %s: %w", dst, err)
		}
		return nil
	case unix.S_IFDIR:
		if err := unix.Mkdir(dst, st.Mode&0o7777); err != nil {
			return fmt.Errorf("mirror %s: %w", dst, err)
		}
	default:
		fd, err := unix.Open(dst, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return fmt.Errorf("mirror %s: %w", dst, err)
		}
		unix.Close(fd)
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		if errors.Is(err, unix.ENOENT) {
			_ = os.Remove(dst)
			return nil
		}
		return fmt.Errorf("mirror %s: bind: %w", dst, err)
	}
	r.mounts = append(r.mounts, mountRec{path: dst, host: true})
	return nil
}

// bind mounts the open source s, reached at src, at its target.
func (r *rootfs) bind(src string, s openSource) error {
	return r.place(s, func(target string) error {
		return unix.Mount(src, target, "", unix.MS_BIND|unix.MS_REC, "")
	})
}

// attach moves s, a detached mount tree (see supervisor.sources), to its
// target.
func (r *rootfs) attach(s openSource) error {
	return r.place(s, func(target string) error {
		return unix.MoveMount(s.fd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH)
	})
}

// place creates s's target and mounts s there with mount.
func (r *rootfs) place(s openSource, mount func(target string) error) error {
	target, err := r.mkdirAll(s.m.Target, s.isDir)
	if err != nil {
		return fmt.Errorf("mount %s: %w", s.m.Target, err)
	}
	var st unix.Stat_t
	if err := unix.Stat(target, &st); err != nil {
		return fmt.Errorf("mount %s: %w", s.m.Target, err)
	}
	if isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR; isDir != s.isDir {
		if s.isDir {
			return fmt.Errorf("mount %s on %s: %w", s.m.Source, s.m.Target, unix.ENOTDIR)
		}
		return fmt.Errorf("mount %s on %s: %w", s.m.Source, s.m.Target, unix.EISDIR)
	}
	if err := mount(target); err != nil {
		return fmt.Errorf("mount %s on %s: %w", s.m.Source, s.m.Target, err)
	}
	r.mounts = append(r.mounts, mountRec{path: target})
	if s.m.ReadOnly {
		if err := readOnly(target); err != nil {
			return fmt.Errorf("mount %s read-only: %w", s.m.Target, err)
		}
	}
	return nil
}

// readOnly makes the mount at target and all mounts below it read-only.
func readOnly(target string) error {
	err := unix.MountSetattr(unix.AT_FDCWD, target, unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
	if !errors.Is(err, unix.ENOSYS) {
		return err
	}
	// Kernels before 5.12: remount the top mount only, keeping the flags a
	// user namespace may not clear.
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err != nil {
		return err
	}
	keep := uintptr(st.Flags) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME)
	return unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|keep, "")
}

// hostAt reports whether path p (resolved and absolute) lies in a host
// mount, and returns the mount point that decides.
func (r *rootfs) hostAt(p string) (bool, string) {
	best := -1
	for i, m := range r.mounts {
		if m.path == "/" || m.path == p || strings.HasPrefix(p, m.path+"/") {
			if best < 0 || len(m.path) >= len(r.mounts[best].path) {
				best = i
			}
		}
	}
	return r.mounts[best].host, r.mounts[best].path
}

// mkdirAll resolves p inside the sandbox, following symbolic links as the
// kernel would, and creates what is missing: directories, and the last
// element as an empty file when lastIsDir is false. It returns the
// resolved path.
//
// An entry is never created in a host directory: the host directory that
// would receive it is first replaced in the sandbox by a tmpfs whose
// entries are bind mounts of the host directory's (see own).
func (r *rootfs) mkdirAll(p string, lastIsDir bool) (string, error) {
	todo := split(p)
	cur := "/"
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, c)
		var st unix.Stat_t
		err := unix.Lstat(next, &st)
		switch {
		case err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK:
			links++
			if links > maxSymlinks {
				return "", &fs.PathError{Op: "resolve", Path: p, Err: unix.ELOOP}
			}
			target, err := os.Readlink(next)
			if err != nil {
				return "", err
			}
			if filepath.IsAbs(target) {
				cur = "/"
			}
			todo = append(split(target), todo...)
		case err == nil:
			if st.Mode&unix.S_IFMT != unix.S_IFDIR && len(todo) > 0 {
				return "", &fs.PathError{Op: "resolve", Path: next, Err: unix.ENOTDIR}
			}
			cur = next
		case errors.Is(err, unix.ENOENT):
			if err := r.own(cur); err != nil {
				return "", err
			}
			if len(todo) == 0 && !lastIsDir {
				fd, err := unix.Open(next, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
				if err != nil {
					return "", &fs.PathError{Op: "create", Path: next, Err: err}
				}
				unix.Close(fd)
			} else if err := unix.Mkdir(next, 0o755); err != nil {
				return "", &fs.PathError{Op: "mkdir", Path: next, Err: err}
			}
			cur = next
		default:
			return "", &fs.PathError{Op: "lstat", Path: next, Err: err}
		}
	}
	return cur, nil
}

func split(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// own makes directory dir (resolved) writable without touching the host.
// If dir lies in a host directory, it becomes copy-on-write in the sandbox
// (see overlay). Where overlayfs is refused, the host directory nearest the
// root on dir's way is instead replaced by a tmpfs of bind mounts of its
// entries, one level at a time (see split).
func (r *rootfs) own(dir string) error {
	if host, _ := r.hostAt(dir); !host {
		return nil
	}
	oerr := r.overlay(dir)
	if oerr == nil {
		return nil
	}
	for {
		host, at := r.hostAt(dir)
		if !host {
			return nil
		}
		if err := r.split(at); err != nil {
			return errors.Join(oerr, err)
		}
	}
}

// overlay mounts an overlayfs over dir whose lower layer is dir and whose
// upper layer is a fresh tmpfs: the sandbox sees dir's contents, and
// whatever it creates or changes there stays in sandbox memory, as in a
// container's writable layer. Mounts below dir, which overlayfs would hide,
// are bound again on top. The cost does not depend on dir's size.
func (r *rootfs) overlay(dir string) error {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("overlay %s: %w", dir, err)
	}
	subs, err := submounts(dir)
	if err != nil {
		return fmt.Errorf("overlay %s: %w", dir, err)
	}
	// What each submount is, before dir's own record covers them.
	subHost := make([]bool, len(subs))
	for i, sub := range subs {
		subHost[i], _ = r.hostAt(sub)
	}

	hold, scratch := "/"+stageName, "/"+scratchName
	for _, d := range []string{hold, scratch} {
		if err := unix.Mkdir(d, 0o700); err != nil {
			return fmt.Errorf("overlay %s: %w", dir, err)
		}
		defer unix.Rmdir(d)
	}
	if err := unix.Mount(dir, hold, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("overlay %s: hold: %w", dir, err)
	}
	defer unix.Unmount(hold, unix.MNT_DETACH)
	if err := unix.Mount("tmpfs", scratch, "tmpfs", 0, "mode=0700"); err != nil {
		return fmt.Errorf("overlay %s: upper layer: %w", dir, err)
	}
	// The overlay keeps private clones of its layers: the scratch mount
	// can go, and with it any path to the upper layer.
	defer unix.Unmount(scratch, unix.MNT_DETACH)
	upper, work := scratch+"/upper", scratch+"/work"
	for _, d := range []string{upper, work} {
		if err := unix.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("overlay %s: %w", dir, err)
		}
	}
	// The merged root takes the upper root's owner and mode.
	if err := unix.Chmod(upper, st.Mode&0o7777); err != nil {
		return fmt.Errorf("overlay %s: %w", dir, err)
	}
	_ = unix.Chown(upper, int(st.Uid), int(st.Gid))
	opts := "lowerdir=" + hold + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", dir, "overlay", 0, opts); err != nil {
		// Unprivileged overlays may need user.* extended attributes.
		if err2 := unix.Mount("overlay", dir, "overlay", 0, opts+",userxattr"); err2 != nil {
			return fmt.Errorf("overlay %s: %w", dir, err)
		}
	}
	for _, sub := range subs {
		if err := unix.Mount(hold+strings.TrimPrefix(sub, dir), sub, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			_ = unix.Unmount(dir, unix.MNT_DETACH)
			return fmt.Errorf("overlay %s: mount %s again: %w", dir, sub, err)
		}
	}
	r.mounts = append(r.mounts, mountRec{path: dir})
	for i, sub := range subs {
		r.mounts = append(r.mounts, mountRec{path: sub, host: subHost[i]})
	}
	return nil
}

// submounts returns the mount points strictly below dir, leaving out those
// below another one of them (a recursive bind brings them along).
func submounts(dir string) ([]string, error) {
	b, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		return nil, err
	}
	var below []string
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		if p := unescapeMountinfo(f[4]); strings.HasPrefix(p, dir+"/") {
			below = append(below, p)
		}
	}
	slices.Sort(below)
	below = slices.Compact(below)
	var top []string
	for _, p := range below {
		if len(top) == 0 || !strings.HasPrefix(p, top[len(top)-1]+"/") {
			top = append(top, p)
		}
	}
	return top, nil
}

// unescapeMountinfo decodes the octal escapes (\040 for a space) the
// kernel writes in /proc/self/mountinfo paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// split replaces the host directory mounted at dir with a tmpfs of bind
// mounts of its entries.
func (r *rootfs) split(dir string) error {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("split %s: %w", dir, err)
	}
	stage := "/" + stageName
	if err := unix.Mkdir(stage, 0o700); err != nil {
		return fmt.Errorf("split %s: %w", dir, err)
	}
	defer unix.Rmdir(stage)
	if err := unix.Mount(dir, stage, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("split %s: hold: %w", dir, err)
	}
	defer unix.Unmount(stage, unix.MNT_DETACH)
	opts := fmt.Sprintf("mode=%o", st.Mode&0o7777)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		return fmt.Errorf("split %s: mount tmpfs: %w", dir, err)
	}
	_ = unix.Chown(dir, int(st.Uid), int(st.Gid))
	r.mounts = append(r.mounts, mountRec{path: dir})
	entries, err := os.ReadDir(stage)
	if err != nil {
		return fmt.Errorf("split %s: %w", dir, err)
	}
	for _, e := range entries {
		if err := r.mirror(filepath.Join(stage, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("split %s: %w", dir, err)
		}
	}
	return nil
}
