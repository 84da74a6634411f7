package runner

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"tend/internal/omap"
	"tend/runner/template"
	"tend/runner/transport"
)

// envNameRE is what an environment variable name may be.
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// renderEnvMapping renders an environment: given as a template
// ("{{ proxy_env | default({}) }}") for one host. It must give a mapping
// of names to strings, numbers or booleans (a boolean as Ansible's
// str(True)); its variables come in name order.
func renderEnvMapping(tmpl string, vars map[string]any) ([]transport.EnvVar, error) {
	v, err := template.Render(tmpl, vars)
	if err != nil {
		return nil, err
	}
	m, ok := omap.AsMap(v)
	if !ok {
		return nil, fmt.Errorf("%q rendered %s; must be a mapping of environment variables (NAME: value)", tmpl, describeValue(v))
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]transport.EnvVar, 0, len(m))
	for _, k := range names {
		if !envNameRE.MatchString(k) {
			return nil, fmt.Errorf("%q rendered the variable name %q; names must be letters, digits and _ (not starting with a digit)", tmpl, k)
		}
		var s string
		switch x := m[k].(type) {
		case string: // a variable's value may hold templates of its own
			if s, err = renderVar(x, vars); err != nil {
				return nil, fmt.Errorf("%q: %s: %w", tmpl, k, err)
			}
		case bool:
			s = map[bool]string{true: "True", false: "False"}[x]
		case int, int64, uint64:
			s = fmt.Sprint(x)
		case float64:
			s = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			return nil, fmt.Errorf("%q rendered %s: %s; must be a string, number or boolean", tmpl, k, describeValue(x))
		}
		out = append(out, transport.EnvVar{Name: k, Value: s})
	}
	return out, nil
}

// setEnv returns env with v replacing the variable of its name, or
// following the others.
func setEnv(env []transport.EnvVar, v transport.EnvVar) []transport.EnvVar {
	for i := range env {
		if env[i].Name == v.Name {
			env[i].Value = v.Value
			return env
		}
	}
	return append(env, v)
}
