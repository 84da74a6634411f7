// Package templatetest holds tend's templating compatibility table and
// runs it differentially: each case (a template string over shared
// variables) is rendered by an engine under test and by the oracle,
// ansible-core's own Templar (Jinja2 with Ansible's filters, tests,
// lookups and undefined handling), and the two results are compared.
// runner/template's differential test and bench/jinja (which measures
// other engines against the same table) share it.
package templatetest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/omap"
)

//go:embed cases.yaml
var casesYAML []byte

//go:embed oracle.py
var oracleScript string

// EnvName and EnvValue are the environment variable the lookup('env')
// cases read; the caller sets it for both engines (the oracle inherits it).
const (
	EnvName  = "TEND_COMPAT_ENV"
	EnvValue = "from-env"
)

// Case is one row of the table.
type Case struct {
	// Group classifies the case: expr, undefined, stmt, method, filter,
	// test, lookup.
	Group string `yaml:"g"`
	// Template is the template string rendered.
	Template string `yaml:"t"`
	// Differs, when set, says why tend deliberately differs from Ansible
	// here; tend must then give Tend or an error containing TendError.
	Differs   string `yaml:"differs"`
	Tend      any    `yaml:"tend"`
	TendError string `yaml:"tend_error"`
}

// Outcome is what the oracle made of one case: a value, or an error of
// kind "undefined" (an undefined variable) or "error" (anything else).
type Outcome struct {
	OK  any    `json:"ok"`
	Err string `json:"err"`
	Msg string `json:"msg"`
}

// Load returns the table's variables and cases. dir receives the files
// the lookup('file') cases read; its path is the variable files_dir.
// A mapping in the variables is an *omap.Map in written order, as tend's
// variables are, and is sent to the oracle in that order.
func Load(dir string) (map[string]any, []Case, error) {
	var doc struct {
		Vars  map[string]yaml.Node `yaml:"vars"`
		Cases []Case               `yaml:"cases"`
	}
	if err := yaml.Unmarshal(casesYAML, &doc); err != nil {
		return nil, nil, fmt.Errorf("templatetest: cases.yaml: %w", err)
	}
	vars := make(map[string]any, len(doc.Vars)+1)
	for k, n := range doc.Vars {
		v, err := omap.FromYAML(&n)
		if err != nil {
			return nil, nil, fmt.Errorf("templatetest: cases.yaml: %s: %w", k, err)
		}
		vars[k] = v
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from a file\n"), 0o644); err != nil {
		return nil, nil, fmt.Errorf("templatetest: %w", err)
	}
	vars["files_dir"] = dir
	return vars, doc.Cases, nil
}

// Python returns a python3 that can import ansible's Templar (Debian's
// /usr/bin/python3 with ansible-core first), or "" when there is none.
func Python() string {
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import jinja2, ansible.template").Run() == nil {
			return p
		}
	}
	return ""
}

// Oracle renders every case with ansible-core's Templar in one python3
// process and returns the outcomes in case order.
func Oracle(python string, vars map[string]any, cases []Case) ([]Outcome, error) {
	templates := make([]string, len(cases))
	for i, c := range cases {
		templates[i] = c.Template
	}
	req, err := json.Marshal(map[string]any{"vars": vars, "cases": templates})
	if err != nil {
		return nil, fmt.Errorf("templatetest: oracle request: %w", err)
	}
	cmd := exec.Command(python, "-c", oracleScript)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("templatetest: oracle: %w: %s", err, stderr.String())
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	outcomes := make([]Outcome, 0, len(cases))
	for dec.More() {
		var o struct {
			OK  json.RawMessage `json:"ok"`
			Err string          `json:"err"`
			Msg string          `json:"msg"`
		}
		if err := dec.Decode(&o); err != nil {
			return nil, fmt.Errorf("templatetest: oracle output: %w", err)
		}
		var ok any
		if len(o.OK) > 0 { // a dict keeps the order Ansible gave it
			od := json.NewDecoder(bytes.NewReader(o.OK))
			od.UseNumber()
			if ok, err = omap.DecodeJSON(od); err != nil {
				return nil, fmt.Errorf("templatetest: oracle output: %w", err)
			}
		}
		outcomes = append(outcomes, Outcome{OK: ok, Err: o.Err, Msg: o.Msg})
	}
	if len(outcomes) != len(cases) {
		return nil, fmt.Errorf("templatetest: oracle answered %d of %d cases", len(outcomes), len(cases))
	}
	return outcomes, nil
}

// Engine is a template engine under test.
type Engine struct {
	// Render renders a template over vars.
	Render func(tmpl string, vars map[string]any) (any, error)
	// IsUndefined reports whether an error is the engine's undefined-variable
	// error.
	IsUndefined func(error) bool
	// TextOnly engines render to text: their result is compared with the
	// text Jinja2 prints for the oracle's value.
	TextOnly bool
}

