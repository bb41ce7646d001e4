package cluster

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/colo-ci/colo/internal/conformance"
	"github.com/colo-ci/colo/internal/controller"
	"github.com/colo-ci/colo/internal/executor/pod"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/runstore"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// Config is the Kubernetes cluster of the Pod and Controller modes.
type Config struct {
	// Config is the API server.
	Config *rest.Config
	// Image is colo's image, which the Pods of the Pod mode run (the
	// compiler's default when empty). The Controller mode uses whatever
	// image the installed controller was given.
	Image string
	// Remote are the options of registry lookups for steps that give no
	// command (Pod mode; nil: the default keychain).
	Remote []remote.Option
	// HostPathDir, when set, is a directory on the cluster's node under
	// which the runner provisions each PersistentVolumeClaim a file
	// declares as a hostPath PersistentVolume bound to it: for clusters
	// that have no provisioner. The volumes are deleted with the file's
	// namespace; their directories are left for the caller to remove.
	HostPathDir string
}

// Cluster is the conformance.Cluster of a Config: its API clients, made
// once for every file of a conformance run.
type Cluster struct {
	cfg    Config
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

var _ conformance.Cluster = (*Cluster)(nil)

// New makes the clients of the cluster cfg names.
func New(cfg Config) (*Cluster, error) {
	if cfg.Config == nil {
		return nil, errors.New("conformance: no cluster to run on")
	}
	rc := rest.CopyConfig(cfg.Config)
	// Each Pod run follows every step's log at once.
	rc.QPS = -1
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	return &Cluster{
		cfg:    cfg,
		cs:     cs,
		dyn:    dyn,
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
	}, nil
}

// namespace creates a namespace for one file, provisions its claims when
// the cluster asks for that, and returns a function that deletes both.
func (c *Cluster) namespace(ctx context.Context, set *load.Set) (string, func(), error) {
	ns, err := c.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "conformance-", Labels: map[string]string{"colo.dev/conformance": "true"}},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", nil, fmt.Errorf("create namespace: %w", err)
	}
	name := ns.Name
	var volumes []string
	cleanup := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		bg := metav1.DeletePropagationBackground
		_ = c.cs.CoreV1().Namespaces().Delete(dctx, name, metav1.DeleteOptions{PropagationPolicy: &bg})
		for _, pv := range volumes {
			_ = c.cs.CoreV1().PersistentVolumes().Delete(dctx, pv, metav1.DeleteOptions{})
		}
	}
	// Pods cannot be created before the namespace's default ServiceAccount
	// exists; the controller manager creates it shortly after.
	for {
		_, err := c.cs.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsNotFound(err) {
			cleanup()
			return "", nil, fmt.Errorf("namespace %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			cleanup()
			return "", nil, fmt.Errorf("namespace %s: no default ServiceAccount: %w", name, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	if dir := c.cfg.HostPathDir; dir != "" {
		for _, claim := range set.PVCs {
			pv := hostPathVolume(name, claim, filepath.Join(dir, name, claim.Name))
			if _, err := c.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
				cleanup()
				return "", nil, fmt.Errorf("provision a volume for claim %s: %w", claim.Name, err)
			}
			volumes = append(volumes, pv.Name)
		}
	}
	return name, cleanup, nil
}

// hostPathVolume is a PersistentVolume at path, reserved for claim in ns.
func hostPathVolume(ns string, claim *corev1.PersistentVolumeClaim, path string) *corev1.PersistentVolume {
	size, ok := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		size = resource.MustParse("1Gi")
	}
	modes := claim.Spec.AccessModes
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	class := ""
	if claim.Spec.StorageClassName != nil {
		class = *claim.Spec.StorageClassName
	}
	dirOrCreate := corev1.HostPathDirectoryOrCreate
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + claim.Name, Labels: map[string]string{"colo.dev/conformance": "true"}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   modes,
			VolumeMode:                    claim.Spec.VolumeMode,
			StorageClassName:              class,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: ns, Name: claim.Name},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: path, Type: &dirOrCreate},
			},
		},
	}
}

// RunPods implements conformance.Cluster: each run in one Pod, one after
// another, in the file's namespace.
func (c *Cluster) RunPods(ctx context.Context, set *load.Set, runs []conformance.FileRun, store runstore.Root) []conformance.Failure {
	ns, cleanup, err := c.namespace(ctx, set)
	if err != nil {
		return []conformance.Failure{{Reason: "error", Message: err.Error()}}
	}
	defer cleanup()
	var failures []conformance.Failure
	for _, r := range runs {
		name := r.Name()
		doc := runstore.Document{PipelineRun: r.PipelineRun, TaskRun: r.TaskRun}
		run, err := store.Create(doc)
		if err != nil {
			failures = append(failures, conformance.Failure{Run: name, Reason: "error", Message: err.Error()})
			continue
		}
		var obj metav1.Object = r.TaskRun
		if r.PipelineRun != nil {
			obj = r.PipelineRun
		}
		final, err := pod.Run(ctx, obj, set, pod.Options{
			Client:    c.cs,
			Namespace: ns,
			Image:     c.cfg.Image,
			Remote:    c.cfg.Remote,
			Store:     run,
		})
		run.Close()
		if err != nil {
			failures = append(failures, conformance.Failure{Run: name, Reason: "error", Message: err.Error()})
			continue
		}
		if f := conformance.Failed(name, final.EngineStatus()); f != nil {
			failures = append(failures, *f)
		}
	}
	return failures
}

