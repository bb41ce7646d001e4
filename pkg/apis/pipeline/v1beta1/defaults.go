package v1beta1

// SetDefaults fills in the types of the StepAction's params and results the
// way a Task's are defaulted.
func (s *StepAction) SetDefaults() {
	if s == nil {
		return
	}
	s.Spec.Params.SetDefaults()
	for i := range s.Spec.Results {
		s.Spec.Results[i].SetDefaults()
	}
}
