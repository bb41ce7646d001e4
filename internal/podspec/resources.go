package podspec

import (
	"math"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// shareable are the resources one container may reserve for others: the
// scheduler only adds them up. Extended resources (GPUs and the like) and
// hugepages are devices or pages a container uses itself; they stay with
// it.
var shareable = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage}

func isShareable(r corev1.ResourceName) bool {
	for _, s := range shareable {
		if s == r {
			return true
		}
	}
	return false
}

// requestOf is what the scheduler counts for a container: its request, or
// its limit where it gives none (the API server defaults one to the other).
func requestOf(rr corev1.ResourceRequirements, r corev1.ResourceName) int64 {
	if q, ok := rr.Requests[r]; ok {
		return q.MilliValue()
	}
	if q, ok := rr.Limits[r]; ok {
		return q.MilliValue()
	}
	return 0
}

// idle returns rr with zero requests for the shareable resources: the
// container waits most of its life, and the Pod's peak is reserved
// elsewhere. An explicit zero is needed where a limit is set, or the API
// server would default the request to the limit.
func idle(rr corev1.ResourceRequirements) corev1.ResourceRequirements {
	out := *rr.DeepCopy()
	for _, r := range shareable {
		_, hasReq := out.Requests[r]
		_, hasLim := out.Limits[r]
		if !hasReq && !hasLim {
			continue
		}
		if out.Requests == nil {
			out.Requests = corev1.ResourceList{}
		}
		out.Requests[r] = *resource.NewQuantity(0, resource.DecimalSI)
	}
	return out
}

// peak returns, for each shareable resource, the most that tasks running
// at the same time can request together. weights are the tasks' requests
// (a task's sidecars plus its largest step: steps run one at a time);
// before(a, b) says task a always ends before task b starts.
//
// Tasks that can run at the same time are those ordered neither way: an
// antichain of the partial order. The heaviest antichain weighs as much as
// the fewest chains that cover each task as often as its weight (Dilworth,
// weighted), which is the total weight minus a maximum flow from each
// task to the tasks after it.
func peak(weights []map[corev1.ResourceName]int64, before func(a, b int) bool) map[corev1.ResourceName]int64 {
	out := map[corev1.ResourceName]int64{}
	n := len(weights)
	for _, r := range shareable {
		var total int64
		w := make([]int64, n)
		for i := range weights {
			w[i] = weights[i][r]
			total += w[i]
		}
		if total == 0 {
			continue
		}
		// Nodes: source 0, sink 1, out-copies 2..n+1, in-copies n+2..2n+1.
		g := newFlow(2*n + 2)
		for i := 0; i < n; i++ {
			if w[i] == 0 {
				continue
			}
			g.edge(0, 2+i, w[i])
			g.edge(2+n+i, 1, w[i])
		}
		for a := 0; a < n; a++ {
			for b := 0; b < n; b++ {
				if a != b && w[a] > 0 && w[b] > 0 && before(a, b) {
					g.edge(2+a, 2+n+b, math.MaxInt64/4)
				}
			}
		}
		out[r] = total - g.max(0, 1)
	}
	return out
}

// flow is a graph for Dinic's maximum flow.
type flow struct {
	adj   [][]int
	to    []int
	cap   []int64
	level []int
	next  []int
}

func newFlow(n int) *flow {
	return &flow{adj: make([][]int, n), level: make([]int, n), next: make([]int, n)}
}

func (f *flow) edge(a, b int, c int64) {
	f.adj[a] = append(f.adj[a], len(f.to))
	f.to, f.cap = append(f.to, b), append(f.cap, c)
	f.adj[b] = append(f.adj[b], len(f.to))
	f.to, f.cap = append(f.to, a), append(f.cap, 0)
}

func (f *flow) max(s, t int) int64 {
	var total int64
	for f.bfs(s, t) {
		for i := range f.next {
			f.next[i] = 0
		}
		for {
			d := f.dfs(s, t, math.MaxInt64)
			if d == 0 {
				break
			}
			total += d
		}
	}
	return total
}

func (f *flow) bfs(s, t int) bool {
	for i := range f.level {
		f.level[i] = -1
	}
	f.level[s] = 0
	q := []int{s}
	for len(q) > 0 {
		v := q[0]
		q = q[1:]
		for _, e := range f.adj[v] {
			if f.cap[e] > 0 && f.level[f.to[e]] < 0 {
				f.level[f.to[e]] = f.level[v] + 1
				q = append(q, f.to[e])
			}
		}
	}
	return f.level[t] >= 0
}

func (f *flow) dfs(v, t int, limit int64) int64 {
	if v == t {
		return limit
	}
	for ; f.next[v] < len(f.adj[v]); f.next[v]++ {
		e := f.adj[v][f.next[v]]
		u := f.to[e]
		if f.cap[e] <= 0 || f.level[u] != f.level[v]+1 {
			continue
		}
		if d := f.dfs(u, t, min(limit, f.cap[e])); d > 0 {
			f.cap[e] -= d
			f.cap[e^1] += d
			return d
		}
	}
	return 0
}

// quantity turns a milli-value back into a quantity of r's usual format.
func quantity(r corev1.ResourceName, milli int64) resource.Quantity {
	if r == corev1.ResourceCPU {
		return *resource.NewMilliQuantity(milli, resource.DecimalSI)
	}
	// Memory and storage: whole bytes, rounded up, in binary units.
	return *resource.NewQuantity((milli+999)/1000, resource.BinarySI)
}
