package main

import "github.com/colo-ci/colo/internal/cli"

func main() {
	cli.Main()
}
