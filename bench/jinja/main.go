// Command jinja measures template engines for tend against the same
// compatibility table as runner/template's differential test
// (runner/template/templatetest: Ansible-style templates, ansible-core's
// Templar as the oracle) and times them on representative templates:
//
//	cd bench/jinja && go run . [-n 200000]
//
// Engines: tend's runner/template (expr-lang underneath) and
// github.com/nikolalohinski/gonja/v2 (a Jinja2 interpreter for Go) with
// its built-in filters and StrictUndefined. It prints a markdown table for
// the README. It lives in its own module so that gonja never enters tend's
// go.mod.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/nikolalohinski/gonja/v2"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"

	"tend/runner/template"
	"tend/runner/template/templatetest"

	"tend/internal/omap"
)

// engines under measurement.
var engines = []struct {
	name string
	eng  templatetest.Engine
}{
	{"tend (runner/template)", templatetest.Engine{Render: template.Render, IsUndefined: func(err error) bool {
		var ue *template.UndefinedError
		return errors.As(err, &ue)
	}}},
	{"gonja v2", templatetest.Engine{Render: gonjaRender, TextOnly: true}},
}

// gonjaCache holds parsed gonja templates, as tend caches its own.
var gonjaCache sync.Map

// gonjaConfig is gonja's default configuration with StrictUndefined, the
// closest to Ansible's undefined handling.
var gonjaConfig = func() *config.Config {
	c := config.New()
	c.StrictUndefined = true
	return c
}()

func gonjaParse(src string) (*exec.Template, error) {
	if t, ok := gonjaCache.Load(src); ok {
		return t.(*exec.Template), nil
	}
	loader, err := loaders.NewFileSystemLoader("")
	if err != nil {
		return nil, err
	}
	shifted, err := loaders.NewShiftedLoader("root", strings.NewReader(src), loader)
	if err != nil {
		return nil, err
	}
	t, err := exec.NewTemplate("root", gonjaConfig, shifted, gonja.DefaultEnvironment)
	if err != nil {
		return nil, err
	}
	gonjaCache.Store(src, t)
	return t, nil
}

// gonjaPanics counts templates that made gonja panic (recovered here).
var gonjaPanics = map[string]bool{}

func gonjaRender(src string, vars map[string]any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			gonjaPanics[src] = true
			out, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	t, err := gonjaParse(src)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	// gonja reads Go maps only: the table's ordered mappings as plain ones.
	if err := t.Execute(&b, exec.NewContext(omap.Plain(vars).(map[string]any))); err != nil {
		return nil, err
	}
	return b.String(), nil
}

// timed are the templates timed: a condition, a filter chain, a mixed
// string, a loop.
var timed = []struct{ name, tmpl string }{
	{"condition", "{{ r.rc == 0 and r.stdout is defined and count | int < 10 }}"},
	{"filter chain", "{{ users | selectattr('admin') | map(attribute='name') | join(',') }}"},
	{"mixed text", "port={{ ports[1] }} host={{ name | upper }} mode={{ mode }}"},
	{"for loop", "{% for u in users %}{{ u.name }}:{{ u.uid }} {% endfor %}"},
	{"if/else", "{% if count > 3 %}big{% else %}small{% endif %}"},
}

func main() {
	flag.Parse()
	os.Setenv(templatetest.EnvName, templatetest.EnvValue)
	dir, err := os.MkdirTemp("", "jinja-bench")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	vars, cases, err := templatetest.Load(dir)
	if err != nil {
		fail(err)
	}
	python := templatetest.Python()
	if python == "" {
		fail(errors.New("python3 with ansible-core is needed for the oracle"))
	}
	want, err := templatetest.Oracle(python, vars, cases)
	if err != nil {
		fail(err)
	}
	groups := []string{}
	seen := map[string]bool{}
	for _, c := range cases {
		if !seen[c.Group] {
			seen[c.Group] = true
			groups = append(groups, c.Group)
		}
	}
	fmt.Printf("| engine | %s | all | parse-time refusal of unknown filter/test |\n", strings.Join(groups, " | "))
	fmt.Printf("|---|%s---|---|\n", strings.Repeat("---|", len(groups)))
	for _, e := range engines {
		right, total := map[string]int{}, map[string]int{}
		var wrong []string
		for i, c := range cases {
			total[c.Group]++
			got, gotErr := e.eng.Render(c.Template, vars)
			ok, why := templatetest.Match(e.eng, got, gotErr, want[i])
			if c.Differs != "" && e.name[:4] == "tend" {
				ok, why = templatetest.MatchDiffers(c, got, gotErr)
			}
			if ok {
				right[c.Group]++
			} else {
				wrong = append(wrong, fmt.Sprintf("  %s: %s", c.Template, why))
			}
		}
		all, n := 0, 0
		cells := []string{}
		for _, g := range groups {
			cells = append(cells, fmt.Sprintf("%d/%d", right[g], total[g]))
			all += right[g]
			n += total[g]
		}
		fmt.Printf("| %s | %s | **%d/%d** | %s |\n", e.name, strings.Join(cells, " | "), all, n, parseRefusal(e.name))
		if os.Getenv("VERBOSE") != "" {
			sort.Strings(wrong)
			fmt.Fprintln(os.Stderr, e.name+" mismatches:\n"+strings.Join(wrong, "\n"))
		}
	}
	for src := range gonjaPanics {
		fmt.Printf("\ngonja panicked on %q\n", src)
	}
	fmt.Println()
	fmt.Printf("| ns/op (compiled once, cached) | %s |\n", strings.Join(names(), " | "))
	fmt.Printf("|---|%s\n", strings.Repeat("---|", len(engines)))
	for _, tt := range timed {
		cells := []string{}
		for _, e := range engines {
			if _, err := e.eng.Render(tt.tmpl, vars); err != nil {
				cells = append(cells, "fails: "+strings.SplitN(err.Error(), ":", 2)[0])
				continue
			}
			r := testing.Benchmark(func(b *testing.B) {
				for b.Loop() {
					if _, err := e.eng.Render(tt.tmpl, vars); err != nil {
						b.Fatal(err)
					}
				}
			})
			cells = append(cells, fmt.Sprintf("%d ns, %d allocs", r.NsPerOp(), r.AllocsPerOp()))
		}
		fmt.Printf("| %s | %s |\n", tt.name, strings.Join(cells, " | "))
	}
}

// parseRefusal reports whether the engine refuses an unknown filter when
// the template is parsed, before any variable is read.
func parseRefusal(name string) string {
	const src = "{{ x | frobnicate }}"
	var err error
	if strings.HasPrefix(name, "tend") {
		err = template.CheckTemplate(src)
	} else {
		_, err = gonjaParse(src)
	}
	if err != nil {
		return "yes"
	}
	return "no (fails when rendered)"
}

func names() []string {
	out := []string{}
	for _, e := range engines {
		out = append(out, e.name)
	}
	return out
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "jinja:", err)
	os.Exit(1)
}
