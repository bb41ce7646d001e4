package controller

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/colo-ci/colo/internal/runstore"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// syncTaskRuns makes the API hold a TaskRun for each TaskRun the
// PipelineRun's report lists, with its status, as upstream's controller
// does: `kubectl get taskruns`, tkn and the Dashboard find a run's tasks
// there. These TaskRuns only show status. Each is controlled by the
// PipelineRun (deleted with it, and never claimed as a run of its own),
// and says spec.managedBy: colo.dev/pod, so Tekton leaves it alone too;
// its spec holds the task as it ran.
func (r *Reconciler) syncTaskRuns(ctx context.Context, pr *v1.PipelineRun, doc *runstore.Document) error {
	for i := range doc.TaskRuns {
		want := &doc.TaskRuns[i]
		got := &v1.TaskRun{}
		err := r.client.Get(ctx, client.ObjectKey{Namespace: pr.Namespace, Name: want.Name}, got)
		switch {
		case apierrors.IsNotFound(err):
			got, err = r.createTaskRun(ctx, pr, want)
			if err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if !metav1.IsControlledBy(got, pr) {
			// A TaskRun of that name that is not this run's: leave it.
			continue
		}
		if jsonOf(got.Status) == jsonOf(want.Status) {
			continue
		}
		orig := got.DeepCopy()
		got.Status = *copyJSON(&want.Status)
		// As for the run itself, the lock turns a patch computed from a
		// stale TaskRun into a conflict, and a retry.
		if err := r.client.Status().Patch(ctx, got, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
			return fmt.Errorf("updating the status of TaskRun %s: %w", got.Name, err)
		}
	}
	return nil
}

// createTaskRun creates the TaskRun that shows one of pr's tasks.
func (r *Reconciler) createTaskRun(ctx context.Context, pr *v1.PipelineRun, want *v1.TaskRun) (*v1.TaskRun, error) {
	managedBy := ManagedBy
	tr := &v1.TaskRun{
		ObjectMeta: metav1.ObjectMeta{
			Name:        want.Name,
			Namespace:   pr.Namespace,
			Labels:      map[string]string{},
			Annotations: want.Annotations,
		},
		Spec: v1.TaskRunSpec{
			ManagedBy:          &managedBy,
			TaskSpec:           want.Status.TaskSpec,
			ServiceAccountName: pr.Spec.TaskRunTemplate.ServiceAccountName,
		},
	}
	for k, v := range want.Labels {
		tr.Labels[k] = v
	}
	tr.Labels[LabelManagedBy] = ManagedByValue
	if tr.Spec.TaskSpec == nil {
		// Upstream's webhook wants a task; the status tells the rest.
		tr.Spec.TaskSpec = &v1.TaskSpec{}
	}
	if err := controllerutil.SetControllerReference(pr, tr, r.scheme); err != nil {
		return nil, err
	}
	if err := r.client.Create(ctx, tr); err != nil {
		if apierrors.IsAlreadyExists(err) {
			// Made by an earlier reconcile the cache has not seen yet.
			got := &v1.TaskRun{}
			if err := r.apiReader.Get(ctx, client.ObjectKeyFromObject(tr), got); err != nil {
				return nil, err
			}
			return got, nil
		}
		return nil, fmt.Errorf("creating TaskRun %s: %w", tr.Name, err)
	}
	return tr, nil
}

// jsonOf is v as JSON, to compare.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
