package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/load"
	"github.com/colo-ci/colo/internal/runstore"
	v1 "github.com/colo-ci/colo/pkg/apis/pipeline/v1"
)

// startRun builds the PipelineRun or TaskRun that --pipeline or --task asks
// for, as `tkn pipeline start` would: generateName <name>-run-, params from
// -p, workspaces from -w (bound to host directories, returned by workspace
// name). The run is added to set, so that it is validated with the rest.
func startRun(set *load.Set, root runstore.Root, o *runOptions) (runItem, map[string]string, error) {
	var errs []error
	var specs v1.ParamSpecs
	var declared []string
	kind, name := v1.KindPipeline, o.pipeline
	namespace := load.DefaultNamespace
	if o.task != "" {
		kind, name = v1.KindTask, o.task
		t, ok := set.Tasks[name]
		if !ok {
			return runItem{}, nil, fmt.Errorf("no Task %q in %v", name, o.files)
		}
		specs = append(specs, t.Spec.Params...)
		for _, w := range t.Spec.Workspaces {
			declared = append(declared, w.Name)
		}
		if t.Namespace != "" {
			namespace = t.Namespace
		}
	} else {
		p, ok := set.Pipelines[name]
		if !ok {
			return runItem{}, nil, fmt.Errorf("no Pipeline %q in %v", name, o.files)
		}
		specs = append(specs, p.Spec.Params...)
		for _, w := range p.Spec.Workspaces {
			declared = append(declared, w.Name)
		}
		if p.Namespace != "" {
			namespace = p.Namespace
		}
	}

	params, err := parseParams(o.params, specs, kind, name)
	if err != nil {
		errs = append(errs, flatten(err)...)
	}
	bindings, hostDirs, err := parseWorkspaces(o.workspaces, declared, kind, name)
	if err != nil {
		errs = append(errs, flatten(err)...)
	}
	if len(errs) > 0 {
		return runItem{}, nil, problems(errs)
	}

	prefix := name + "-run-"
	meta := metav1.ObjectMeta{GenerateName: prefix, Name: root.GenerateName(prefix), Namespace: namespace}
	if kind == v1.KindPipeline {
		pr := &v1.PipelineRun{
			TypeMeta:   metav1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.KindPipelineRun},
			ObjectMeta: meta,
			Spec: v1.PipelineRunSpec{
				PipelineRef: &v1.PipelineRef{Name: name},
				Params:      params,
				Workspaces:  bindings,
			},
		}
		set.PipelineRuns = append(set.PipelineRuns, pr)
		return runItem{pr: pr}, hostDirs, nil
	}
	tr := &v1.TaskRun{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.KindTaskRun},
		ObjectMeta: meta,
		Spec: v1.TaskRunSpec{
			TaskRef:    &v1.TaskRef{Name: name, Kind: v1.KindTask},
			Params:     params,
			Workspaces: bindings,
		},
	}
	set.TaskRuns = append(set.TaskRuns, tr)
	return runItem{tr: tr}, hostDirs, nil
}

// parseParams reads -p name=value flags against the declared params: an
// array param takes a JSON array or a comma-separated list, an object param
// a JSON object, a string param the value as written.
func parseParams(flags []string, specs v1.ParamSpecs, kind, owner string) (v1.Params, error) {
	specs = append(v1.ParamSpecs(nil), specs...)
	for i := range specs {
		specs[i].SetDefaults()
	}
	var out v1.Params
	var errs []error
	seen := map[string]bool{}
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			errs = append(errs, fmt.Errorf("-p %q: want name=value", f))
			continue
		}
		if seen[name] {
			errs = append(errs, fmt.Errorf("-p %s: given twice", name))
			continue
		}
		seen[name] = true
		spec, ok := specs.Lookup(name)
		if !ok {
			errs = append(errs, fmt.Errorf("-p %s: %s %q declares no param %q", name, kind, owner, name))
			continue
		}
		v, err := paramValue(spec.Type, value)
		if err != nil {
			errs = append(errs, fmt.Errorf("-p %s: %w", name, err))
			continue
		}
		out = append(out, v1.Param{Name: name, Value: v})
	}
	if len(errs) > 0 {
		return nil, problems(errs)
	}
	return out, nil
}

// paramValue reads value as a value of type t.
func paramValue(t v1.ParamType, value string) (v1.ParamValue, error) {
	switch t {
	case v1.ParamTypeArray:
		if strings.HasPrefix(strings.TrimSpace(value), "[") {
			var arr []string
			if err := json.Unmarshal([]byte(value), &arr); err != nil {
				return v1.ParamValue{}, fmt.Errorf("array param: %q is not a JSON array of strings: %w", value, err)
			}
			return v1.NewArray(arr...), nil
		}
		if value == "" {
			return v1.NewArray(), nil
		}
		return v1.NewArray(strings.Split(value, ",")...), nil
	case v1.ParamTypeObject:
		var obj map[string]string
		if err := json.Unmarshal([]byte(value), &obj); err != nil {
			return v1.ParamValue{}, fmt.Errorf(`object param: %q is not a JSON object of strings (like {"key":"value"}): %w`, value, err)
		}
		return v1.NewObject(obj), nil
	}
	return v1.NewString(value), nil
}

// parseWorkspaces reads -w name=DIR flags: each binds a declared workspace
// to an existing host directory. The binding is an emptyDir, which the
// executor replaces with the directory (returned by workspace name).
func parseWorkspaces(flags []string, declared []string, kind, owner string) ([]v1.WorkspaceBinding, map[string]string, error) {
	var bindings []v1.WorkspaceBinding
	dirs := map[string]string{}
	var errs []error
	for _, f := range flags {
		name, dir, ok := strings.Cut(f, "=")
		if !ok || name == "" || dir == "" {
			errs = append(errs, fmt.Errorf("-w %q: want name=DIR", f))
			continue
		}
		if _, dup := dirs[name]; dup {
			errs = append(errs, fmt.Errorf("-w %s: given twice", name))
			continue
		}
		if !contains(declared, name) {
			errs = append(errs, fmt.Errorf("-w %s: %s %q declares no workspace %q", name, kind, owner, name))
			continue
		}
		abs, err := filepath.Abs(dir)
		if err == nil {
			var fi os.FileInfo
			fi, err = os.Stat(abs)
			if err == nil && !fi.IsDir() {
				err = errors.New("not a directory")
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("-w %s=%s: %w", name, dir, err))
			continue
		}
		dirs[name] = abs
		bindings = append(bindings, v1.WorkspaceBinding{Name: name, EmptyDir: &corev1.EmptyDirVolumeSource{}})
	}
	if len(errs) > 0 {
		return nil, nil, problems(errs)
	}
	if len(dirs) == 0 {
		dirs = nil
	}
	return bindings, dirs, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
