package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	steps := flag.Int("steps", 200, "sequential steps in the chain")
	tasks := flag.Int("tasks", 50, "parallel tasks that each sleep 1 s")
	n := flag.Int("n", 3, "repetitions; the median is reported")
	flag.Parse()

	dir, err := os.MkdirTemp("", "colo-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	colo := filepath.Join(dir, "colo")
	// colo-sandbox beside colo, as `go install ./cmd/...` puts it.
	build := exec.Command("go", "build", "-o", dir, "./cmd/colo", "./cmd/colo-sandbox")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build colo: %w", err)
	}

	// The chain: the same scripts for colo and for bash.
	var yaml strings.Builder
	yaml.WriteString("apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: chain\nspec:\n  taskSpec:\n    steps:\n")
	var bashScript strings.Builder
	scripts := filepath.Join(dir, "scripts")
	if err := os.MkdirAll(scripts, 0o755); err != nil {
		return err
	}
	for i := range *steps {
		body := fmt.Sprintf("echo step %d", i)
		fmt.Fprintf(&yaml, "      - name: s%d\n        image: alpine\n        script: %s\n", i, body)
		p := filepath.Join(scripts, fmt.Sprintf("s%d", i))
		// colo runs a script without a shebang as `sh` with `set -e`.
		if err := os.WriteFile(p, []byte("#!/bin/sh\nset -e\n"+body+"\n"), 0o755); err != nil {
			return err
		}
		fmt.Fprintf(&bashScript, "%s\n", p)
	}
	chain := filepath.Join(dir, "chain.yaml")
	if err := os.WriteFile(chain, []byte(yaml.String()), 0o644); err != nil {
		return err
	}
	bashFile := filepath.Join(dir, "chain.sh")
	if err := os.WriteFile(bashFile, []byte("set -e\n"+bashScript.String()), 0o755); err != nil {
		return err
	}

	var fan strings.Builder
	fan.WriteString("apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n  name: fan\nspec:\n  pipelineSpec:\n    tasks:\n")
	for i := range *tasks {
		fmt.Fprintf(&fan, "      - name: t%d\n        taskSpec:\n          steps:\n            - image: alpine\n              script: sleep 1\n", i)
	}
	fanFile := filepath.Join(dir, "fan.yaml")
	if err := os.WriteFile(fanFile, []byte(fan.String()), 0o644); err != nil {
		return err
	}

	one := filepath.Join(dir, "one.yaml")
	if err := os.WriteFile(one, []byte("apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: one\nspec:\n  taskSpec:\n    steps:\n      - image: alpine\n        script: echo one\n"), 0o644); err != nil {
		return err
	}

	runDir := filepath.Join(dir, "runs")
	coloOne, _, err := median(*n, func() (time.Duration, int64, error) {
		return timed(colo, "run", "--run-dir", runDir, "-f", one)
	})
	if err != nil {
		return fmt.Errorf("colo one step: %w", err)
	}
	shOne, _, err := median(*n, func() (time.Duration, int64, error) {
		return timed("sh", "-c", "echo one")
	})
	if err != nil {
		return fmt.Errorf("sh one step: %w", err)
	}
	coloChain, rssChain, err := median(*n, func() (time.Duration, int64, error) {
		return timed(colo, "run", "--run-dir", runDir, "-f", chain)
	})
	if err != nil {
		return fmt.Errorf("colo chain: %w", err)
	}
	bashChain, _, err := median(*n, func() (time.Duration, int64, error) {
		return timed("bash", bashFile)
	})
	if err != nil {
		return fmt.Errorf("bash chain: %w", err)
	}
	coloFan, rssFan, err := median(*n, func() (time.Duration, int64, error) {
		return timed(colo, "run", "--run-dir", runDir, "-f", fanFile)
	})
	if err != nil {
		return fmt.Errorf("colo fan-out: %w", err)
	}

	fmt.Printf("a run of one step (colo's fixed cost): colo %v, sh %v\n",
		coloOne.Round(time.Millisecond), shOne.Round(time.Millisecond))
	fmt.Printf("%d sequential steps: colo %v, bash %v, ratio %.2fx (goal <= 1.3x)\n",
		*steps, coloChain.Round(time.Millisecond), bashChain.Round(time.Millisecond), coloChain.Seconds()/bashChain.Seconds())
	fmt.Printf("per-step overhead over bash: %v\n", ((coloChain - bashChain) / time.Duration(*steps)).Round(time.Microsecond))
	fmt.Printf("%d parallel 1 s tasks: colo %v, ideal 1s, ratio %.2fx (goal <= 1.2x)\n",
		*tasks, coloFan.Round(time.Millisecond), coloFan.Seconds())
	fmt.Printf("peak RSS of colo: chain %d MiB, fan-out %d MiB\n", rssChain>>10, rssFan>>10)
	return nil
}

// timed runs a command and returns its wall time and the peak RSS (KiB) of
// it and the descendants it waited for.
func timed(name string, args ...string) (time.Duration, int64, error) {
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w\n%s", name, err, out.String())
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	return took, rss, nil
}

func median(n int, f func() (time.Duration, int64, error)) (time.Duration, int64, error) {
	var ds []time.Duration
	var rss int64
	for range n {
		d, r, err := f()
		if err != nil {
			return 0, 0, err
		}
		ds = append(ds, d)
		rss = max(rss, r)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], rss, nil
}
