// Command pause is the test cluster's Pod sandbox process: it does nothing
// until it receives SIGTERM or SIGINT, then exits at once. (A shell's
// "sleep" as PID 1 ignores SIGTERM, which makes every Pod deletion wait for
// the kill timeout.)
package main
