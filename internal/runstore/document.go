package runstore

import (
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/engine"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Labels upstream puts on the TaskRuns of a PipelineRun.
const (
	LabelPipeline     = "tekton.dev/pipeline"
	LabelPipelineRun  = "tekton.dev/pipelineRun"
	LabelPipelineTask = "tekton.dev/pipelineTask"
	LabelMemberOf     = "tekton.dev/memberOf"
	LabelTask         = "tekton.dev/task"
	LabelTaskRun      = "tekton.dev/taskRun"

	// MemberOfTasks and MemberOfFinally are the values of LabelMemberOf.
	MemberOfTasks   = "tasks"
	MemberOfFinally = "finally"
)

// Document is what status.json holds: exactly one of PipelineRun and TaskRun,
// with its status. For a PipelineRun, TaskRuns lists the TaskRuns it created
// and PipelineRuns the child PipelineRuns its pipeline tasks started
// (pipelines in pipelines), parents before children.
type Document struct {
	PipelineRun  *v1.PipelineRun
	TaskRun      *v1.TaskRun
	TaskRuns     []v1.TaskRun
	PipelineRuns []v1.PipelineRun
}

// pipelineRunJSON is a PipelineRun object with the taskRuns and
// pipelineRuns fields beside.
type pipelineRunJSON struct {
	*v1.PipelineRun
	TaskRuns     []v1.TaskRun     `json:"taskRuns,omitempty"`
	PipelineRuns []v1.PipelineRun `json:"pipelineRuns,omitempty"`
}

// MarshalJSON implements json.Marshaler.
func (d Document) MarshalJSON() ([]byte, error) {
	switch {
	case d.PipelineRun != nil:
		return json.Marshal(pipelineRunJSON{PipelineRun: d.PipelineRun, TaskRuns: d.TaskRuns, PipelineRuns: d.PipelineRuns})
	case d.TaskRun != nil:
		return json.Marshal(d.TaskRun)
	}
	return nil, fmt.Errorf("empty run document")
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Document) UnmarshalJSON(data []byte) error {
	var tm metav1.TypeMeta
	if err := json.Unmarshal(data, &tm); err != nil {
		return err
	}
	switch tm.Kind {
	case v1.KindPipelineRun:
		doc := pipelineRunJSON{PipelineRun: &v1.PipelineRun{}}
		if err := json.Unmarshal(data, &doc); err != nil {
			return err
		}
		*d = Document{PipelineRun: doc.PipelineRun, TaskRuns: doc.TaskRuns, PipelineRuns: doc.PipelineRuns}
	case v1.KindTaskRun:
		tr := &v1.TaskRun{}
		if err := json.Unmarshal(data, tr); err != nil {
			return err
		}
		*d = Document{TaskRun: tr}
	default:
		return fmt.Errorf("run document of kind %q: want %s or %s", tm.Kind, v1.KindPipelineRun, v1.KindTaskRun)
	}
	return nil
}

// Kind is PipelineRun or TaskRun ("" for an empty document).
func (d *Document) Kind() string {
	switch {
	case d.PipelineRun != nil:
		return v1.KindPipelineRun
	case d.TaskRun != nil:
		return v1.KindTaskRun
	}
	return ""
}

// Meta is the run's metadata.
func (d *Document) Meta() *metav1.ObjectMeta {
	switch {
	case d.PipelineRun != nil:
		return &d.PipelineRun.ObjectMeta
	case d.TaskRun != nil:
		return &d.TaskRun.ObjectMeta
	}
	return &metav1.ObjectMeta{}
}

// Name is the run's name.
func (d *Document) Name() string { return d.Meta().Name }

// Condition is the run's Succeeded condition, or nil before it has one.
func (d *Document) Condition() *v1.Condition {
	switch {
	case d.PipelineRun != nil:
		return d.PipelineRun.Status.GetCondition()
	case d.TaskRun != nil:
		return d.TaskRun.Status.GetCondition()
	}
	return nil
}

// Times returns the run's start and completion times (zero when unset).
func (d *Document) Times() (start, completion time.Time) {
	var s, c *metav1.Time
	switch {
	case d.PipelineRun != nil:
		s, c = d.PipelineRun.Status.StartTime, d.PipelineRun.Status.CompletionTime
	case d.TaskRun != nil:
		s, c = d.TaskRun.Status.StartTime, d.TaskRun.Status.CompletionTime
	}
	if s != nil {
		start = s.Time
	}
	if c != nil {
		completion = c.Time
	}
	return start, completion
}

// AllTaskRuns returns the TaskRuns of the run: its TaskRuns for a
// PipelineRun, the run itself for a TaskRun.
func (d *Document) AllTaskRuns() []v1.TaskRun {
	if d.TaskRun != nil {
		return []v1.TaskRun{*d.TaskRun}
	}
	return d.TaskRuns
}

// TaskRunNamed returns the TaskRun of the given name.
func (d *Document) TaskRunNamed(name string) (*v1.TaskRun, bool) {
	trs := d.AllTaskRuns()
	for i := range trs {
		if trs[i].Name == name {
			return &trs[i], true
		}
	}
	return nil, false
}

// apply returns a copy of d with the engine's status s filled in. The
// copy takes the parts of s as they are: s is the caller's to give (the
// engine's Status returns a new one each time, whose resolved specs no one
// changes), and copying every status again on each write would cost more
// than the rest of a write.
func (d *Document) apply(s engine.Status) Document {
	switch {
	case d.PipelineRun != nil:
		var pr *v1.PipelineRun
		if s.PipelineRun != nil {
			// Copy the run without its old status, which is replaced.
			base := *d.PipelineRun
			base.Status = v1.PipelineRunStatus{}
			pr = base.DeepCopy()
			pr.Status = *s.PipelineRun
		} else {
			pr = d.PipelineRun.DeepCopy()
		}
		out := Document{PipelineRun: pr}
		for _, st := range s.TaskRuns {
			out.TaskRuns = append(out.TaskRuns, childTaskRun(pr, st))
		}
		for _, st := range s.PipelineRuns {
			out.PipelineRuns = append(out.PipelineRuns, childPipelineRun(pr, st))
		}
		return out
	case d.TaskRun != nil:
		base := *d.TaskRun
		switch {
		case s.TaskRun != nil:
			base.Status = *s.TaskRun
		case len(s.TaskRuns) == 1:
			base.Status = s.TaskRuns[0].Status
		default:
			base.Status = *deepCopyJSON(&d.TaskRun.Status)
		}
		status := base.Status
		base.Status = v1.TaskRunStatus{}
		tr := base.DeepCopy()
		tr.Status = status
		return Document{TaskRun: tr}
	}
	return Document{}
}

// childTaskRun builds the TaskRun object upstream would create for st.
func childTaskRun(pr *v1.PipelineRun, st engine.TaskRunState) v1.TaskRun {
	labels := map[string]string{}
	for k, v := range pr.Labels {
		labels[k] = v
	}
	pipeline := pr.Name
	if pr.Spec.PipelineRef != nil && pr.Spec.PipelineRef.Name != "" {
		pipeline = pr.Spec.PipelineRef.Name
	}
	labels[LabelPipeline] = pipeline
	labels[LabelPipelineRun] = pr.Name
	if st.PipelineTask != "" {
		labels[LabelPipelineTask] = st.PipelineTask
	}
	labels[LabelMemberOf] = MemberOfTasks
	if st.Finally {
		labels[LabelMemberOf] = MemberOfFinally
	}
	tr := v1.TaskRun{
		TypeMeta: metav1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.KindTaskRun},
		ObjectMeta: metav1.ObjectMeta{
			Name:      st.Name,
			Namespace: pr.Namespace,
			Labels:    labels,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: v1.APIVersion,
				Kind:       v1.KindPipelineRun,
				Name:       pr.Name,
				UID:        pr.UID,
			}},
		},
		Status: st.Status,
	}
	return tr
}

