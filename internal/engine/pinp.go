package engine

import (
	"path"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// startChild starts the pipeline a PipelineTask runs (pipelines in
// pipelines): a child PipelineRun named <pr>-<pipelineTask>, with the
// task's params and its workspaces bound to the parent's.
func (p *pipelineRun) startChild(t *pipelineTask, pt *v1.PipelineTask, now time.Time) {
	name := childName(p.name, "-"+t.pt.Name)
	var bindings []v1.WorkspaceBinding
	for _, b := range pt.Workspaces {
		src := b.Workspace
		if src == "" {
			src = b.Name
		}
		prb, ok := p.bindings[src]
		if !ok {
			continue
		}
		nb := copyBinding(prb)
		nb.Name = b.Name
		if b.SubPath != "" {
			if nb.SubPath != "" {
				nb.SubPath = path.Join(nb.SubPath, b.SubPath)
			} else {
				nb.SubPath = b.SubPath
			}
		}
		bindings = append(bindings, nb)
	}
	spec := t.childSpec.spec.DeepCopy()
	pipelineName := t.childSpec.name
	if pipelineName == "" {
		pipelineName = name
		for _, b := range bindings {
			if !declaresPipelineWorkspace(spec, b.Name) {
				spec.Workspaces = append(spec.Workspaces, v1.PipelineWorkspaceDeclaration{Name: b.Name})
			}
		}
	}
	labels := copyMap(p.labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[labelPipelineRun] = p.name
	labels[labelPipelineTask] = t.pt.Name
	timeout := p.taskRunTimeout(t)
	cfg := pipelineConfig{
		name:         name,
		namespace:    p.namespace,
		pipelineName: pipelineName,
		spec:         spec,
		params:       pt.Params,
		bindings:     bindings,
		timeouts:     &v1.TimeoutFields{Pipeline: &metav1.Duration{Duration: timeout}},
		template:     p.template,
		labels:       labels,
		annotations:  copyMap(p.annotations),
	}
	child, err := newPipelineRun(p.e, p.refs, cfg, p.depth+1)
	if err != nil {
		reason, msg := ReasonPipelineValidationFailed, err.Error()
		if ire, ok := err.(*InvalidRunError); ok {
			reason, msg = ire.Reason, ire.Message()
		}
		// The child cannot start: it fails at once.
		child = &pipelineRun{e: p.e, name: name, namespace: p.namespace, pipelineName: pipelineName, spec: spec, byName: map[string]*pipelineTask{}}
		child.started = true
		child.startTime = now
		st := metav1.NewTime(now)
		child.status.StartTime = &st
		child.stop(now, reason, msg, msgCancelledByPipeline)
		child.update(now)
		t.child = child
		return
	}
	if p.cancelMode != "" {
		child.requestCancel(p.cancelMode)
	}
	t.child = child
}
