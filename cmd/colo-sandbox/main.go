package main

import (
	"fmt"
	"os"

	"github.com/colo-ci/colo/internal/sandbox"
)

func main() {
	if !sandbox.IsSupervisor(os.Args) {
		fmt.Fprintln(os.Stderr, "colo-sandbox serves colo's sandboxes; colo starts it, it is not run by hand")
		os.Exit(2)
	}
	os.Exit(sandbox.Main())
}