// childPipelineRun builds the PipelineRun object upstream would create for
// a pipeline task that runs a pipeline.
func childPipelineRun(top *v1.PipelineRun, st engine.PipelineRunState) v1.PipelineRun {
	labels := map[string]string{}
	for k, v := range top.Labels {
		labels[k] = v
	}
	parent := st.Parent
	if parent == "" {
		parent = top.Name
	}
	labels[LabelPipelineRun] = parent
	if st.PipelineTask != "" {
		labels[LabelPipelineTask] = st.PipelineTask
	}
	return v1.PipelineRun{
		TypeMeta: metav1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.KindPipelineRun},
		ObjectMeta: metav1.ObjectMeta{
			Name:      st.Name,
			Namespace: top.Namespace,
			Labels:    labels,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: v1.APIVersion,
				Kind:       v1.KindPipelineRun,
				Name:       parent,
			}},
		},
		Status: st.Status,
	}
}

// deepCopyJSON copies a value through JSON, the way the API types are
// written and read, so the document never shares memory with the engine.
func deepCopyJSON[T any](in *T) *T {
	out := new(T)
	b, err := json.Marshal(in)
	if err != nil {
		panic(fmt.Sprintf("copy %T: %v", in, err))
	}
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("copy %T: %v", in, err))
	}
	return out
}

// EngineStatus returns the document's status in the engine's shape, as the
// run last reported it: what a command that shows a finished (or running)
// run needs.
func (d *Document) EngineStatus() engine.Status {
	switch {
	case d.PipelineRun != nil:
		st := engine.Status{PipelineRun: deepCopyJSON(&d.PipelineRun.Status)}
		display := map[string]string{}
		for _, c := range d.PipelineRun.Status.ChildReferences {
			display[c.Name] = c.DisplayName
		}
		for _, tr := range d.TaskRuns {
			st.TaskRuns = append(st.TaskRuns, engine.TaskRunState{
				Name:         tr.Name,
				PipelineTask: tr.Labels[LabelPipelineTask],
				DisplayName:  display[tr.Name],
				Finally:      tr.Labels[LabelMemberOf] == MemberOfFinally,
				Status:       *deepCopyJSON(&tr.Status),
			})
		}
		for _, pr := range d.PipelineRuns {
			parent := ""
			if len(pr.OwnerReferences) > 0 {
				parent = pr.OwnerReferences[0].Name
			}
			st.PipelineRuns = append(st.PipelineRuns, engine.PipelineRunState{
				Name:         pr.Name,
				PipelineTask: pr.Labels[LabelPipelineTask],
				Parent:       parent,
				Status:       *deepCopyJSON(&pr.Status),
			})
		}
		return st
	case d.TaskRun != nil:
		s := deepCopyJSON(&d.TaskRun.Status)
		return engine.Status{
			TaskRun:  s,
			TaskRuns: []engine.TaskRunState{{Name: d.TaskRun.Name, Status: *deepCopyJSON(s)}},
		}
	}
	return engine.Status{}
}
