package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupMounts returns the mount points of the machine's cgroup
// hierarchies: one for cgroup v2, one per v1 hierarchy otherwise.
func cgroupMounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+1 >= len(fields) || len(fields) < 5 {
			continue
		}
		if fs := fields[sep+1]; fs == "cgroup" || fs == "cgroup2" {
			out = append(out, fields[4])
		}
	}
	return out, sc.Err()
}

// makeCgroups creates NAME/system and NAME/pods in every hierarchy and
// returns the NAME directories.
func makeCgroups(name string) ([]string, error) {
	mounts, err := cgroupMounts()
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, m := range mounts {
		root := filepath.Join(m, name)
		for _, d := range []string{root, filepath.Join(root, "system"), filepath.Join(root, "pods")} {
			if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				return dirs, fmt.Errorf("creating cgroup %s: %w", d, err)
			}
			if err := inheritCpuset(d); err != nil {
				return dirs, err
			}
		}
		if m == "/sys/fs/cgroup" {
			// cgroup v2: give the children the controllers the kubelet and
			// runc use. Errors mean a controller is unavailable; runc copes.
			for _, d := range []string{"/sys/fs/cgroup", root} {
				_ = os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte("+cpu +cpuset +memory +pids +io"), 0o644)
			}
		}
		dirs = append(dirs, root)
	}
	return dirs, nil
}

// inheritCpuset copies a cgroup v1 cpuset's CPUs and memory nodes from its
// parent: a new cpuset starts with none, and no process can join it.
func inheritCpuset(dir string) error {
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		cur, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || strings.TrimSpace(string(cur)) != "" {
			continue // not a v1 cpuset, or already set
		}
		parent, err := os.ReadFile(filepath.Join(filepath.Dir(dir), f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f), parent, 0o644); err != nil {
			return fmt.Errorf("setting %s of %s: %w", f, dir, err)
		}
	}
	return nil
}

// joinCgroup moves the calling process into the "system" cgroup of each
// directory; its children inherit it.
func joinCgroup(dirs []string) error {
	pid := []byte(strconv.Itoa(os.Getpid()))
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, "system", "cgroup.procs"), pid, 0o644); err != nil {
			return fmt.Errorf("joining cgroup %s: %w", d, err)
		}
	}
	return nil
}

// cgroupPids lists the processes in the sub-cgroup (e.g. "pods", or "" for
// all) of each directory, nested cgroups included.
func cgroupPids(dirs []string, sub string) []int {
	seen := map[int]bool{}
	for _, d := range dirs {
		_ = filepath.WalkDir(filepath.Join(d, sub), func(p string, e os.DirEntry, err error) error {
			if err != nil || !e.IsDir() {
				return nil
			}
			b, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
			if err != nil {
				return nil
			}
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					seen[pid] = true
				}
			}
			return nil
		})
	}
	var pids []int
	for pid := range seen {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	return pids
}

// killCgroup sends SIGKILL to every process in the sub-cgroup, except the
// listed ones, until none is left or a few seconds have passed.
func killCgroup(dirs []string, sub string, except ...int) error {
	skip := map[int]bool{}
	for _, p := range except {
		skip[p] = true
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []int
		for _, pid := range cgroupPids(dirs, sub) {
			if skip[pid] {
				continue
			}
			left = append(left, pid)
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("killing pid %d: %w", pid, err)
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes still in the cluster's cgroups: %v", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// removeCgroups removes the directories and everything nested in them,
// deepest first. Cgroups that still hold processes cannot be removed.
func removeCgroups(dirs []string) error {
	var errs []error
	for _, d := range dirs {
		var all []string
		_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		for i := len(all) - 1; i >= 0; i-- {
			if err := syscall.Rmdir(all[i]); err != nil && !errors.Is(err, syscall.ENOENT) {
				errs = append(errs, fmt.Errorf("removing cgroup %s: %w", all[i], err))
			}
		}
	}
	return errors.Join(errs...)
}
