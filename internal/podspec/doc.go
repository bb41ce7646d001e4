// Package podspec compiles a PipelineRun or TaskRun into one Kubernetes Pod
// that runs it whole: every task of the pipeline, along its DAG, tasks in
// parallel where the DAG allows. Authors change nothing in their YAML.
//
// Compile(ctx, run, set, opts) returns the Pod; nothing is created. The Pod
// has:
//
//   - an init container (colo's image) that copies the colo binary into an
//     emptyDir, control.BinDir, for the step containers' images do not
//     have it;
//   - one container per step of every TaskRun the run may create (every
//     task, and every matrix combination), named from the task and the step
//     (<task>-<step>, <task>-<i>-<step> for matrix run i, step-<step> for a
//     TaskRun; DNS-1123 labels, cut and followed by a hash when too long or
//     taken), and one per sidecar (<task>-<sidecar>). Each starts `colo
//     step` instead of its image's entrypoint and waits for its turn. Its
//     command, args, script, plain env values and working directory are
//     given at run time, substituted, by the orchestrator. A step that
//     gives neither command nor script runs its image's ENTRYPOINT (else
//     its CMD) with its args, as Tekton does; the image's config is looked
//     up in its registry when compiling (Options.Remote carries the
//     keychain or transport);
//   - one orchestrator container (colo's image, `colo orchestrate`) that
//     drives the engine; it gets the run and every Pipeline, Task and
//     StepAction it uses as a Bundle in the environment variable BundleEnv,
//     with the Layout that says which container runs which step.
//
// Every container starts at once: the kubelet notices container starts
// and exits on a one-second grid, so the orchestrator orders the work
// inside running containers instead (a step learns of its turn within
// milliseconds).
//
// # Volumes
//
// Each TaskRun has a volume of its own: /tekton (results, steps, scripts,
// home, ...) and /workspace are subPaths of it, mounted only into that
// task's containers (and the orchestrator, at control.TasksDir/<volume>),
// as is each container's control directory. A step can write only into
// its own task's directories.
//
// A workspace bound to an emptyDir or a volumeClaimTemplate becomes one
// emptyDir shared by every task of the run that binds it (its sizeLimit is
// the template's storage request). Upstream gives each TaskRun its own
// emptyDir and each run its own claim; sharing one emptyDir is the one
// deliberate difference: it is what lets tasks hand files to each other
// without a PersistentVolumeClaim. persistentVolumeClaim, secret,
// configMap, projected and csi bindings keep their binding. A Secret
// (bound, a task volume, env or envFrom) reaches only the containers of
// the tasks that use it; the orchestrator gets none, not even the service
// account's token.
//
// # Resources
//
// Kubernetes reserves the sum of a Pod's containers' requests, though
// here most containers wait for their turn. A task requests its sidecars'
// requests plus its largest step's (steps run one at a time); the Pod
// requests the peak of what tasks that can run at the same time request
// together (the heaviest set of tasks no DAG path orders, finally tasks
// after all others), per resource. Step and sidecar containers get zero
// CPU, memory and ephemeral-storage requests and the orchestrator carries
// the peak, or with Options.PodLevelResources the Pod's spec.resources
// does (CPU and memory). Limits stay on each container; extended
// resources (GPUs) and hugepages stay on the containers that use them.
//
// # What cannot run in one Pod
//
// Compile rejects, before anything is created and naming the field:
// tasks with different service accounts; different pod-wide settings in
// their pod templates (nodeSelector, tolerations, affinity, Pod
// securityContext, ...); a container field that depends on a task result
// (an image, a volume mount, a Secret's name), since a Pod's containers are
// fixed when it is created; a matrix whose combinations depend on a task
// result (each combination needs containers of its own; literal values and
// PipelineRun params are fine); a matrix on a pipeline task that runs a
// pipeline.
//
// A pipeline task that runs a pipeline (pipelines in pipelines) gets
// containers for every task of that pipeline, named as the engine names
// the child PipelineRun's TaskRuns.
//
// Sidecars' readiness probes are run by their step runner; liveness and
// startup probes and lifecycle hooks are dropped, as the process they
// would watch starts only when the task does. The Pod's restartPolicy is
// Never; its activeDeadlineSeconds is the run's timeout (per attempt for a
// TaskRun, times its attempts) plus a margin for the Pod's start.
package podspec
