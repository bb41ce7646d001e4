package pod

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/colo-ci/colo/internal/controller"
	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/orchestrator"
	"github.com/colo-ci/colo/internal/podspec"
	"github.com/colo-ci/colo/internal/runstore"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Config is the API server of a kubeconfig (the default loading rules
// when kubeconfig is empty), with its context's namespace ("default" when
// it names none).
func Config(kubeconfig string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil || ns == "" {
		ns = metav1.NamespaceDefault
	}
	return cfg, ns, nil
}

// Client is the API server of a kubeconfig, as Config reads it, with the
// namespace runs go to: namespace when given, else the context's.
func Client(kubeconfig, namespace string) (kubernetes.Interface, string, error) {
	cfg, ns, err := Config(kubeconfig)
	if err != nil {
		return nil, "", err
	}
	// One run follows the log of every step container at once; client-go's
	// default of 5 requests a second would hold those followers back by
	// seconds. The API server's own priority and fairness still applies.
	cfg.QPS = -1
	if namespace != "" {
		ns = namespace
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("kubernetes client: %w", err)
	}
	return cs, ns, nil
}

// Sink receives what a run prints and how its status changes.
type Sink interface {
	// Line is one line a step printed. Task is the pipeline task's name
	// (the TaskRun's name for a standalone TaskRun); step is the step's
	// name as tkn shows it (without the "step-" prefix).
	Line(task, step, line string)
	// Status is called with every status the orchestrator reports.
	Status(engine.Status)
}

// Options configure one run.
type Options struct {
	// Client is the API server; Namespace the namespace the Pod and the
	// run's objects are created in.
	Client    kubernetes.Interface
	Namespace string
	// Image is colo's image, which the Pod's init and orchestrator
	// containers run.
	Image string
	// Engine configures the engine inside the Pod.
	Engine engine.Options
	// Remote are the options of registry lookups for steps that give no
	// command (nil: the default keychain).
	Remote []remote.Option
	// Store is the run directory: step logs and every status go there.
	Store *runstore.Run
	// Sink, when set, gets step lines and statuses as they come.
	Sink Sink
	// Notify, when set, is told what happens to the Pod ("pod NS/NAME
	// created").
	Notify func(msg string)
	// Cancel asks the run to stop: the first value is passed to the
	// orchestrator (CancelledRunFinally or Cancelled, as spec.status would
	// be); a second deletes the Pod at once.
	Cancel <-chan v1.PipelineRunSpecStatus
	// Keep leaves the Pod (and its objects) in place when the run ends.
	Keep bool
}

// Run runs obj (a *v1.PipelineRun or *v1.TaskRun, resolved against set) in
// one Pod and returns its final status document. The returned error says
// why there is no final status: the Pod could not be made, or the
// orchestrator's log ended without one.
func Run(ctx context.Context, obj metav1.Object, set *load.Set, opts Options) (runstore.Document, error) {
	if opts.Client == nil || opts.Store == nil {
		return runstore.Document{}, errors.New("pod: a Client and a Store are required")
	}
	sink := opts.Sink
	if sink == nil {
		sink = discard{}
	}
	notify := opts.Notify
	if notify == nil {
		notify = func(string) {}
	}
	cs, ns, run := opts.Client, opts.Namespace, opts.Store
	obj.SetNamespace(ns)
	pod, err := podspec.Compile(ctx, obj, set, podspec.Options{Image: opts.Image, Namespace: ns, Engine: opts.Engine, Remote: opts.Remote})
	if err != nil {
		return runstore.Document{}, err
	}
	bundle, err := podspec.BundleOf(pod)
	if err != nil {
		return runstore.Document{}, err
	}
	addCancelVolume(pod)

	pods := cs.CoreV1().Pods(ns)
	created, err := createPod(ctx, pods, pod)
	if err != nil {
		return runstore.Document{}, fmt.Errorf("create pod: %w", err)
	}
	notify(fmt.Sprintf("pod %s/%s created", ns, created.Name))
	// The run's objects belong to the Pod: deleting it deletes them.
	if err := createObjects(ctx, cs, ns, set, created); err != nil {
		_ = deletePod(cs, ns, created.Name)
		return runstore.Document{}, err
	}

	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()

	// The first cancel request reaches the orchestrator through the Pod's
	// annotation; the second deletes the Pod.
	go func() {
		n := 0
		for {
			select {
			case <-bg.Done():
				return
			case mode := <-opts.Cancel:
				n++
				if n == 1 {
					patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{controller.AnnotationSpecStatus: string(mode)}}})
					if _, err := pods.Patch(bg, created.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
						notify(fmt.Sprintf("asking the pod to stop: %v", err))
					}
					continue
				}
				_ = deletePod(cs, ns, created.Name)
				stopBG()
				return
			}
		}
	}()

	// A container that can never start (an image that cannot be pulled)
	// would keep the Pod, and this run, waiting for ever: end both.
	var stuck error
	stuckDone := make(chan struct{})
	go func() {
		defer close(stuckDone)
		stuck = watchStart(bg, pods, created.Name)
		if stuck != nil {
			_ = deletePod(cs, ns, created.Name)
			stopBG()
		}
	}()

	var wg sync.WaitGroup
	finish := make(chan struct{})
	for _, tl := range bundle.Layout.Tasks {
		task := tl.PipelineTask
		if task == "" {
			task = tl.TaskRun
		}
		for _, cl := range tl.Steps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				followStep(bg, finish, cs, ns, created.Name, run, sink, task, tl.TaskRun, cl)
			}()
		}
	}

	doc, ferr := followStatus(bg, cs, ns, created.Name, bundle.Layout.Orchestrator, run, sink)
	if ferr == nil {
		close(finish)
	}
	logsDone := make(chan struct{})
	go func() { wg.Wait(); close(logsDone) }()
	select {
	case <-logsDone:
	case <-time.After(30 * time.Second):
	case <-bg.Done():
	}
	stopBG()
	<-stuckDone
	if stuck != nil {
		return runstore.Document{}, stuck
	}

	if ferr == nil {
		ferr = run.WriteStatus(doc.EngineStatus())
	}
	if !opts.Keep {
		if err := deletePod(cs, ns, created.Name); err != nil && ferr == nil {
			ferr = err
		}
	} else {
		notify(fmt.Sprintf("pod %s/%s kept", ns, created.Name))
	}
	if ferr != nil {
		return runstore.Document{}, ferr
	}
	return doc, nil
}

