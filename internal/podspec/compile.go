package podspec

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/colo-ci/colo/internal/control"
	"github.com/colo-ci/colo/internal/engine"
	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/subst"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
	"github.com/colo-ci/colo/pkg/apis/pipeline/v1beta1"
)

// Defaults of Options.
const (
	// DefaultImage is colo's own image, run by the init container and the
	// orchestrator.
	DefaultImage = "ghcr.io/colo-ci/colo:latest"
	// DefaultImagePath is where the colo binary is in DefaultImage.
	DefaultImagePath = "/usr/local/bin/colo"
	// RunManagedBy is the spec.managedBy value of the runs colo's
	// controller runs, each in one Pod compiled here.
	RunManagedBy = "colo.dev/pod"
)

// Names of colo's own containers and volumes in a compiled Pod.
const (
	InitContainer         = "colo-init"
	OrchestratorContainer = "colo-orchestrator"
	binVolume             = "colo-bin"
	stateVolume           = "colo-state"
	noTokenVolume         = "colo-no-token"
)

// serviceAccountTokenDir is where Kubernetes mounts a service account's
// token; a container that already mounts something there gets none.
const serviceAccountTokenDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// Labels on a compiled Pod.
const (
	LabelManagedBy   = "app.kubernetes.io/managed-by"
	ManagedBy        = "colo"
	LabelPipelineRun = "tekton.dev/pipelineRun"
	LabelTaskRun     = "tekton.dev/taskRun"
)

// Options configure Compile.
type Options struct {
	// Image is colo's image (default DefaultImage) and ImagePath the colo
	// binary in it (default DefaultImagePath).
	Image     string
	ImagePath string
	// PodName names the Pod (default "<run>-pod"); Namespace defaults to
	// the run's.
	PodName   string
	Namespace string
	// PodLevelResources puts the run's peak CPU and memory request in the
	// Pod's spec.resources (Kubernetes' PodLevelResources feature, which
	// the cluster must enable) instead of on the orchestrator container.
	PodLevelResources bool
	// Engine are the engine's limits the orchestrator runs with: result
	// sizes, default timeout, matrix size.
	Engine engine.Options
	// Remote are the options of registry lookups, for steps that give no
	// command (authentication, transport). Nil: the default keychain.
	Remote []remote.Option
}

func (o Options) withDefaults() Options {
	if o.Image == "" {
		o.Image = DefaultImage
	}
	if o.ImagePath == "" {
		o.ImagePath = DefaultImagePath
	}
	return o
}

// Error is a run that cannot run in one Pod, with every reason, each
// naming the field (from the run object) that causes it.
type Error struct {
	Kind, Name string
	Errs       field.ErrorList
}

func (e *Error) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return fmt.Sprintf("%s %q cannot run in one Pod: %s", e.Kind, e.Name, strings.Join(msgs, "; "))
}

// Unwrap returns the individual problems.
func (e *Error) Unwrap() []error {
	out := make([]error, len(e.Errs))
	for i, err := range e.Errs {
		out[i] = err
	}
	return out
}

