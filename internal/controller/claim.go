package controller

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/colo-ci/colo/internal/podspec"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// ManagedBy is the spec.managedBy value of the runs colo's controller runs.
const ManagedBy = podspec.RunManagedBy

// Claimed reports whether obj is a run this controller runs: a PipelineRun
// or TaskRun whose spec.managedBy is ManagedBy. A TaskRun that a
// PipelineRun controls is not: colo writes such TaskRuns itself, to show
// the status of a PipelineRun's tasks, and they run in their PipelineRun's
// Pod.
func Claimed(obj client.Object) bool {
	switch o := obj.(type) {
	case *v1.PipelineRun:
		return o.Spec.ManagedBy != nil && *o.Spec.ManagedBy == ManagedBy
	case *v1.TaskRun:
		if o.Spec.ManagedBy == nil || *o.Spec.ManagedBy != ManagedBy {
			return false
		}
		if ref := metav1.GetControllerOf(o); ref != nil && ref.Kind == v1.KindPipelineRun {
			return false
		}
		return true
	}
	return false
}

// claimedPredicate lets only claimed runs through to the queue.
func claimedPredicate() predicate.Predicate {
	return predicate.NewPredicateFuncs(Claimed)
}
