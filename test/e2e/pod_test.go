//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/colo-ci/colo/internal/testcluster"
)

// TestPodWithInitContainerAndSharedEmptyDir runs the shape of Pod colo's
// Kubernetes mode relies on: an init container, two containers started
// together that share an emptyDir, and logs read through the API server.
func TestPodWithInitContainerAndSharedEmptyDir(t *testing.T) {
	c := testcluster.Start(t)
	ns := c.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	mount := []corev1.VolumeMount{{Name: "shared", MountPath: "/shared"}}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "shared-emptydir"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Volumes: []corev1.Volume{{
				Name:         "shared",
				VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}},
			}},
			InitContainers: []corev1.Container{{
				Name:         "prepare",
				Image:        "mirror.gcr.io/alpine",
				Command:      []string{"sh", "-c", "echo prepared > /shared/init && echo init done"},
				VolumeMounts: mount,
			}},
			Containers: []corev1.Container{
				{
					Name:  "writer",
					Image: "busybox",
					Command: []string{"sh", "-c",
						"cat /shared/init && echo from-writer > /shared/writer.tmp && mv /shared/writer.tmp /shared/writer && echo writer done"},
					VolumeMounts: mount,
				},
				{
					Name:  "reader",
					Image: "mirror.gcr.io/bash:5.2",
					Command: []string{"bash", "-c",
						`for i in $(seq 100); do [[ -e /shared/writer ]] && break; sleep 0.1; done; cat /shared/init /shared/writer; echo "reader done in bash ${BASH_VERSINFO[0]}"`},
					VolumeMounts: mount,
				},
			},
		},
	}
	if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating the pod: %v", err)
	}
	got, err := c.WaitForPod(ctx, ns, pod.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.Phase != corev1.PodSucceeded {
		t.Fatalf("pod phase = %s, want Succeeded", got.Status.Phase)
	}

	logs := map[string]string{}
	for _, name := range []string{"prepare", "writer", "reader"} {
		b, err := c.Client.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: name}).DoRaw(ctx)
		if err != nil {
			t.Fatalf("logs of %s: %v", name, err)
		}
		logs[name] = string(b)
	}
	bashVersion := ""
	if _, rest, ok := strings.Cut(logs["reader"], "reader done in bash "); ok {
		bashVersion = strings.TrimSpace(rest)
	}
	want := map[string]string{
		"prepare": "init done\n",
		"writer":  "prepared\nwriter done\n",
		"reader":  "prepared\nfrom-writer\nreader done in bash " + bashVersion + "\n",
	}
	if diff := cmp.Diff(want, logs); diff != "" {
		t.Errorf("container logs (-want +got):\n%s", diff)
	}
	if bashVersion == "" {
		t.Errorf("reader did not run bash: %q", logs["reader"])
	}
	if err := c.Client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Errorf("deleting the pod: %v", err)
	}
}

// TestPodFromPushedImage pushes an image built in the test and runs it
// from the cluster's registry.
func TestPodFromPushedImage(t *testing.T) {
	c := testcluster.Start(t)
	ns := c.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	base := c.Image(t, "library/busybox:latest")
	cfg, err := base.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.Config.Cmd = []string{"echo", "hello from " + ns}
	img, err := mutate.ConfigFile(base, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ref := c.PushImage(t, "e2e/echo:"+ns, img)

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pushed"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "echo", Image: ref}},
		},
	}
	if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := c.WaitForPod(ctx, ns, pod.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.Phase != corev1.PodSucceeded {
		t.Fatalf("pod phase = %s, want Succeeded", got.Status.Phase)
	}
	logs, err := c.Client.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "echo"}).DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("hello from "+ns+"\n", string(logs)); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
}
