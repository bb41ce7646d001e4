package v1beta1_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

func TestStepActionSetDefaults(t *testing.T) {
	var sa v1beta1.StepAction
	in := `
spec:
  image: alpine
  params:
  - name: s
  - name: a
    default: [x]
  results:
  - name: r
  - name: o
    properties: {k: {}}`
	if err := yaml.Unmarshal([]byte(in), &sa); err != nil {
		t.Fatal(err)
	}
	sa.SetDefaults()
	got := []v1.ParamType{sa.Spec.Params[0].Type, sa.Spec.Params[1].Type, sa.Spec.Results[0].Type, sa.Spec.Results[1].Type, sa.Spec.Results[1].Properties["k"].Type}
	want := []v1.ParamType{v1.ParamTypeString, v1.ParamTypeArray, v1.ParamTypeString, v1.ParamTypeObject, v1.ParamTypeString}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("types (-want +got):\n%s", diff)
	}
}
