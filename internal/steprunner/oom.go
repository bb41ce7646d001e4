package steprunner

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// oomFiles hold the container's count of processes the kernel killed for
// memory: cgroup v2's memory.events, cgroup v1's memory.oom_control (both
// have an "oom_kill N" line). In a container its own cgroup is mounted at
// /sys/fs/cgroup.
var oomFiles = []string{"/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"}

// oomKills returns the container's OOM kill count, or -1 if it cannot be
// read.
func oomKills() int64 {
	for _, path := range oomFiles {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), " ")
			if ok && k == "oom_kill" {
				n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				f.Close()
				if err != nil {
					return -1
				}
				return n
			}
		}
		f.Close()
	}
	return -1
}