// Compile turns a PipelineRun or TaskRun (run, a *v1.PipelineRun or
// *v1.TaskRun whose references set resolves) into one Pod that runs it
// whole. Nothing is created: the caller creates the Pod and reads the
// run's status from its orchestrator's log (see package orchestrator). A
// run the engine rejects returns the engine's error; a run that cannot run
// in one Pod returns an *Error.
func Compile(ctx context.Context, run metav1.Object, set *load.Set, opts Options) (*corev1.Pod, error) {
	opts = opts.withDefaults()
	var p *plan
	var obj any
	switch r := run.(type) {
	case *v1.PipelineRun:
		if _, err := engine.NewPipelineRun(r, set, opts.Engine); err != nil {
			return nil, fmt.Errorf("PipelineRun %q: %w", r.Name, err)
		}
		p = planPipelineRun(r, set, opts.Engine)
		obj = r
	case *v1.TaskRun:
		if _, err := engine.NewTaskRun(r, set, opts.Engine); err != nil {
			return nil, fmt.Errorf("TaskRun %q: %w", r.Name, err)
		}
		p = planTaskRun(r, set, opts.Engine)
		obj = r
	default:
		return nil, fmt.Errorf("compile: %T is neither a PipelineRun nor a TaskRun", run)
	}
	if p.name == "" {
		p.errs = append(p.errs, field.Required(field.NewPath("metadata", "name"), "the run needs a name before it is compiled: its TaskRuns and containers are named after it"))
	}
	if len(p.errs) > 0 {
		return nil, &Error{Kind: p.kind, Name: p.name, Errs: p.errs}
	}
	c := &compiler{
		opts:  opts,
		p:     p,
		names: newNamer(InitContainer, OrchestratorContainer, binVolume, stateVolume, noTokenVolume),
		ep:    newEntrypoints(opts.Remote),
		wsVol: map[string]string{},
	}
	pod := c.build(ctx)
	if len(c.errs) > 0 {
		return nil, &Error{Kind: p.kind, Name: p.name, Errs: c.errs}
	}
	objects, err := bundleObjects(obj, p, set)
	if err != nil {
		return nil, err
	}
	b := Bundle{Version: BundleVersion, Objects: objects, Engine: opts.Engine, Layout: c.layout}
	enc, err := b.Encode()
	if err != nil {
		return nil, err
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == OrchestratorContainer {
			pod.Spec.Containers[i].Env = append(pod.Spec.Containers[i].Env, corev1.EnvVar{Name: BundleEnv, Value: enc})
		}
	}
	return pod, nil
}

// subPathDirs makes the init container create, before any other container
// starts, every directory that a container mounts by subPath from an
// emptyDir: the kubelet creates a missing subPath directory while it
// starts containers one after another, and it fails the container when
// the directory appears meanwhile (made by the orchestrator or a step
// already running). It mounts those volumes into init and returns the
// arguments for it.
func (c *compiler) subPathDirs(init *corev1.Container, ctrs []corev1.Container) []string {
	empty := map[string]bool{}
	for _, v := range c.volumes {
		if v.EmptyDir != nil {
			empty[v.Name] = true
		}
	}
	mounted := map[string]bool{}
	seen := map[string]bool{}
	var args []string
	for _, ctr := range ctrs {
		for _, m := range ctr.VolumeMounts {
			if m.SubPath == "" || !empty[m.Name] {
				continue
			}
			root := path.Join(control.TasksDir, m.Name)
			if !mounted[m.Name] {
				mounted[m.Name] = true
				init.VolumeMounts = append(init.VolumeMounts, corev1.VolumeMount{Name: m.Name, MountPath: root})
			}
			dir := path.Join(root, m.SubPath)
			if !seen[dir] {
				seen[dir] = true
				args = append(args, "--mkdir", dir)
			}
		}
	}
	return args
}

// compiler builds one Pod.
type compiler struct {
	opts   Options
	p      *plan
	names  *namer
	ep     *entrypoints
	errs   field.ErrorList
	layout Layout

	volumes []corev1.Volume
	// wsVol maps a run workspace to its Pod volume, made when first used.
	wsVol map[string]string
}

