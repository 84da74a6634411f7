package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The CronJob decodes strictly into k8s.io/api's batch/v1 types: a field
// Kubernetes does not know, or one in the wrong place, fails here.
func TestScheduleKubernetesStrict(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		shards int32
		check  func(t *testing.T, c corev1.Container, pod corev1.PodSpec)
	}{
		{name: "sharded, files", args: scheduleCases[2].args, shards: 4, check: func(t *testing.T, c corev1.Container, pod corev1.PodSpec) {
			want := []string{"run", "/etc/tend/playbook/pb.yml", "--inventory=/etc/tend/inventory/0-inv.yml", "--extra-vars=note=$$(date)",
				"--known-hosts=/etc/tend/known_hosts/known_hosts", "--private-key=/etc/tend/ssh/id", "--shard=$(JOB_COMPLETION_INDEX)/4"}
			if strings.Join(c.Args, "\n") != strings.Join(want, "\n") {
				t.Errorf("args\n got %q\nwant %q", c.Args, want)
			}
			if len(c.Env) != 1 || c.Env[0].Name != "JOB_COMPLETION_INDEX" || c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
				t.Errorf("env %+v", c.Env)
			}
			mounts := map[string]string{}
			for _, m := range c.VolumeMounts {
				mounts[m.Name] = m.MountPath
			}
			vols := map[string]corev1.Volume{}
			for _, v := range pod.Volumes {
				vols[v.Name] = v
			}
			for name, dir := range map[string]string{"tend-pb-inventory": "/etc/tend/inventory", "tend-pb-playbook": "/etc/tend/playbook",
				"tend-pb-known-hosts": "/etc/tend/known_hosts", "tend-pb-ssh-key": "/etc/tend/ssh"} {
				if mounts[name] != dir {
					t.Errorf("volume %s mounted at %q, want %s", name, mounts[name], dir)
				}
				v, ok := vols[name]
				switch {
				case !ok:
					t.Errorf("no volume %s", name)
				case name == "tend-pb-ssh-key":
					if v.Secret == nil || v.Secret.SecretName != name || *v.Secret.DefaultMode != 0o400 {
						t.Errorf("ssh key volume %+v: want a Secret, mode 0400", v.VolumeSource)
					}
				case v.ConfigMap == nil || v.ConfigMap.Name != name:
					t.Errorf("volume %s: want ConfigMap %s, got %+v", name, name, v.VolumeSource)
				}
			}
		}},
		{name: "one pod, shipped playbook", args: []string{"kubernetes", "--every", "1h", "-i", "/etc/tend/inv.yml", "mq-health"}, shards: 1,
			check: func(t *testing.T, c corev1.Container, pod corev1.PodSpec) {
				if c.Args[1] != "mq-health" || strings.Contains(strings.Join(c.Args, " "), "--shard") || len(c.Env) != 0 {
					t.Errorf("args %q env %+v", c.Args, c.Env)
				}
				for _, v := range pod.Volumes {
					if v.Name == "tend-mq-health-playbook" {
						t.Error("a shipped playbook is mounted")
					}
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if err := run(context.Background(), append([]string{"schedule"}, tt.args...), &out, &errb); err != nil {
				t.Fatalf("%v\n%s", err, errb.String())
			}
			var cj batchv1.CronJob
			if err := yaml.UnmarshalStrict(out.Bytes(), &cj); err != nil {
				t.Fatalf("not a strict batch/v1 CronJob: %v\n%s", err, out.String())
			}
			job := cj.Spec.JobTemplate.Spec
			switch {
			case cj.APIVersion != "batch/v1" || cj.Kind != "CronJob":
				t.Errorf("apiVersion %q kind %q", cj.APIVersion, cj.Kind)
			case cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent:
				t.Errorf("concurrencyPolicy %q", cj.Spec.ConcurrencyPolicy)
			case job.CompletionMode == nil || *job.CompletionMode != batchv1.IndexedCompletion:
				t.Errorf("completionMode %v", job.CompletionMode)
			case *job.Completions != tt.shards || *job.Parallelism != tt.shards:
				t.Errorf("completions %d parallelism %d, want %d", *job.Completions, *job.Parallelism, tt.shards)
			case job.Template.Spec.RestartPolicy != corev1.RestartPolicyNever || len(job.Template.Spec.Containers) != 1:
				t.Errorf("pod %+v", job.Template.Spec)
			default:
				tt.check(t, job.Template.Spec.Containers[0], job.Template.Spec)
			}
		})
	}
	// The decoding is strict: a field batch/v1 does not have fails.
	bad := strings.Replace(mustSchedule(t, scheduleCases[2].args), "concurrencyPolicy:", "concurrencyPolcy:", 1)
	var cj batchv1.CronJob
	if err := yaml.UnmarshalStrict([]byte(bad), &cj); err == nil {
		t.Error("a misspelt field decoded")
	}
}

func mustSchedule(t *testing.T, args []string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(context.Background(), append([]string{"schedule"}, args...), &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	return out.String()
}
