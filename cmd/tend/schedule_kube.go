package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// The CronJob is built from these small structs, named as batch/v1's
// fields; the test decodes the output strictly into k8s.io/api's types,
// so a misspelt or misplaced field fails there.
type (
	kubeCronJob struct {
		APIVersion string       `yaml:"apiVersion"`
		Kind       string       `yaml:"kind"`
		Metadata   kubeMeta     `yaml:"metadata"`
		Spec       kubeCronSpec `yaml:"spec"`
	}
	kubeMeta struct {
		Name      string            `yaml:"name,omitempty"`
		Namespace string            `yaml:"namespace,omitempty"`
		Labels    map[string]string `yaml:"labels,omitempty"`
	}
	kubeCronSpec struct {
		Schedule                   string      `yaml:"schedule"`
		ConcurrencyPolicy          string      `yaml:"concurrencyPolicy"`
		SuccessfulJobsHistoryLimit int         `yaml:"successfulJobsHistoryLimit"`
		FailedJobsHistoryLimit     int         `yaml:"failedJobsHistoryLimit"`
		JobTemplate                kubeJobTmpl `yaml:"jobTemplate"`
	}
	kubeJobTmpl struct {
		Spec kubeJobSpec `yaml:"spec"`
	}
	kubeJobSpec struct {
		CompletionMode string      `yaml:"completionMode"`
		Completions    int         `yaml:"completions"`
		Parallelism    int         `yaml:"parallelism"`
		BackoffLimit   int         `yaml:"backoffLimit"`
		Template       kubePodTmpl `yaml:"template"`
	}
	kubePodTmpl struct {
		Metadata kubeMeta    `yaml:"metadata"`
		Spec     kubePodSpec `yaml:"spec"`
	}
	kubePodSpec struct {
		RestartPolicy string          `yaml:"restartPolicy"`
		Containers    []kubeContainer `yaml:"containers"`
		Volumes       []kubeVolume    `yaml:"volumes"`
	}
	kubeContainer struct {
		Name         string      `yaml:"name"`
		Image        string      `yaml:"image"`
		Command      []string    `yaml:"command"`
		Args         []string    `yaml:"args"`
		Env          []kubeEnv   `yaml:"env,omitempty"`
		VolumeMounts []kubeMount `yaml:"volumeMounts"`
	}
	kubeEnv struct {
		Name      string        `yaml:"name"`
		ValueFrom kubeEnvSource `yaml:"valueFrom"`
	}
	kubeEnvSource struct {
		FieldRef kubeFieldRef `yaml:"fieldRef"`
	}
	kubeFieldRef struct {
		FieldPath string `yaml:"fieldPath"`
	}
	kubeMount struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	}
	kubeVolume struct {
		Name      string           `yaml:"name"`
		ConfigMap *kubeConfigMapVS `yaml:"configMap,omitempty"`
		Secret    *kubeSecretVS    `yaml:"secret,omitempty"`
	}
	kubeConfigMapVS struct {
		Name string `yaml:"name"`
	}
	kubeSecretVS struct {
		SecretName  string `yaml:"secretName"`
		DefaultMode int    `yaml:"defaultMode"`
	}
)

var kubeKeyUnsafe = regexp.MustCompile(`[^-._a-zA-Z0-9]+`)

// kubernetesYAML renders the CronJob, preceded by the kubectl commands
// that create its ConfigMaps and Secret from the local files.
func (s *schedule) kubernetesYAML() (string, error) {
	args, sources, playbookKey := s.kubePlan()
	pb := s.playbook
	if playbookKey != "" {
		pb = kubePlaybookDir + "/" + kubeKeyUnsafe.ReplaceAllString(playbookKey, "_")
	}
	mounts := []kubeMount{}
	volumes := []kubeVolume{}
	seen := map[string]bool{}
	for _, src := range sources {
		if seen[src.name] {
			continue
		}
		seen[src.name] = true
		dir := map[string]string{s.name + "-inventory": kubeInventoryDir, s.name + "-playbook": kubePlaybookDir,
			s.name + "-known-hosts": kubeKnownHostsDir, s.name + "-ssh-key": kubeSSHKeyDir}[src.name]
		mounts = append(mounts, kubeMount{Name: src.name, MountPath: dir, ReadOnly: true})
		v := kubeVolume{Name: src.name}
		if src.kind == "secret" {
			v.Secret = &kubeSecretVS{SecretName: src.name, DefaultMode: 0o400}
		} else {
			v.ConfigMap = &kubeConfigMapVS{Name: src.name}
		}
		volumes = append(volumes, v)
	}
	c := kubeContainer{Name: "tend", Image: s.image, Command: []string{s.tendOrPATH()},
		Args: append([]string{"run", kubeArg(pb)}, args...), VolumeMounts: mounts}
	if s.shards > 1 {
		// Declared so that $(JOB_COMPLETION_INDEX) in args expands.
		c.Env = []kubeEnv{{Name: "JOB_COMPLETION_INDEX", ValueFrom: kubeEnvSource{FieldRef: kubeFieldRef{
			FieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}}}
	}
	labels := map[string]string{"app.kubernetes.io/name": "tend", "app.kubernetes.io/instance": s.name}
	job := kubeCronJob{APIVersion: "batch/v1", Kind: "CronJob",
		Metadata: kubeMeta{Name: s.name, Namespace: s.namespace, Labels: labels},
		Spec: kubeCronSpec{Schedule: s.calendar, ConcurrencyPolicy: "Forbid", SuccessfulJobsHistoryLimit: 3, FailedJobsHistoryLimit: 3,
			JobTemplate: kubeJobTmpl{Spec: kubeJobSpec{CompletionMode: "Indexed", Completions: s.shards, Parallelism: s.shards,
				Template: kubePodTmpl{Metadata: kubeMeta{Labels: labels},
					Spec: kubePodSpec{RestartPolicy: "Never", Containers: []kubeContainer{c}, Volumes: volumes}}}}}}
	var buf bytes.Buffer
	buf.WriteString("# Written by tend schedule kubernetes. Create what it mounts, then apply it:\n")
	ns := ""
	if s.namespace != "" {
		ns = " -n " + shellWord(s.namespace)
	}
	for _, src := range sources {
		sub := "configmap"
		if src.kind == "secret" {
			sub = "secret generic"
		}
		from := shellWord(src.key + "=" + src.file)
		if home, ok := strings.CutPrefix(src.file, "$HOME/"); ok {
			from = src.key + `="$HOME/` + home + `"`
		}
		fmt.Fprintf(&buf, "#   kubectl%s create %s %s --from-file=%s\n", ns, sub, src.name, from)
	}
	buf.WriteString("# A playbook that imports other files (roles, task files, vars files) needs them in the image.\n")
	buf.WriteString("# concurrencyPolicy Forbid keeps runs from overlapping; pods keep no state, so --min-interval\n")
	buf.WriteString("# and the lock only matter within one pod.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(job); err != nil {
		return "", fmt.Errorf("schedule: kubernetes: %w", err)
	}
	return buf.String(), nil
}

func (s *schedule) tendOrPATH() string {
	if s.tend != "" {
		return s.tend
	}
	return "tend"
}

// shellWord quotes a word for a shell command line shown to the user.
func shellWord(a string) string {
	if shellBare.MatchString(a) {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}
