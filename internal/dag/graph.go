package dag

import (
	"container/heap"
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Graph is the dependency graph of a pipeline's tasks. Its zero value is
// an empty graph; build one with Build.
type Graph struct {
	names    []string       // declaration order
	index    map[string]int // name -> position in names
	deps     [][]Dep        // per task, as Deps returned them
	parents  [][]int        // per task, sorted, unique
	children [][]int        // per task, sorted, unique
}

// UnknownTaskError says that a task depends on a task the pipeline does not
// have.
type UnknownTaskError struct {
	// Index is the position of the pipeline task in the slice given to
	// Build, so that a caller can name the field: tasks[Index].<Dep.Field>.
	Index int
	// Task is the pipeline task with the dependency.
	Task string
	// Dep is the dependency naming the unknown task.
	Dep Dep
}

func (e *UnknownTaskError) Error() string {
	return fmt.Sprintf("task %q depends on %q (%s) but %q wasn't present in Pipeline", e.Task, e.Dep.Task, e.Dep.Field, e.Dep.Task)
}

// SelfDependencyError says that a task depends on itself.
type SelfDependencyError struct {
	// Index is the position of the pipeline task in the slice given to
	// Build; Task is its name; Dep is where it names itself.
	Index int
	Task  string
	Dep   Dep
}

func (e *SelfDependencyError) Error() string {
	return fmt.Sprintf("cycle detected; task %q depends on itself (%s)", e.Task, e.Dep.Field)
}

// CycleError says that tasks depend on each other in a cycle.
type CycleError struct {
	// Cycle lists the tasks in run order, starting and ending with the same
	// task: [a b c a] means b runs after a, c after b and a after c.
	Cycle []string
}

func (e *CycleError) Error() string {
	return "cycle detected: " + strings.Join(e.Cycle, " -> ")
}

// DuplicateTaskError says that two pipeline tasks share a name (or a task
// has no name).
type DuplicateTaskError struct {
	Name string
}

func (e *DuplicateTaskError) Error() string {
	if e.Name == "" {
		return "pipeline task has no name"
	}
	return fmt.Sprintf("duplicate pipeline task name %q", e.Name)
}

// Build returns the graph of tasks. Every problem found is returned, joined
// with errors.Join, as *DuplicateTaskError, *UnknownTaskError and
// *SelfDependencyError values in declaration order (use errors.As, or
// unwrap the join, to get each); a cycle, reported as one *CycleError, is
// only looked for when there is no other problem. On error the graph is
// nil.
func Build(tasks []v1.PipelineTask) (*Graph, error) {
	g := &Graph{
		names:    make([]string, len(tasks)),
		index:    make(map[string]int, len(tasks)),
		deps:     make([][]Dep, len(tasks)),
		parents:  make([][]int, len(tasks)),
		children: make([][]int, len(tasks)),
	}
	var errs []error
	for i := range tasks {
		name := tasks[i].Name
		g.names[i] = name
		if _, dup := g.index[name]; dup || name == "" {
			errs = append(errs, &DuplicateTaskError{Name: name})
			continue
		}
		g.index[name] = i
	}
	for i := range tasks {
		deps, err := Deps(&tasks[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		g.deps[i] = deps
		seen := map[int]bool{}
		for _, d := range deps {
			j, ok := g.index[d.Task]
			switch {
			case !ok:
				errs = append(errs, &UnknownTaskError{Index: i, Task: tasks[i].Name, Dep: d})
				continue
			case j == i:
				errs = append(errs, &SelfDependencyError{Index: i, Task: tasks[i].Name, Dep: d})
				continue
			case seen[j]:
				continue
			}
			seen[j] = true
			g.parents[i] = append(g.parents[i], j)
			g.children[j] = append(g.children[j], i)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for i := range g.parents {
		slices.Sort(g.parents[i])
		slices.Sort(g.children[i])
	}
	if _, rest := g.kahn(); len(rest) > 0 {
		return nil, &CycleError{Cycle: g.findCycle(rest)}
	}
	return g, nil
}

// Tasks returns the task names in declaration order.
func (g *Graph) Tasks() []string { return append([]string(nil), g.names...) }

// Has reports whether the graph has a task of that name.
func (g *Graph) Has(name string) bool {
	_, ok := g.index[name]
	return ok
}

// Parents returns the tasks name waits for, in declaration order (nil for
// an unknown name).
func (g *Graph) Parents(name string) []string { return g.namesOf(g.parents, name) }

// Children returns the tasks that wait for name, in declaration order.
func (g *Graph) Children(name string) []string { return g.namesOf(g.children, name) }

// Deps returns the dependencies of name as Deps found them: runAfter first,
// then result references, with the field each came from.
func (g *Graph) Deps(name string) []Dep {
	i, ok := g.index[name]
	if !ok {
		return nil
	}
	return append([]Dep(nil), g.deps[i]...)
}

// Roots returns the tasks that wait for nothing, in declaration order.
func (g *Graph) Roots() []string {
	var out []string
	for i, p := range g.parents {
		if len(p) == 0 {
			out = append(out, g.names[i])
		}
	}
	return out
}

// Order returns every task in an order in which each comes after all its
// parents. Among tasks that could go next, the one declared first goes
// first (Kahn's algorithm).
func (g *Graph) Order() []string {
	order, _ := g.kahn()
	var out []string
	for _, i := range order {
		out = append(out, g.names[i])
	}
	return out
}

func (g *Graph) namesOf(adj [][]int, name string) []string {
	i, ok := g.index[name]
	if !ok || len(adj[i]) == 0 {
		return nil
	}
	out := make([]string, len(adj[i]))
	for k, j := range adj[i] {
		out[k] = g.names[j]
	}
	return out
}

// kahn returns the tasks in topological order, and the tasks it could not
// order (those on or after a cycle) in declaration order.
func (g *Graph) kahn() (order, rest []int) {
	indeg := make([]int, len(g.names))
	ready := &intHeap{}
	for i, p := range g.parents {
		indeg[i] = len(p)
		if indeg[i] == 0 {
			heap.Push(ready, i)
		}
	}
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		order = append(order, i)
		for _, c := range g.children[i] {
			indeg[c]--
			if indeg[c] == 0 {
				heap.Push(ready, c)
			}
		}
	}
	for i, d := range indeg {
		if d > 0 {
			rest = append(rest, i)
		}
	}
	return order, rest
}

// findCycle returns a shortest cycle through the first task of rest (in
// declaration order) that lies on one, in run order, first task repeated
// at the end. rest must be the tasks Kahn's algorithm could not order, so
// at least one of them lies on a cycle.
func (g *Graph) findCycle(rest []int) []string {
	in := make(map[int]bool, len(rest))
	for _, i := range rest {
		in[i] = true
	}
	for _, start := range rest {
		// Breadth-first from start along child edges, visiting children in
		// declaration order, until start is reached again.
		prev := map[int]int{}
		queue := []int{start}
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			for _, c := range g.children[i] {
				if !in[c] {
					continue
				}
				if c == start {
					path := []int{start}
					for k := i; k != start; k = prev[k] {
						path = append(path, k)
					}
					names := []string{g.names[start]}
					for k := len(path) - 1; k >= 1; k-- {
						names = append(names, g.names[path[k]])
					}
					return append(names, g.names[start])
				}
				if _, seen := prev[c]; !seen {
					prev[c] = i
					queue = append(queue, c)
				}
			}
		}
	}
	// Unreachable when rest comes from kahn; keep the error useful anyway.
	names := make([]string, len(rest))
	for k, i := range rest {
		names[k] = g.names[i]
	}
	return names
}

// intHeap is a min-heap of task positions.
type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
