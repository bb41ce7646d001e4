package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultTimeout is the timeout a run gets when it sets none (upstream's
// config-defaults default-timeout-minutes, 60).
const DefaultTimeout = 60 * time.Minute

// DefaultServiceAccountName is the service account a run gets when it names none.
const DefaultServiceAccountName = "default"

// SetDefaults fills in the type of a param declaration the way upstream
// infers it: an explicit type stays; with properties it is an object;
// without a default it is a string; otherwise it is the default's shape.
// Object properties without a type are strings.
func (s *ParamSpec) SetDefaults() {
	if s == nil {
		return
	}
	defaultProperties(s.Properties)
	if s.Type != "" {
		return
	}
	switch {
	case s.Properties != nil:
		s.Type = ParamTypeObject
	case s.Default == nil:
		s.Type = ParamTypeString
	case s.Default.Type != "":
		s.Type = s.Default.Type
	case s.Default.ArrayVal != nil:
		s.Type = ParamTypeArray
	case s.Default.ObjectVal != nil:
		s.Type = ParamTypeObject
	default:
		s.Type = ParamTypeString
	}
}

// SetDefaults fills in param types of each declaration.
func (ps ParamSpecs) SetDefaults() {
	for i := range ps {
		ps[i].SetDefaults()
	}
}

// SetDefaults gives a result without a type the type string, or object when
// it has properties; properties without a type are strings.
func (r *TaskResult) SetDefaults() {
	if r == nil {
		return
	}
	r.Type = resultType(r.Type, r.Properties)
	defaultProperties(r.Properties)
}

// SetDefaults gives a step result without a type the type string, or object
// when it has properties; properties without a type are strings.
func (r *StepResult) SetDefaults() {
	if r == nil {
		return
	}
	r.Type = resultType(r.Type, r.Properties)
	defaultProperties(r.Properties)
}

// SetDefaults gives a pipeline result without a type the type string.
func (r *PipelineResult) SetDefaults() {
	if r == nil {
		return
	}
	if r.Type == "" {
		r.Type = ParamTypeString
	}
}

// SetDefaults fills in the types of params and results (task and step
// results). It sets no workingDir or HOME and does not merge stepTemplate
// into steps: both happen, if at all, when a task runs.
func (s *TaskSpec) SetDefaults() {
	if s == nil {
		return
	}
	s.Params.SetDefaults()
	for i := range s.Results {
		s.Results[i].SetDefaults()
	}
	for i := range s.Steps {
		for j := range s.Steps[i].Results {
			s.Steps[i].Results[j].SetDefaults()
		}
	}
}

// SetDefaults fills in param and result types of the pipeline and of every
// embedded taskSpec and pipelineSpec of its tasks and finally tasks.
func (s *PipelineSpec) SetDefaults() {
	if s == nil {
		return
	}
	s.Params.SetDefaults()
	for i := range s.Results {
		s.Results[i].SetDefaults()
	}
	for i := range s.Tasks {
		s.Tasks[i].SetDefaults()
	}
	for i := range s.Finally {
		s.Finally[i].SetDefaults()
	}
}

// SetDefaults defaults the task's embedded taskSpec or pipelineSpec.
func (pt *PipelineTask) SetDefaults() {
	if pt == nil {
		return
	}
	if pt.TaskSpec != nil {
		pt.TaskSpec.TaskSpec.SetDefaults()
	}
	pt.PipelineSpec.SetDefaults()
}

// SetDefaults defaults the Task's spec.
func (t *Task) SetDefaults() {
	if t == nil {
		return
	}
	t.Spec.SetDefaults()
}

// SetDefaults defaults the Pipeline's spec.
func (p *Pipeline) SetDefaults() {
	if p == nil {
		return
	}
	p.Spec.SetDefaults()
}

// SetDefaults sets timeouts.pipeline to DefaultTimeout when unset (leaving
// timeouts.tasks and timeouts.finally as they are), the service account to
// DefaultServiceAccountName when unset, and defaults an embedded
// pipelineSpec. Workspace bindings are left alone.
func (pr *PipelineRun) SetDefaults() {
	if pr == nil {
		return
	}
	if pr.Spec.Timeouts == nil {
		pr.Spec.Timeouts = &TimeoutFields{}
	}
	if pr.Spec.Timeouts.Pipeline == nil {
		pr.Spec.Timeouts.Pipeline = &metav1.Duration{Duration: DefaultTimeout}
	}
	if pr.Spec.TaskRunTemplate.ServiceAccountName == "" {
		pr.Spec.TaskRunTemplate.ServiceAccountName = DefaultServiceAccountName
	}
	pr.Spec.PipelineSpec.SetDefaults()
}

// SetDefaults sets the timeout to DefaultTimeout when unset, the service
// account to DefaultServiceAccountName when unset, and defaults an embedded
// taskSpec. Workspace bindings are left alone.
func (tr *TaskRun) SetDefaults() {
	if tr == nil {
		return
	}
	if tr.Spec.Timeout == nil {
		tr.Spec.Timeout = &metav1.Duration{Duration: DefaultTimeout}
	}
	if tr.Spec.ServiceAccountName == "" {
		tr.Spec.ServiceAccountName = DefaultServiceAccountName
	}
	tr.Spec.TaskSpec.SetDefaults()
}

func resultType(t ResultsType, props map[string]PropertySpec) ResultsType {
	switch {
	case t != "":
		return t
	case props != nil:
		return ParamTypeObject
	default:
		return ParamTypeString
	}
}

func defaultProperties(props map[string]PropertySpec) {
	for k, p := range props {
		if p.Type == "" {
			props[k] = PropertySpec{Type: ParamTypeString}
		}
	}
}
