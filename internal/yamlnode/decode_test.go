package yamlnode

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"tend/internal/diag"
)

type testCommon struct {
	Become bool `yaml:"become"`
}

type testItem struct {
	Name string `yaml:"name,required"`
	Port int    `yaml:"port"`
}

type testArgs struct {
	testCommon `yaml:",inline"`
	Value      string            `yaml:"value,required"`
	Mode       string            `yaml:"mode,omitempty"`
	Count      int               `yaml:"count"`
	Big        int64             `yaml:"big"`
	Small      uint8             `yaml:"small"`
	Ratio      float64           `yaml:"ratio"`
	Reload     bool              `yaml:"reload"`
	Wait       time.Duration     `yaml:"wait"`
	Names      []string          `yaml:"names"`
	Env        map[string]string `yaml:"env"`
	Ordered    OrderedStrings    `yaml:"ordered"`
	Raw        *yaml.Node        `yaml:"raw"`
	Any        any               `yaml:"any"`
	Items      []testItem        `yaml:"items"`
	Text       *string           `yaml:"text"`
	Flag       *bool             `yaml:"flag"`
	Inner      *testItem         `yaml:"inner"`
	Opt        *bool             `yaml:"opt"`
	Skipped    string            `yaml:"-"`
	Untagged   string
}

func decodeString(t *testing.T, src string, opts DecodeOptions) (testArgs, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatalf("test input: %v", err)
	}
	var out testArgs
	err := DecodeStrict("m.yml", &n, &out, opts)
	return out, err
}

