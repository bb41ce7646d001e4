package cli

import (
	"context"
	"fmt"
	"io"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/runstore"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Where runs run.
const (
	onLocal = "local"
	onPod   = "pod"
)

// podOptions are the flags of `colo run --on pod`.
type podOptions struct {
	namespace  string
	kubeconfig string
	image      string
	keep       bool
}

// executeOnPod runs items one after another, each in one Pod, and returns
// the exit code as an error, as execute does.
func executeOnPod(ctx context.Context, streams IOStreams, k Kube, set *load.Set, root runstore.Root, items []*runItem, output string, po podOptions, opts engine.Options) error {
	pods, err := k.Pods(po.kubeconfig, po.namespace)
	if err != nil {
		return invalid(err)
	}
	it := newInterrupts(streams.ErrOut)
	defer it.stop()

	var outs []outcome
	for _, item := range items {
		if it.count() > 0 {
			break
		}
		outs = append(outs, executeOneOnPod(ctx, streams, pods, set, root, item, output, po, opts, it))
	}
	return finish(streams, output, outs, it)
}

// lineSink prints step lines as [task : step] line.
type lineSink struct {
	mu  sync.Mutex
	out io.Writer
}

func (s *lineSink) Line(task, step, line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.out, "[%s : %s] %s\n", task, step, line)
}

func (s *lineSink) Status(engine.Status) {}

func executeOneOnPod(ctx context.Context, streams IOStreams, pods Pods, set *load.Set, root runstore.Root, item *runItem, output string, po podOptions, opts engine.Options, it *interrupts) outcome {
	out := outcome{item: item}
	var obj metav1.Object = item.tr
	if item.pr != nil {
		obj = item.pr
	}
	run, err := root.Create(item.document())
	if err != nil {
		out.err = fmt.Errorf("%s %s: %w", item.kind(), item.name(), err)
		return out
	}
	defer run.Close()

	popts := PodRun{
		Image:  po.image,
		Engine: opts,
		Store:  run,
		Keep:   po.keep,
	}
	if output == outputText {
		fmt.Fprintf(streams.Out, "%s %s started (%s)\n", item.kind(), item.name(), run.Dir())
		popts.Sink = &lineSink{out: streams.Out}
		popts.Notify = func(msg string) { fmt.Fprintln(streams.Out, msg) }
	}
	cancel := make(chan v1.PipelineRunSpecStatus, 2)
	popts.Cancel = cancel
	it.attach(item.kind(), cancel)
	defer it.attach("", nil)

	err = pods.Run(ctx, obj, set, popts)
	out.doc = run.Document()
	if err != nil {
		out.err = fmt.Errorf("%s %s: %w", item.kind(), item.name(), err)
	}
	if output == outputText {
		reason := ""
		if c := out.doc.Condition(); c != nil {
			reason = c.Reason
		}
		fmt.Fprintf(streams.Out, "%s %s: %s\n", item.kind(), item.name(), reason)
	}
	return out
}