// watchStart looks at the Pod every second until ctx ends and returns why
// one of its containers can never start, if one cannot (see
// podspec.CannotStart).
func watchStart(ctx context.Context, pods typedcorev1.PodInterface, name string) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		p, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			continue
		}
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			return nil
		}
		if w, container, image := podspec.CannotStart(p); w != nil {
			what := fmt.Sprintf("cannot pull the image %q of container %q", image, container)
			if w.Reason == "CreateContainerConfigError" {
				what = fmt.Sprintf("cannot start container %q", container)
			}
			return fmt.Errorf("pod %s %s: %s: %s", name, what, w.Reason, w.Message)
		}
	}
}

type discard struct{}

func (discard) Line(string, string, string) {}
func (discard) Status(engine.Status)        {}

// addCancelVolume projects the annotation controller.AnnotationSpecStatus
// into the orchestrator's container, where it reads cancel requests.
func addCancelVolume(pod *corev1.Pod) {
	const name = "colo-downward"
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
		Name: name,
		VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
			Items: []corev1.DownwardAPIVolumeFile{{
				Path:     controller.DownwardCancelFile,
				FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['" + controller.AnnotationSpecStatus + "']"},
			}},
		}},
	})
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if c.Name == podspec.OrchestratorContainer {
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: controller.DownwardDir, ReadOnly: true})
		}
	}
}