func (c *compiler) build(ctx context.Context) *corev1.Pod {
	p := c.p
	c.layout = Layout{Kind: p.kind, Name: p.name, Orchestrator: OrchestratorContainer}
	sa, tmpl := c.podWide()

	var containers []corev1.Container
	var weights []map[corev1.ResourceName]int64
	var taskVols []string
	for _, s := range p.slots {
		cs, tl, w := c.task(ctx, s)
		containers = append(containers, cs...)
		c.layout.Tasks = append(c.layout.Tasks, tl)
		weights = append(weights, w)
		taskVols = append(taskVols, tl.Volume)
	}

	// The peak of what tasks running at once request.
	slots := p.slots
	top := peak(weights, func(a, b int) bool {
		sa, sb := slots[a], slots[b]
		if sa.key == "" || sb.key == "" || sa.key == sb.key {
			return false
		}
		return sb.ancestors[sa.key] || (sb.finally && !sa.finally)
	})

	orch := corev1.Container{
		Name:    OrchestratorContainer,
		Image:   c.opts.Image,
		Command: []string{c.opts.ImagePath, "orchestrate"},
		VolumeMounts: []corev1.VolumeMount{
			{Name: stateVolume, MountPath: control.StateDir},
			// The orchestrator gets no Secret, not even the service
			// account's token.
			{Name: noTokenVolume, MountPath: serviceAccountTokenDir, ReadOnly: true},
		},
	}
	for _, v := range taskVols {
		orch.VolumeMounts = append(orch.VolumeMounts, corev1.VolumeMount{Name: v, MountPath: path.Join(control.TasksDir, v)})
	}
	var podRes *corev1.ResourceRequirements
	for _, r := range shareable {
		m, ok := top[r]
		if !ok || m == 0 {
			continue
		}
		if c.opts.PodLevelResources && r != corev1.ResourceEphemeralStorage {
			if podRes == nil {
				podRes = &corev1.ResourceRequirements{Requests: corev1.ResourceList{}}
			}
			podRes.Requests[r] = quantity(r, m)
			continue
		}
		if orch.Resources.Requests == nil {
			orch.Resources.Requests = corev1.ResourceList{}
		}
		orch.Resources.Requests[r] = quantity(r, m)
	}

	init := corev1.Container{
		Name:         InitContainer,
		Image:        c.opts.Image,
		Command:      []string{c.opts.ImagePath, "step", "--install", control.Colo},
		VolumeMounts: []corev1.VolumeMount{{Name: binVolume, MountPath: control.BinDir}},
	}

	init.Command = append(init.Command, c.subPathDirs(&init, append([]corev1.Container{orch}, containers...))...)

	vols := []corev1.Volume{
		{Name: binVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: stateVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: noTokenVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	vols = append(vols, c.volumes...)

	name := c.opts.PodName
	if name == "" {
		name = p.name + "-pod"
	}
	ns := c.opts.Namespace
	if ns == "" {
		ns = p.namespace
	}
	labels := map[string]string{LabelManagedBy: ManagedBy}
	if p.kind == v1.KindPipelineRun {
		labels[LabelPipelineRun] = p.name
	} else {
		labels[LabelTaskRun] = p.name
	}
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{
			RestartPolicy:      corev1.RestartPolicyNever,
			ServiceAccountName: sa,
			InitContainers:     []corev1.Container{init},
			Containers:         append([]corev1.Container{orch}, containers...),
			Volumes:            vols,
			Resources:          podRes,
		},
	}
	if p.timeout > 0 {
		d := p.timeout + max(2*time.Minute, p.timeout/10)
		secs := int64((d + time.Second - 1) / time.Second)
		pod.Spec.ActiveDeadlineSeconds = &secs
	}
	if t := tmpl; t != nil {
		pod.Spec.NodeSelector = t.NodeSelector
		pod.Spec.Tolerations = t.Tolerations
		pod.Spec.Affinity = t.Affinity
		pod.Spec.SecurityContext = t.SecurityContext
		pod.Spec.RuntimeClassName = t.RuntimeClassName
		pod.Spec.AutomountServiceAccountToken = t.AutomountServiceAccountToken
		if t.DNSPolicy != nil {
			pod.Spec.DNSPolicy = *t.DNSPolicy
		}
		pod.Spec.DNSConfig = t.DNSConfig
		pod.Spec.EnableServiceLinks = t.EnableServiceLinks
		if t.PriorityClassName != nil {
			pod.Spec.PriorityClassName = *t.PriorityClassName
		}
		pod.Spec.SchedulerName = t.SchedulerName
		pod.Spec.ImagePullSecrets = t.ImagePullSecrets
		pod.Spec.HostAliases = t.HostAliases
		pod.Spec.HostNetwork = t.HostNetwork
		pod.Spec.TopologySpreadConstraints = t.TopologySpreadConstraints
	}
	return pod
}

// podWide returns the service account and pod template every task shares,
// and records an error for each task that asks for another: one Pod has
// one of each.
func (c *compiler) podWide() (string, *v1.PodTemplate) {
	slots := c.p.slots
	if len(slots) == 0 {
		return "", nil
	}
	first := slots[0]
	norm := func(sa string) string {
		if sa == "" {
			return "default"
		}
		return sa
	}
	for _, s := range slots[1:] {
		if norm(s.serviceAccount) != norm(first.serviceAccount) {
			c.errs = append(c.errs, field.Invalid(s.saPath, s.serviceAccount, fmt.Sprintf(
				"pipeline task %q asks for service account %q but pipeline task %q for %q: one Pod has one service account",
				s.pipelineTask, norm(s.serviceAccount), first.pipelineTask, norm(first.serviceAccount))))
		}
	}
	reported := map[string]bool{}
	for _, s := range slots[1:] {
		for _, f := range podWideFields {
			a, b := f.get(orEmpty(first.podTemplate)), f.get(orEmpty(s.podTemplate))
			if equality.Semantic.DeepEqual(a, b) {
				continue
			}
			p := s.ptPath.Child(f.name)
			if reported[p.String()] {
				continue
			}
			reported[p.String()] = true
			c.errs = append(c.errs, field.Invalid(p, b, fmt.Sprintf(
				"pipeline task %q's pod template sets %s differently from pipeline task %q's: the tasks of one Pod share its %s",
				s.pipelineTask, f.name, first.pipelineTask, f.name)))
		}
	}
	return first.serviceAccount, first.podTemplate
}

func orEmpty(t *v1.PodTemplate) *v1.PodTemplate {
	if t == nil {
		return &v1.PodTemplate{}
	}
	return t
}

// podWideFields are the pod template's settings that apply to a whole Pod.
var podWideFields = []struct {
	name string
	get  func(*v1.PodTemplate) any
}{
	{"nodeSelector", func(t *v1.PodTemplate) any { return t.NodeSelector }},
	{"tolerations", func(t *v1.PodTemplate) any { return t.Tolerations }},
	{"affinity", func(t *v1.PodTemplate) any { return t.Affinity }},
	{"securityContext", func(t *v1.PodTemplate) any { return t.SecurityContext }},
	{"runtimeClassName", func(t *v1.PodTemplate) any { return t.RuntimeClassName }},
	{"automountServiceAccountToken", func(t *v1.PodTemplate) any { return t.AutomountServiceAccountToken }},
	{"dnsPolicy", func(t *v1.PodTemplate) any { return t.DNSPolicy }},
	{"dnsConfig", func(t *v1.PodTemplate) any { return t.DNSConfig }},
	{"enableServiceLinks", func(t *v1.PodTemplate) any { return t.EnableServiceLinks }},
	{"priorityClassName", func(t *v1.PodTemplate) any { return t.PriorityClassName }},
	{"schedulerName", func(t *v1.PodTemplate) any { return t.SchedulerName }},
	{"imagePullSecrets", func(t *v1.PodTemplate) any { return t.ImagePullSecrets }},
	{"hostAliases", func(t *v1.PodTemplate) any { return t.HostAliases }},
	{"hostNetwork", func(t *v1.PodTemplate) any { return t.HostNetwork }},
	{"topologySpreadConstraints", func(t *v1.PodTemplate) any { return t.TopologySpreadConstraints }},
}

// task builds the containers of one slot, its part of the layout and what
// it requests while it runs.
func (c *compiler) task(ctx context.Context, s *slot) ([]corev1.Container, TaskLayout, map[corev1.ResourceName]int64) {
	label := s.pipelineTask
	if s.index >= 0 {
		label += "-" + strconv.Itoa(s.index)
	}
	volLabel := label
	if volLabel == "" {
		volLabel = "task"
	}
	tl := TaskLayout{
		TaskRun:      s.taskRun,
		PipelineTask: s.pipelineTask,
		Finally:      s.finally,
		Volume:       c.names.name("tekton", volLabel),
	}
	c.volumes = append(c.volumes, corev1.Volume{Name: tl.Volume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})

	spec := s.attempt.Spec
	// The task's own volumes and its pod template's, under Pod-unique
	// names.
	vols := map[string]string{}
	var own []corev1.Volume
	own = append(own, spec.Volumes...)
	if s.podTemplate != nil {
		own = append(own, s.podTemplate.Volumes...)
	}
	for i, v := range own {
		if _, dup := vols[v.Name]; dup {
			continue
		}
		vp := s.specPath.Child("volumes").Index(i)
		if i >= len(spec.Volumes) {
			vp = s.ptPath.Child("volumes").Index(i - len(spec.Volumes))
		}
		c.static(vp, &v)
		pv := *v.DeepCopy()
		pv.Name = c.names.name(labelled(label, v.Name)...)
		if pv.VolumeSource == (corev1.VolumeSource{}) {
			pv.EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
		vols[v.Name] = pv.Name
		c.volumes = append(c.volumes, pv)
	}

	isolated := map[string]bool{}
	for _, st := range spec.Steps {
		for _, w := range st.Workspaces {
			isolated[w.Name] = true
		}
	}
	for _, sc := range spec.Sidecars {
		for _, w := range sc.Workspaces {
			isolated[w.Name] = true
		}
	}

	var env []corev1.EnvVar
	if s.podTemplate != nil {
		env = append(env, s.podTemplate.Env...)
	}

	weight := map[corev1.ResourceName]int64{}
	var out []corev1.Container

	// Sidecars first: they start with the Pod and are ready sooner.
	for i, sc := range s.attempt.Sidecars {
		sp := s.specPath.Child("sidecars").Index(i)
		name := c.names.name(labelled(label, sc.Name)...)
		var ports map[string]int32
		var cports []corev1.ContainerPort
		if i < len(spec.Sidecars) {
			cports = spec.Sidecars[i].Ports
			for _, p := range cports {
				if p.Name != "" {
					if ports == nil {
						ports = map[string]int32{}
					}
					ports[p.Name] = p.ContainerPort
				}
			}
		}
		cl := ContainerLayout{Container: name, Name: sc.Name, Image: sc.Image, Ports: ports}
		if len(sc.Command) == 0 && sc.Script == "" {
			cl.Entrypoint = c.entrypoint(ctx, sp.Child("image"), sc.Image)
		}
		var devices []corev1.VolumeDevice
		if i < len(spec.Sidecars) {
			devices = spec.Sidecars[i].VolumeDevices
		}
		ctr := c.container(s, tl.Volume, vols, name, sp, containerSpec{
			image: sc.Image, pull: sidecarPull(spec, i), env: env, stepEnv: sc.Env, envFrom: sc.EnvFrom,
			mounts: sc.VolumeMounts, devices: devices, usages: sc.Workspaces, isolated: isolated,
			security: sc.SecurityContext, resources: sc.Resources,
		})
		ctr.Ports = cports
		out = append(out, ctr)
		tl.Sidecars = append(tl.Sidecars, cl)
		for _, r := range shareable {
			weight[r] += requestOf(sc.Resources, r)
		}
	}

	stepMax := map[corev1.ResourceName]int64{}
	for i, st := range s.steps {
		sp := s.specPath.Child("steps").Index(i)
		stepName := st.Name
		if stepName == "" {
			stepName = "unnamed-" + strconv.Itoa(i)
		}
		var name string
		if label == "" {
			name = c.names.name("step", stepName)
		} else {
			name = c.names.name(label, stepName)
		}
		res := st.ComputeResources
		if s.computeRes != nil {
			res = *s.computeRes.DeepCopy()
		}
		for _, ss := range s.stepSpecs {
			if ss.Name == st.Name {
				res = *ss.ComputeResources.DeepCopy()
			}
		}
		cl := ContainerLayout{Container: name, Name: "step-" + stepName, Image: st.Image}
		if len(st.Command) == 0 && st.Script == "" {
			cl.Entrypoint = c.entrypoint(ctx, sp.Child("image"), st.Image)
		}
		ctr := c.container(s, tl.Volume, vols, name, sp, containerSpec{
			image: st.Image, pull: st.ImagePullPolicy, env: env, stepEnv: st.Env, envFrom: st.EnvFrom,
			mounts: st.VolumeMounts, devices: st.VolumeDevices, usages: st.Workspaces, isolated: isolated,
			security: st.SecurityContext, resources: res, otherSteps: others(len(s.steps), i),
		})
		out = append(out, ctr)
		tl.Steps = append(tl.Steps, cl)
		for _, r := range shareable {
			stepMax[r] = max(stepMax[r], requestOf(res, r))
		}
	}
	for r, v := range stepMax {
		weight[r] += v
	}
	return out, tl, weight
}

// sidecarPull returns sidecar i's image pull policy.
func sidecarPull(spec *v1.TaskSpec, i int) corev1.PullPolicy {
	if i < len(spec.Sidecars) {
		return spec.Sidecars[i].ImagePullPolicy
	}
	return ""
}

// labelled returns a name's parts: the task's label first, when it has one.
func labelled(label string, parts ...string) []string {
	if label == "" {
		return parts
	}
	return append([]string{label}, parts...)
}

// containerSpec is what a step or sidecar container is built from.
type containerSpec struct {
	image     string
	pull      corev1.PullPolicy
	env       []corev1.EnvVar // the pod template's
	stepEnv   []corev1.EnvVar // the container's own (only values from elsewhere are kept)
	envFrom   []corev1.EnvFromSource
	mounts    []corev1.VolumeMount
	devices   []corev1.VolumeDevice
	usages    []v1.WorkspaceUsage
	isolated  map[string]bool
	security  *corev1.SecurityContext
	resources corev1.ResourceRequirements
	// otherSteps are the indexes of the task's other steps, for a step's
	// container: their /tekton/run/N directories are read-only to it, as
	// upstream mounts them, so that no step can write another's status.
	otherSteps []int
}

// others lists 0..n-1 without i.
func others(n, i int) []int {
	var out []int
	for j := range n {
		if j != i {
			out = append(out, j)
		}
	}
	return out
}

// container builds one step or sidecar container, started through colo's
// step runner.
func (c *compiler) container(s *slot, taskVol string, vols map[string]string, name string, p *field.Path, cs containerSpec) corev1.Container {
	c.staticString(p.Child("image"), cs.image)
	c.staticString(p.Child("imagePullPolicy"), string(cs.pull))
	ctr := corev1.Container{
		Name:            name,
		Image:           cs.image,
		ImagePullPolicy: cs.pull,
		Command:         []string{control.Colo, "step"},
		EnvFrom:         cs.envFrom,
		SecurityContext: cs.security,
		Resources:       idle(cs.resources),
	}
	for i, ef := range cs.envFrom {
		c.static(p.Child("envFrom").Index(i), ef)
	}
	ctr.Env = append(ctr.Env, cs.env...)
	// Plain values are set by the step runner when the step starts (they
	// may hold results of earlier steps); values from Secrets, ConfigMaps
	// and the downward API are the kubelet's to fill in.
	for i, e := range cs.stepEnv {
		if e.ValueFrom == nil {
			continue
		}
		c.static(p.Child("env").Index(i).Child("valueFrom"), e.ValueFrom)
		ctr.Env = append(ctr.Env, e)
	}

	mounts := []corev1.VolumeMount{
		{Name: binVolume, MountPath: control.BinDir, ReadOnly: true},
		{Name: taskVol, MountPath: control.Dir, SubPath: control.ControlSub + "/" + name},
		{Name: taskVol, MountPath: "/tekton", SubPath: control.TektonSub},
		{Name: taskVol, MountPath: "/workspace", SubPath: control.WorkspaceSub},
	}
	for _, j := range cs.otherSteps {
		run := "run/" + strconv.Itoa(j)
		mounts = append(mounts, corev1.VolumeMount{Name: taskVol, MountPath: "/tekton/" + run, SubPath: control.TektonSub + "/" + run, ReadOnly: true})
	}
	usage := map[string]v1.WorkspaceUsage{}
	for _, u := range cs.usages {
		usage[u.Name] = u
	}
	for _, w := range s.attempt.Workspaces {
		if w.Binding == nil {
			continue
		}
		u, uses := usage[w.Name]
		if cs.isolated[w.Name] && !uses {
			continue
		}
		mp := w.MountPath
		if uses && u.MountPath != "" {
			mp = u.MountPath
		}
		vol := c.workspaceVolume(s, w)
		if vol == "" {
			continue
		}
		wp := s.specPath.Child("workspaces").Key(w.Name)
		c.staticString(wp.Child("mountPath"), mp)
		c.staticString(wp.Child("subPath"), w.Binding.SubPath)
		mounts = append(mounts, corev1.VolumeMount{Name: vol, MountPath: mp, SubPath: w.Binding.SubPath, ReadOnly: w.ReadOnly})
	}
	// Mounts before this index are the implicit ones.
	implicit := len(mounts)
	for i, vm := range cs.mounts {
		mp := p.Child("volumeMounts").Index(i)
		c.static(mp, vm)
		if clean := path.Clean(vm.MountPath); clean == "/colo" || strings.HasPrefix(clean, "/colo/") {
			c.errs = append(c.errs, field.Invalid(mp.Child("mountPath"), vm.MountPath, "/colo is where colo's step runner lives in a Pod"))
			continue
		}
		m := vm
		if pv, ok := vols[vm.Name]; ok {
			m.Name = pv
		} else if w, ok := c.workspaceByVolume(s, vm.Name); ok {
			m.Name = c.workspaceVolume(s, w)
			m.SubPath = path.Join(w.Binding.SubPath, vm.SubPath)
		} else {
			c.errs = append(c.errs, field.NotFound(mp.Child("name"), vm.Name))
			continue
		}
		mounts = append(mounts, m)
	}
	for i, d := range cs.devices {
		if pv, ok := vols[d.Name]; ok {
			d.Name = pv
			ctr.VolumeDevices = append(ctr.VolumeDevices, d)
			continue
		}
		c.errs = append(c.errs, field.NotFound(p.Child("volumeDevices").Index(i).Child("name"), d.Name))
	}
	// A mount of the step's own at one of the implicit paths (its
	// workspaces' among them) wins.
	seen := map[string]int{}
	for i := len(mounts) - 1; i >= 0; i-- {
		mp := path.Clean(mounts[i].MountPath)
		if _, ok := seen[mp]; ok {
			if i < implicit {
				mounts = append(mounts[:i], mounts[i+1:]...)
				continue
			}
			c.errs = append(c.errs, field.Duplicate(p.Child("volumeMounts"), mounts[i].MountPath))
		}
		seen[mp] = i
	}
	ctr.VolumeMounts = mounts
	return ctr
}

// workspaceByVolume finds the workspace a volumeMount names: by the
// workspace's name, or by $(workspaces.<w>.volume), "ws-<w>".
func (c *compiler) workspaceByVolume(s *slot, name string) (engine.Workspace, bool) {
	for _, w := range s.attempt.Workspaces {
		if w.Binding != nil && (w.Name == name || engine.WorkspaceVolume(w.Name) == name) {
			return w, true
		}
	}
	return engine.Workspace{}, false
}

// workspaceVolume returns the Pod volume of a task workspace's binding:
// one volume per run workspace, shared by every task that binds it.
func (c *compiler) workspaceVolume(s *slot, w engine.Workspace) string {
	src := s.sources[w.Name]
	if src == "" {
		src = w.Name
	}
	if v, ok := c.wsVol[src]; ok {
		return v
	}
	b := w.Binding
	for _, rb := range c.p.bindings {
		if rb.Name == src {
			b = &rb
			break
		}
	}
	vol := corev1.Volume{Name: c.names.name("ws", src)}
	switch {
	case b.EmptyDir != nil:
		vol.EmptyDir = b.EmptyDir.DeepCopy()
	case b.VolumeClaimTemplate != nil:
		// One run-scoped directory every task shares, as tasks share the
		// claim upstream makes from the template; its size is the
		// claim's request.
		vol.EmptyDir = &corev1.EmptyDirVolumeSource{}
		if q, ok := b.VolumeClaimTemplate.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
			q := q.DeepCopy()
			vol.EmptyDir.SizeLimit = &q
		}
	case b.PersistentVolumeClaim != nil:
		vol.PersistentVolumeClaim = b.PersistentVolumeClaim.DeepCopy()
	case b.ConfigMap != nil:
		vol.ConfigMap = b.ConfigMap.DeepCopy()
	case b.Secret != nil:
		vol.Secret = b.Secret.DeepCopy()
	case b.Projected != nil:
		vol.Projected = b.Projected.DeepCopy()
	case b.CSI != nil:
		vol.CSI = b.CSI.DeepCopy()
	default:
		c.errs = append(c.errs, field.Required(field.NewPath("spec", "workspaces").Key(src), "a workspace binding needs a volume source"))
		return ""
	}
	c.wsVol[src] = vol.Name
	c.volumes = append(c.volumes, vol)
	return vol.Name
}

// entrypoint looks up an image's command, recording an error if it
// cannot.
func (c *compiler) entrypoint(ctx context.Context, p *field.Path, image string) []string {
	if !c.staticString(p, image) {
		return nil
	}
	cmd, err := c.ep.lookup(ctx, image)
	if err != nil {
		c.errs = append(c.errs, field.Invalid(p, image, fmt.Sprintf("with no command or script the container runs its image's command, which could not be looked up: %v", err)))
		return nil
	}
	return cmd
}

// static records an error for every string of v that still refers to a
// variable: what a Pod's container spec holds must be known before the run
// starts.
func (c *compiler) static(p *field.Path, v any) {
	walkStrings(v, func(s string) { c.staticString(p, s) })
}

// staticString is static for one string; it reports whether s is known.
func (c *compiler) staticString(p *field.Path, s string) bool {
	if !strings.Contains(s, "$(") {
		return true
	}
	refs := subst.Refs(s)
	if len(refs) == 0 {
		return true
	}
	for _, r := range refs {
		if r.Root == "tasks" || r.Root == "finally" {
			c.errs = append(c.errs, field.Invalid(p, s, fmt.Sprintf(
				"depends on a task result (%s): a container's %s must be known before the Pod is created", r.Raw, p.String()[strings.LastIndex(p.String(), ".")+1:])))
			return false
		}
	}
	c.errs = append(c.errs, field.Invalid(p, s, fmt.Sprintf("refers to %s, which is not known before the run starts", refs[0].Raw)))
	return false
}

// bundleObjects returns the run and what it uses as one YAML stream.
func bundleObjects(run any, p *plan, set *load.Set) (string, error) {
	var docs [][]byte
	add := func(obj any) error {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		docs = append(docs, b)
		return nil
	}
	switch r := run.(type) {
	case *v1.PipelineRun:
		pr := r.DeepCopy()
		pr.APIVersion, pr.Kind = v1.APIVersion, v1.KindPipelineRun
		pr.Status = v1.PipelineRunStatus{}
		pr.ManagedFields = nil
		if err := add(pr); err != nil {
			return "", err
		}
	case *v1.TaskRun:
		tr := r.DeepCopy()
		tr.APIVersion, tr.Kind = v1.APIVersion, v1.KindTaskRun
		tr.Status = v1.TaskRunStatus{}
		tr.ManagedFields = nil
		if err := add(tr); err != nil {
			return "", err
		}
	}
	for _, n := range sortedKeys(p.pipelines) {
		pl, _ := set.Pipeline(n)
		pl = pl.DeepCopy()
		pl.APIVersion, pl.Kind = v1.APIVersion, v1.KindPipeline
		pl.ManagedFields = nil
		if err := add(pl); err != nil {
			return "", err
		}
	}
	for _, n := range sortedKeys(p.tasks) {
		t, _ := set.Task(n)
		t = t.DeepCopy()
		t.APIVersion, t.Kind = v1.APIVersion, v1.KindTask
		t.ManagedFields = nil
		if err := add(t); err != nil {
			return "", err
		}
	}
	for _, n := range sortedKeys(p.stepActions) {
		sa, ok := set.StepAction(n)
		if !ok {
			continue
		}
		sa = sa.DeepCopy()
		sa.APIVersion, sa.Kind = v1beta1.GroupName+"/"+v1beta1.Version, v1.KindStepAction
		sa.ManagedFields = nil
		if err := add(sa); err != nil {
			return "", err
		}
	}
	var b strings.Builder
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(d)
	}
	return b.String(), nil
}
