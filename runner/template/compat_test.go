package template_test

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"testing"

	"tend/runner/template"
	"tend/runner/template/templatetest"
)

// tend is runner/template as a templatetest engine.
var tend = templatetest.Engine{
	Render: template.Render,
	IsUndefined: func(err error) bool {
		var ue *template.UndefinedError
		return errors.As(err, &ue)
	},
}

// TestAnsibleDifferential renders every case of the compatibility table
// with tend and with ansible-core's Templar (the oracle, run by python3)
// and requires the same value, or the same kind of error; a case marked
// `differs` must give tend's documented result instead.
func TestAnsibleDifferential(t *testing.T) {
	python := templatetest.Python()
	if python == "" {
		t.Skip("python3 with ansible-core (python3-jinja2) not installed; scripts/test.sh installs it")
	}
	t.Setenv(templatetest.EnvName, templatetest.EnvValue)
	os.Unsetenv("TEND_COMPAT_UNSET")
	vars, cases, err := templatetest.Load(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want, err := templatetest.Oracle(python, vars, cases)
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]int{}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%s/%03d", c.Group, i), func(t *testing.T) {
			got, err := template.Render(c.Template, vars)
			ok, why := false, ""
			if c.Differs != "" {
				ok, why = templatetest.MatchDiffers(c, got, err)
			} else {
				ok, why = templatetest.Match(tend, got, err, want[i])
			}
			if !ok {
				failed[c.Group]++
				t.Errorf("%s: %s", c.Template, why)
			}
		})
	}
	if len(failed) > 0 {
		groups := make([]string, 0, len(failed))
		for g, n := range failed {
			groups = append(groups, fmt.Sprintf("%s:%d", g, n))
		}
		sort.Strings(groups)
		t.Logf("mismatches by group: %v", groups)
	}
}