// createObjects creates the Secrets, ConfigMaps and PVCs of set in ns,
// owned by pod. Objects that exist already are left as they are.
func createObjects(ctx context.Context, cs kubernetes.Interface, ns string, set *load.Set, pod *corev1.Pod) error {
	owner := []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}}
	meta := func(m metav1.ObjectMeta) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: m.Name, Namespace: ns, Labels: m.Labels, Annotations: m.Annotations, OwnerReferences: owner}
	}
	check := func(what, name string, err error) error {
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %s %s: %w", what, name, err)
		}
		return nil
	}
	for _, s := range set.Secrets {
		o := s.DeepCopy()
		o.ObjectMeta = meta(s.ObjectMeta)
		_, err := cs.CoreV1().Secrets(ns).Create(ctx, o, metav1.CreateOptions{})
		if err := check("Secret", o.Name, err); err != nil {
			return err
		}
	}
	for _, c := range set.ConfigMaps {
		o := c.DeepCopy()
		o.ObjectMeta = meta(c.ObjectMeta)
		_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, o, metav1.CreateOptions{})
		if err := check("ConfigMap", o.Name, err); err != nil {
			return err
		}
	}
	for _, p := range set.PVCs {
		o := p.DeepCopy()
		o.ObjectMeta = meta(p.ObjectMeta)
		o.Status = corev1.PersistentVolumeClaimStatus{}
		_, err := cs.CoreV1().PersistentVolumeClaims(ns).Create(ctx, o, metav1.CreateOptions{})
		if err := check("PersistentVolumeClaim", o.Name, err); err != nil {
			return err
		}
	}
	return nil
}

// deletePod deletes the Pod and, through their owner references, the
// objects made for it.
func deletePod(cs kubernetes.Interface, ns, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bg := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &bg}
	// A Pod whose containers have all ended has nothing left to stop: remove
	// it at once, so that the same run can be started again right away.
	if p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{}); err == nil &&
		(p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed) {
		opts.GracePeriodSeconds = new(int64)
	}
	err := cs.CoreV1().Pods(ns).Delete(ctx, name, opts)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete pod %s: %w", name, err)
	}
	return nil
}

