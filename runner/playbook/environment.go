package playbook

import (
	"regexp"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// EnvVar is one variable of an environment: keyword. Value is a template
// the runner renders for each host. An EnvVar with no Name is a whole
// environment: given as a template ("{{ proxy_env | default({}) }}"):
// the runner renders it to a mapping for each host, whose variables
// replace those before it.
type EnvVar struct {
	Name  string
	Value string
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// environment reads an environment: keyword, a mapping of variable names
// to scalar values, or a template rendering to one (an EnvVar with no
// Name). Ansible also takes a list of mappings; tend refuses it here,
// before any host.
func (p *parser) environment(v *yaml.Node, field string) []EnvVar {
	if yamlnode.IsNull(v) {
		return nil
	}
	if yamlnode.HasTemplate(v) {
		return []EnvVar{{Value: v.Value}}
	}
	if v.Kind != yaml.MappingNode {
		p.Errorf(v, field, "must be a mapping of environment variables (NAME: value) or a template rendering to one, not %s; tend takes no list here", yamlnode.Describe(v))
		return nil
	}
	var out []EnvVar
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := yamlnode.Resolve(v.Content[i]), yamlnode.Resolve(v.Content[i+1])
		if k.Kind != yaml.ScalarNode || !envNameRE.MatchString(k.Value) {
			p.Errorf(k, field, "environment variable names must be letters, digits and _ (not starting with a digit), not %s", yamlnode.Describe(k))
			continue
		}
		f := yamlnode.JoinPath(field, k.Value)
		if val.Kind != yaml.ScalarNode || yamlnode.IsNull(val) {
			p.Errorf(val, f, "must be a string, number or boolean, not %s", yamlnode.Describe(val))
			continue
		}
		s := val.Value
		if val.Tag == "!!bool" { // as Ansible's str(True)
			if b, ok := p.Bool(val, f); ok && b {
				s = "True"
			} else {
				s = "False"
			}
		}
		out = mergeEnv(out, []EnvVar{{Name: k.Value, Value: s}})
	}
	return out
}

// mergeEnv returns base with over's variables replacing or following its
// own, as Ansible combines a task's environment over its block's and
// play's.
func mergeEnv(base, over []EnvVar) []EnvVar {
	if len(over) == 0 {
		return base
	}
	out := append([]EnvVar(nil), base...)
next:
	for _, o := range over {
		for i := range out {
			if o.Name != "" && out[i].Name == o.Name {
				if hasEnvTemplate(out[i+1:]) { // must come after the template that may set it
					out = append(out[:i:i], out[i+1:]...)
					break
				}
				out[i].Value = o.Value
				continue next
			}
		}
		out = append(out, o)
	}
	return out
}

// hasEnvTemplate reports whether env holds a whole-environment template.
func hasEnvTemplate(env []EnvVar) bool {
	for _, e := range env {
		if e.Name == "" {
			return true
		}
	}
	return false
}

// MergeEnv is mergeEnv for the runner: the play's environment under a
// task's.
func MergeEnv(base, over []EnvVar) []EnvVar { return mergeEnv(base, over) }
