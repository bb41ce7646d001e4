// Command colo runs unchanged Tekton tekton.dev/v1 YAML on this machine.
// Everything it does lives in package cli.
package main
