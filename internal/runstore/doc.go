// Package runstore keeps runs on disk: one directory per run, holding the
// run's status document and its step logs, plus directories that stand in
// for PersistentVolumeClaims and outlive any one run.
//
// A Root has two trees:
//
//	<runs>/<run-name>/
//	    status.json                   the run object with its status (see Document)
//	    logs/<taskRun>/<retry>/<container>.log
//	    .lock                         held (flock) while the run is going on
//	    ...                           whatever the executor makes under Dir()
//	<claims>/<namespace>/<claim-name>/  one directory per PersistentVolumeClaim
//
// By default both live in .colo/ under the current directory (.colo/runs and
// .colo/claims).
//
// status.json is written atomically (a temporary file renamed over the old
// one) on every WriteStatus, so a reader always sees a whole document. For a
// TaskRun it is the TaskRun object (apiVersion, kind, metadata, spec, status)
// exactly as upstream would show it. For a PipelineRun it is the PipelineRun
// object with one extra top-level field, "taskRuns": the list of the
// TaskRuns the run created, in creation order, each a TaskRun object with
// upstream's labels (tekton.dev/pipelineRun, tekton.dev/pipelineTask,
// tekton.dev/memberOf, ...) and its full status, as `kubectl get taskrun -o
// yaml` would show it. When pipeline tasks run pipelines, a "pipelineRuns"
// field beside lists the child PipelineRuns the same way (their TaskRuns are
// in "taskRuns" with the rest).
//
// A run of the same name as an earlier one replaces it, as deleting and
// re-creating the object would in a cluster; a run that is still going on
// (its lock is held) is never replaced. The earlier run's files are removed
// in the background while the new run starts, except its step logs: each
// new log takes over the earlier file of the same path, so that a re-run
// does not free and allocate a file per step.
package runstore