// Match compares an engine's result with the oracle's outcome and explains
// a mismatch. Types count: Ansible's "2" (the text of a computed number)
// does not match an engine's 2, nor its "" a null.
func Match(e Engine, got any, gotErr error, want Outcome) (bool, string) {
	switch {
	case want.Err != "" && gotErr == nil:
		return false, fmt.Sprintf("want %s error (%s), got %s", want.Err, want.Msg, Canon(got))
	case want.Err == "undefined":
		if e.IsUndefined != nil && !e.IsUndefined(gotErr) {
			return false, fmt.Sprintf("want an undefined-variable error, got %v", gotErr)
		}
		return true, ""
	case want.Err != "":
		return true, ""
	case gotErr != nil:
		return false, fmt.Sprintf("want %s, got error %v", Canon(want.OK), gotErr)
	}
	if e.TextOnly {
		if s, ok := got.(string); ok && s == PyStr(want.OK) {
			return true, ""
		}
		return false, fmt.Sprintf("want text %q, got %s", PyStr(want.OK), Canon(got))
	}
	if Canon(got) == Canon(want.OK) {
		return true, ""
	}
	return false, fmt.Sprintf("want %s, got %s", Canon(want.OK), Canon(got))
}

// MatchDiffers checks a deliberately different case against tend's own
// expectation.
func MatchDiffers(c Case, got any, gotErr error) (bool, string) {
	if c.TendError != "" {
		if gotErr == nil || !strings.Contains(gotErr.Error(), c.TendError) {
			return false, fmt.Sprintf("want an error containing %q, got %s, %v", c.TendError, Canon(got), gotErr)
		}
		return true, ""
	}
	if gotErr != nil || Canon(got) != Canon(c.Tend) {
		return false, fmt.Sprintf("want %s, got %s, %v", Canon(c.Tend), Canon(got), gotErr)
	}
	return true, ""
}

// Canon is a canonical JSON form that keeps integers and floats apart
// (5 vs 5.0) and sorts the keys of a Go map; an *omap.Map (a variable, or
// a dict the oracle returned) keeps its order, so order is compared.
func Canon(v any) string {
	var b strings.Builder
	canon(&b, v)
	return b.String()
}

func canon(b *strings.Builder, v any) {
	if n, ok := v.(json.Number); ok {
		if strings.ContainsAny(string(n), ".eE") {
			f, _ := n.Float64()
			b.WriteString(pyFloat(f))
		} else {
			b.WriteString(string(n))
		}
		return
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Invalid:
		b.WriteString("null")
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(rv.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		b.WriteString(strconv.FormatUint(rv.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		b.WriteString(pyFloat(rv.Float()))
	case reflect.String:
		q, _ := json.Marshal(rv.String())
		b.Write(q)
	case reflect.Slice, reflect.Array:
		b.WriteByte('[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			canon(b, rv.Index(i).Interface())
		}
		b.WriteByte(']')
	case reflect.Pointer:
		m, ok := v.(*omap.Map)
		if !ok {
			fmt.Fprintf(b, "%q", fmt.Sprint(v))
			return
		}
		b.WriteByte('{')
		for i, k := range m.Keys() {
			if i > 0 {
				b.WriteByte(',')
			}
			canon(b, k)
			b.WriteByte(':')
			e, _ := m.Get(k)
			canon(b, e)
		}
		b.WriteByte('}')
	case reflect.Map:
		keys := make([]string, 0, rv.Len())
		vals := map[string]any{}
		for _, k := range rv.MapKeys() {
			ks := fmt.Sprint(k.Interface())
			keys = append(keys, ks)
			vals[ks] = rv.MapIndex(k).Interface()
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			canon(b, k)
			b.WriteByte(':')
			canon(b, vals[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "%q", fmt.Sprint(v))
	}
}

// pyFloat formats a float as Python's repr does: 5.0, 2.5, 1e+21.
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// PyStr is the text Jinja2 prints for a value: Python's str(), with
// True/False/None and single-quoted strings inside containers.
func PyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	pyRepr(&b, v)
	return b.String()
}

func pyRepr(b *strings.Builder, v any) {
	if n, ok := v.(json.Number); ok {
		canon(b, n)
		return
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Invalid:
		b.WriteString("None")
	case reflect.Bool:
		b.WriteString(map[bool]string{true: "True", false: "False"}[rv.Bool()])
	case reflect.String:
		b.WriteString("'" + strings.ReplaceAll(rv.String(), "'", `\'`) + "'")
	case reflect.Slice, reflect.Array:
		b.WriteByte('[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			pyRepr(b, rv.Index(i).Interface())
		}
		b.WriteByte(']')
	case reflect.Pointer:
		m, ok := v.(*omap.Map)
		if !ok {
			canon(b, v)
			return
		}
		b.WriteByte('{')
		for i, k := range m.Keys() {
			if i > 0 {
				b.WriteString(", ")
			}
			pyRepr(b, k)
			b.WriteString(": ")
			e, _ := m.Get(k)
			pyRepr(b, e)
		}
		b.WriteByte('}')
	case reflect.Map:
		keys := rv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			pyRepr(b, k.Interface())
			b.WriteString(": ")
			pyRepr(b, rv.MapIndex(k).Interface())
		}
		b.WriteByte('}')
	default:
		canon(b, v)
	}
}
