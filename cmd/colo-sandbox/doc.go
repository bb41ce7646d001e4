// Command colo-sandbox is the supervisor of colo's task sandboxes, for
// colo to start in place of re-executing itself: it holds nothing but
// package sandbox, so it starts in a few milliseconds where colo, which
// carries Kubernetes' client libraries, takes tens. colo uses it when it
// is installed in the same directory as colo; without it, colo works the
// same, a little slower to start each run.
package main
