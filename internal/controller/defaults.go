package controller

import (
	"context"
	"errors"
	"io"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/orchestrator"
	"github.com/colo-ci/colo/internal/podspec"
)

// NewPodCompiler returns the PodCompiler that compiles runs with package
// podspec: the Pod colo's orchestrator drives. opts.PodName is set for each
// run (PodName).
func NewPodCompiler(opts podspec.Options) PodCompiler {
	return PodCompilerFunc(func(ctx context.Context, run client.Object, set *load.Set) (*corev1.Pod, error) {
		o := opts
		o.PodName = PodName(run.GetName())
		o.Namespace = run.GetNamespace()
		return podspec.Compile(ctx, run, set, o)
	})
}

// NewPodLogReader returns the StatusReader that reads the frames colo's
// orchestrator writes to its log, through the API server.
func NewPodLogReader(cs kubernetes.Interface) *PodLogReader {
	return &PodLogReader{Client: cs, Container: podspec.OrchestratorContainer, Decode: decodeFrames}
}

// decodeFrames reads orchestrator status frames from a log, calling report
// with each whole one.
func decodeFrames(r io.Reader, report func(Report)) error {
	fr := orchestrator.NewReader(r)
	for {
		f, err := fr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		doc := f.Document
		report(Report{Document: &doc, Final: f.Kind == orchestrator.KindFinal, Seq: f.Seq})
	}
}