// RunObjects implements conformance.Cluster: it creates the file's objects
// in its namespace (the runs with spec.managedBy naming colo's
// controller), and waits for every run to end.
func (c *Cluster) RunObjects(ctx context.Context, set *load.Set, objs []*unstructured.Unstructured) []conformance.Failure {
	ns, cleanup, err := c.namespace(ctx, set)
	if err != nil {
		return []conformance.Failure{{Reason: "error", Message: err.Error()}}
	}
	defer cleanup()

	type created struct {
		gvr  schema.GroupVersionResource
		kind string
		name string
	}
	var runs []created
	// Everything a run refers to first, then the runs.
	for _, pass := range []bool{false, true} {
		for _, u := range objs {
			gvk := u.GroupVersionKind()
			isRun := gvk.Group == v1.GroupName && (gvk.Kind == v1.KindPipelineRun || gvk.Kind == v1.KindTaskRun)
			if isRun != pass {
				continue
			}
			m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				return []conformance.Failure{{Reason: "error", Message: fmt.Sprintf("%s %s: %v", gvk.Kind, objName(u), err)}}
			}
			u = u.DeepCopy()
			ri := c.dyn.Resource(m.Resource)
			var res dynamic.ResourceInterface = ri
			if m.Scope.Name() == meta.RESTScopeNameNamespace {
				u.SetNamespace(ns)
				res = ri.Namespace(ns)
			}
			if isRun {
				if err := unstructured.SetNestedField(u.Object, controller.ManagedBy, "spec", "managedBy"); err != nil {
					return []conformance.Failure{{Reason: "error", Message: err.Error()}}
				}
			}
			got, err := res.Create(ctx, u, metav1.CreateOptions{})
			if err != nil {
				return []conformance.Failure{{Reason: "error", Message: fmt.Sprintf("create %s %s: %v", gvk.Kind, objName(u), err)}}
			}
			if isRun {
				runs = append(runs, created{m.Resource, gvk.Kind, got.GetName()})
			}
		}
	}
	if len(runs) == 0 {
		return []conformance.Failure{{Reason: "invalid", Message: "no PipelineRun or TaskRun in the file"}}
	}

	var failures []conformance.Failure
	for _, r := range runs {
		name := fmt.Sprintf("%s %q", r.kind, r.name)
		res := c.dyn.Resource(r.gvr).Namespace(ns)
		var last *condition
		for {
			u, err := res.Get(ctx, r.name, metav1.GetOptions{})
			if err == nil {
				last = succeededCondition(u)
				if last != nil && last.status != string(corev1.ConditionUnknown) {
					break
				}
			}
			if ctx.Err() != nil {
				msg := "the run did not finish"
				if last != nil {
					msg += fmt.Sprintf(": %s: %s", last.reason, last.message)
				}
				failures = append(failures, conformance.Failure{Run: name, Reason: "Timeout", Message: msg})
				last = nil
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
		if last == nil || last.status == string(corev1.ConditionTrue) {
			continue
		}
		msg := last.message
		if r.kind == v1.KindPipelineRun {
			msg += c.failedTask(ctx, ns, r.name)
		}
		failures = append(failures, conformance.Failure{Run: name, Reason: last.reason, Message: msg})
	}
	return failures
}

// failedTask describes the first failed TaskRun of a PipelineRun, for the
// failure's message.
func (c *Cluster) failedTask(ctx context.Context, ns, pipelineRun string) string {
	gvr := v1.GroupVersion().WithResource("taskruns")
	list, err := c.dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: "tekton.dev/pipelineRun=" + pipelineRun})
	if err != nil {
		return ""
	}
	for i := range list.Items {
		tr := &list.Items[i]
		if cond := succeededCondition(tr); cond != nil && cond.status == string(corev1.ConditionFalse) {
			task := tr.GetLabels()["tekton.dev/pipelineTask"]
			return fmt.Sprintf("; task %q: %s: %s", task, cond.reason, cond.message)
		}
	}
	return ""
}

type condition struct{ status, reason, message string }

// succeededCondition is the Succeeded condition of a run, or nil.
func succeededCondition(u *unstructured.Unstructured) *condition {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Succeeded" {
			continue
		}
		str := func(k string) string { s, _ := m[k].(string); return s }
		return &condition{status: str("status"), reason: str("reason"), message: str("message")}
	}
	return nil
}

func objName(u *unstructured.Unstructured) string {
	if n := u.GetName(); n != "" {
		return n
	}
	return u.GetGenerateName() + "*"
}