// createPod creates pod. A Pod of the same name that is still being deleted
// (an earlier run of the same name) is waited for, up to a minute; one that
// is not is an error that says so.
func createPod(ctx context.Context, pods typedcorev1.PodInterface, pod *corev1.Pod) (*corev1.Pod, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		created, err := pods.Create(ctx, pod, metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			return created, err
		}
		old, gerr := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(gerr):
			continue
		case gerr != nil:
			return nil, gerr
		case old.DeletionTimestamp == nil:
			return nil, fmt.Errorf("pod %s already exists: an earlier run of the same name is still there (delete it, or rename the run)", pod.Name)
		case time.Now().After(deadline):
			return nil, fmt.Errorf("pod %s of an earlier run of the same name is still being deleted", pod.Name)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// openLog opens the followed log of a container, waiting for it to start.
// It returns nil when ctx ends or the Pod is gone first.
func openLog(ctx context.Context, cs kubernetes.Interface, ns, pod, container string) io.ReadCloser {
	for {
		rc, err := cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, Follow: true}).Stream(ctx)
		if err == nil {
			return rc
		}
		if apierrors.IsNotFound(err) {
			// Also before the Pod is scheduled: only a Pod that is gone ends
			// the wait.
			if _, gerr := cs.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{}); apierrors.IsNotFound(gerr) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// followStep copies one step container's log to the run's log file and to
// sink, line by line, until the container ends or finish is closed. A
// stream that ends before the container did is opened again, skipping the
// lines already read; the last read starts after the container was seen
// terminated. finish is closed once the orchestrator reported the run's
// end: a step reports its end only after its output is written, so the
// container's log then holds every line, and one more read of it, without
// following, ends the copy at once instead of waiting until the kubelet
// reports the container terminated.
func followStep(ctx context.Context, finish <-chan struct{}, cs kubernetes.Interface, ns, pod string, run *runstore.Run, sink interface{ Line(string, string, string) }, task, taskRun string, cl podspec.ContainerLayout) {
	var w io.WriteCloser
	defer func() {
		if w != nil {
			w.Close()
		}
	}()
	step := strings.TrimPrefix(cl.Name, "step-")
	seen := 0
	copyLines := func(rc io.Reader) {
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		n := 0
		for sc.Scan() {
			n++
			if n <= seen {
				continue
			}
			seen = n
			if w == nil {
				if f, err := run.StepLog(taskRun, 0, cl.Name); err == nil {
					w = f
				}
			}
			if w != nil {
				fmt.Fprintf(w, "%s\n", sc.Text())
			}
			sink.Line(task, step, sc.Text())
		}
	}
	readWhole := func() {
		rc, err := cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: cl.Container}).Stream(ctx)
		if err != nil {
			return
		}
		defer rc.Close()
		copyLines(rc)
	}
	for {
		ended := containerEnded(ctx, cs, ns, pod, cl.Container)
		follow, stopFollow := context.WithCancel(ctx)
		go func() {
			select {
			case <-finish:
				stopFollow()
			case <-follow.Done():
			}
		}()
		rc := openLog(follow, cs, ns, pod, cl.Container)
		if rc != nil {
			copyLines(rc)
			rc.Close()
		}
		stopFollow()
		select {
		case <-finish:
			readWhole()
			return
		default:
		}
		if rc == nil || ended {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-finish:
			readWhole()
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// containerEnded reports whether the container has terminated, or the Pod
// is gone.
func containerEnded(ctx context.Context, cs kubernetes.Interface, ns, pod, container string) bool {
	p, err := cs.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return apierrors.IsNotFound(err) || ctx.Err() != nil
	}
	for _, st := range p.Status.ContainerStatuses {
		if st.Name == container {
			return st.State.Terminated != nil
		}
	}
	return false
}

// followStatus reads the orchestrator's status frames, writing each to
// run, until the final one.
func followStatus(ctx context.Context, cs kubernetes.Interface, ns, pod, container string, run *runstore.Run, sink interface{ Status(engine.Status) }) (runstore.Document, error) {
	var last error = orchestrator.ErrNoStatus
	for {
		rc := openLog(ctx, cs, ns, pod, container)
		if rc == nil {
			return runstore.Document{}, fmt.Errorf("pod %s: %w", pod, last)
		}
		r := orchestrator.NewReader(rc)
		for {
			f, err := r.Next()
			if err != nil {
				last = fmt.Errorf("orchestrator log: %w (%w)", err, orchestrator.ErrNoStatus)
				break
			}
			st := f.Document.EngineStatus()
			sink.Status(st)
			if f.Kind == orchestrator.KindFinal {
				rc.Close()
				return f.Document, nil
			}
			if err := run.WriteStatus(st); err != nil {
				rc.Close()
				return runstore.Document{}, err
			}
		}
		rc.Close()
		// The stream ended without a final frame: the container ended, or
		// the connection broke. Look again unless the Pod is gone or done.
		p, err := cs.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
		if err != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			// A finished Pod's log is whole: read it once more.
			if err == nil {
				if doc, rerr := readFinal(ctx, cs, ns, pod, container); rerr == nil {
					return doc, nil
				}
			}
			return runstore.Document{}, fmt.Errorf("pod %s: %w", pod, last)
		}
		select {
		case <-ctx.Done():
			return runstore.Document{}, fmt.Errorf("pod %s: %w", pod, last)
		case <-time.After(time.Second):
		}
	}
}

// readFinal reads the final status from a finished container's whole log.
func readFinal(ctx context.Context, cs kubernetes.Interface, ns, pod, container string) (runstore.Document, error) {
	rc, err := cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container}).Stream(ctx)
	if err != nil {
		return runstore.Document{}, err
	}
	defer rc.Close()
	return orchestrator.ReadStatus(rc)
}