func TestDecodeStrictValues(t *testing.T) {
	src := `
value: 0755
mode: yes
count: -12
big: 9000000000
small: 255
ratio: 1e3
reload: True
wait: 1m30s
names: one
env: {A: 0755, B: "x"}
ordered: {z: 1, a: on}
raw: {keep: [1, 2]}
any: {mode: 0755, n: 3, f: 1.5, list: [yes, 1e3], t: true}
items: [{name: a, port: 22}, {name: b}]
inner: {name: c}
opt: false
become: true
untagged: u
`
	got, err := decodeString(t, src, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"string keeps octal text", got.Value, "0755"},
		{"string keeps yes", got.Mode, "yes"},
		{"int", got.Count, -12},
		{"int64", got.Big, int64(9000000000)},
		{"uint8", got.Small, uint8(255)},
		{"float exponent", got.Ratio, 1000.0},
		{"bool", got.Reload, true},
		{"duration", got.Wait, 90 * time.Second},
		{"scalar to list", got.Names, []string{"one"}},
		{"map", got.Env, map[string]string{"A": "0755", "B": "x"}},
		{"ordered keys", got.Ordered.Keys, []string{"z", "a"}},
		{"ordered values", got.Ordered.Values, map[string]string{"z": "1", "a": "on"}},
		{"raw node", got.Raw.Kind, yaml.MappingNode},
		{"raw line", got.Raw.Line, 13},
		{"any", got.Any, map[string]any{"mode": "0755", "n": 3, "f": 1.5, "list": []any{"yes", "1e3"}, "t": true}},
		{"items", got.Items, []testItem{{"a", 22}, {"b", 0}}},
		{"pointer struct", *got.Inner, testItem{Name: "c"}},
		{"pointer bool", *got.Opt, false},
		{"inline", got.Become, true},
		{"untagged", got.Untagged, "u"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestDecodeStrictErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		opts DecodeOptions
		want []string
	}{
		{"unknown key", "value: x\nvalu: y\n", DecodeOptions{}, []string{`m.yml:2:1: valu: unknown key; did you mean "value"?`}},
		{"unknown far key", "value: x\nzzzzzzzz: y\n", DecodeOptions{}, []string{"zzzzzzzz: unknown key"}},
		{"duplicate", "value: x\nvalue: y\n", DecodeOptions{}, []string{"m.yml:2:1: value: duplicate key (first at line 1, again at line 2)"}},
		{"missing required", "mode: x\n", DecodeOptions{}, []string{"m.yml:1:1: value: missing required key"}},
		{"null required", "value: ~\n", DecodeOptions{}, []string{"value: missing required key"}},
		{"nested required", "value: x\nitems: [{port: 1}]\n", DecodeOptions{}, []string{"m.yml:2:9: items[0].name: missing required key"}},
		{"octal int", "value: x\ncount: 0755\n", DecodeOptions{}, []string{`m.yml:2:8: count: must be a decimal integer, not "0755"`}},
		{"exponent int", "value: x\ncount: 1e3\n", DecodeOptions{}, []string{"count: must be a decimal integer"}},
		{"yes int", "value: x\ncount: yes\n", DecodeOptions{}, []string{"count: must be a decimal integer"}},
		{"quoted int with a leading zero", "value: x\ncount: \"05\"\n", DecodeOptions{}, []string{"count: must be a decimal integer"}},
		{"quoted duration words", "value: x\nwait: \"5 s\"\n", DecodeOptions{}, []string{`wait: must be a duration like "30s"`}},
		{"hex int", "value: x\ncount: 0x1F\n", DecodeOptions{}, []string{"count: must be a decimal integer"}},
		{"overflow", "value: x\nsmall: 256\n", DecodeOptions{}, []string{"small: must be a decimal integer between 0 and 255"}},
		{"int64 overflow", "value: x\nbig: 99999999999999999999\n", DecodeOptions{}, []string{"big: 99999999999999999999 is out of range"}},
		{"maybe bool", "value: x\nreload: maybe\n", DecodeOptions{}, []string{`m.yml:2:9: reload: must be true or false, not "maybe"`}},
		{"list bool", "value: x\nreload: [yes]\n", DecodeOptions{}, []string{"reload: must be true or false, not a list"}},
		{"bad duration", "value: x\nwait: 5 minutes\n", DecodeOptions{}, []string{`wait: must be a duration like "30s"`}},
		{"octal duration", "value: x\nwait: 010\n", DecodeOptions{}, []string{"wait: must be a duration"}},
		{"inf float", "value: x\nratio: .inf\n", DecodeOptions{}, []string{"ratio: must be a decimal number"}},
		{"list for string", "value: [a]\n", DecodeOptions{}, []string{"m.yml:1:8: value: must be a string, not a list"}},
		{"mapping for list", "value: x\nnames: {a: b}\n", DecodeOptions{}, []string{"names: must be a list, not a mapping"}},
		{"list for map", "value: x\nenv: [a]\n", DecodeOptions{}, []string{"env: must be a mapping, not a list"}},
		{"nested value in map", "value: x\nenv: {A: [1]}\n", DecodeOptions{}, []string{"env.A: must be a string, not a list"}},
		{"nested in ordered", "value: x\nordered: {A: {b: 1}}\n", DecodeOptions{}, []string{"ordered.A: must be a string"}},
		{"scalar args", "just text\n", DecodeOptions{}, []string{"m.yml:1:1: must be a mapping"}},
		{"template without option", "value: x\ncount: \"{{ n }}\"\n", DecodeOptions{}, []string{"count: must be a decimal integer"}},
		{"template is still a string elsewhere", "value: x\ncount: 07\n", DecodeOptions{AllowTemplates: true}, []string{"count: must be a decimal integer"}},
		{"merge key", "value: x\n<<: {mode: y}\n", DecodeOptions{}, []string{"merge keys (<<) are not supported"}},
		{"several", "valu: x\ncount: yes\n", DecodeOptions{}, []string{"valu: unknown key", "count: must be a decimal integer", "value: missing required key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeString(t, tt.src, tt.opts)
			if err == nil {
				t.Fatalf("DecodeStrict succeeded, want %q", tt.want)
			}
			var pe *diag.Error
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *diag.Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestDecodeStrictTemplates(t *testing.T) {
	src := "value: \"{{ v }}\"\ncount: \"{{ n }}\"\nreload: \"{{ r }}\"\nwait: \"{{ w }}\"\nnames: \"{{ l }}\"\nenv: \"{{ e }}\"\nitems: \"{{ i }}\"\ntext: \"{{ t }}\\n\"\nflag: \"{{ f }}\"\n"
	got, err := decodeString(t, src, DecodeOptions{AllowTemplates: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.Value != "{{ v }}" || got.Count != 0 || got.Reload || got.Wait != 0 || got.Env != nil || got.Items != nil {
		t.Errorf("templated fields decoded as %+v", got)
	}
	// A string of decimal digits is a number where one is meant, as Ansible
	// takes "8080" for an int argument: what "{{ p }}" of -e p=8080 renders.
	digits, err := decodeString(t, "value: x\ncount: \"5\"\nwait: \"30\"\n", DecodeOptions{})
	if err != nil || digits.Count != 5 || digits.Wait != 30*time.Second {
		t.Errorf("quoted digits: count %d, wait %v, err %v", digits.Count, digits.Wait, err)
	}
	// An optional string (copy's content) keeps its text: it is given, its
	// value known once rendered; an optional bool stays unset.
	if got.Text == nil || *got.Text != "{{ t }}\n" || got.Flag != nil {
		t.Errorf("optional fields: text %v, flag %v", got.Text, got.Flag)
	}
	if !reflect.DeepEqual(got.Names, []string{"{{ l }}"}) {
		t.Errorf("names = %q", got.Names)
	}
}

func TestDecodeStrictEmptyAndMisuse(t *testing.T) {
	var opt struct {
		A string `yaml:"a"`
	}
	if err := DecodeStrict("m.yml", nil, &opt, DecodeOptions{}); err != nil {
		t.Errorf("nil node: %v", err)
	}
	var req struct {
		A string `yaml:"a,required"`
	}
	if err := DecodeStrict("m.yml", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: 4, Column: 9}, &req, DecodeOptions{}); err == nil || !strings.Contains(err.Error(), "m.yml:4:9: a: missing required key") {
		t.Errorf("null node with required key: %v", err)
	}
	misuse := []any{nil, opt, new(int), &struct {
		C chan int `yaml:"c"`
	}{}, &struct {
		A string `yaml:"x"`
		B string `yaml:"x"`
	}{}}
	for _, out := range misuse {
		n := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "c", Tag: "!!str"}, {Kind: yaml.ScalarNode, Value: "1", Tag: "!!int"}}}
		err := DecodeStrict("m.yml", n, out, DecodeOptions{})
		var pe *diag.Error
		if err == nil || errors.As(err, &pe) {
			t.Errorf("DecodeStrict(%T) = %v, want a plain misuse error", out, err)
		}
	}
}

// TestDecodeNumbersFromText: a template renders a computed number as text
// ("{{ n * 1.5 }}" is "3.0" in Ansible 2.14), and Ansible's int and float
// arguments take it; so do tend's.
func TestDecodeNumbersFromText(t *testing.T) {
	got, err := decodeString(t, "value: x\nratio: \"3.0\"\ncount: \"6\"\n", DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Ratio != 3.0 || got.Count != 6 {
		t.Errorf("ratio %v count %v, want 3 and 6", got.Ratio, got.Count)
	}
	if _, err := decodeString(t, "value: x\nratio: \"3 0\"\n", DecodeOptions{}); err == nil || !strings.Contains(err.Error(), "ratio: must be a decimal number") {
		t.Errorf("ratio \"3 0\": %v, want must be a decimal number", err)
	}
}
