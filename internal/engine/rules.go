package engine

import (
	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// The rules below are the ones the engine applies before a run's first
// task starts. They are exported for the Pod compiler, which must know
// before the run what the engine will start (each TaskRun's name, each
// matrix combination, each merged step) to build a container for it; it
// calls these rather than keeping copies that could drift.

// MergeStepTemplate returns step s over the task's stepTemplate t, as
// upstream merges them (strategic merge; the step wins; env by name,
// volumeMounts by mountPath).
func MergeStepTemplate(t *v1.StepTemplate, s v1.Step) v1.Step { return mergeStepTemplate(t, s) }

// MatrixCombinations returns a matrix's combinations in upstream's order
// (the first param varies fastest, then include entries), each as params
// sorted by name.
func MatrixCombinations(m *v1.Matrix) []v1.Params {
	var out []v1.Params
	for _, c := range fanOut(m) {
		out = append(out, c.params())
	}
	return out
}

// MergePodTemplate returns over laid on base, as a taskRunSpecs entry's
// podTemplate is laid on the run's.
func MergePodTemplate(base, over *v1.PodTemplate) *v1.PodTemplate {
	return mergePodTemplate(base, over)
}

// TaskRunNames returns the names of the n TaskRuns a pipeline task of a
// PipelineRun creates (n < 0 for a task without a matrix).
func TaskRunNames(pipelineRun, pipelineTask string, n int) []string {
	return runNames(pipelineRun, pipelineTask, n)
}

// ChildPipelineRunName returns the name of the PipelineRun a pipeline task
// of a PipelineRun starts when it runs a pipeline (pipelines in pipelines).
func ChildPipelineRunName(pipelineRun, pipelineTask string) string {
	return childName(pipelineRun, "-"+pipelineTask)
}

// MaxPipelineDepth is how deep pipelines in pipelines may nest.
const MaxPipelineDepth = maxPipelineDepth

// PipelineParamValues returns the $(params...) values a pipeline's tasks
// see: the run's values or the declared defaults (defaults using other
// params resolved), plus the run's undeclared params. It fails as the
// engine fails the run when a param has no value or the wrong type.
func PipelineParamValues(pipelineRun, namespace, pipeline string, specs v1.ParamSpecs, given v1.Params) (*subst.Values, error) {
	vals, _, err := pipelineParams(pipelineRun, namespace, pipeline, specs, given)
	if err != nil {
		return nil, err
	}
	return valuesOf(vals), nil
}
