package modules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"tend/runner/plan"
	"tend/runner/transport"
)

// contentCase runs one content-module task on a real local file: the file
// holds before (absent when nil), the task's arguments are args (YAML, with
// FILE standing for the file's path). want is the content after apply (nil:
// still absent); changed what check and apply report; err a part of the
// error (from New, Check, or the failed result).
type contentCase struct {
	name    string
	before  *string
	args    string
	want    *string
	changed bool
	err     string
}

func sp(s string) *string { return &s }

// newModule builds a module from YAML arguments as the runner would.
func newModule(t *testing.T, name, args string) (Module, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(args), &doc); err != nil {
		t.Fatalf("bad test YAML: %v", err)
	}
	spec, ok := Lookup(name)
	if !ok {
		t.Fatalf("no module %s", name)
	}
	return spec.New(Args{Node: doc.Content[0], File: "play.yml"})
}

func runContentCases(t *testing.T, module string, cases []contentCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			p := filepath.Join(dir, "f.conf")
			if tc.before != nil {
				if err := os.WriteFile(p, []byte(*tc.before), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			m, err := newModule(t, module, strings.ReplaceAll(tc.args, "FILE", p))
			if err == nil {
				var c plan.Change
				if c, err = m.Check(ctx, transport.Local()); err == nil {
					if c.Changed() != tc.changed {
						t.Errorf("check: changed %v, want %v (%s)", c.Changed(), tc.changed, c.Summary)
					}
					if got := readOrNil(t, p); !eqPtr(got, tc.before) {
						t.Fatalf("check wrote the file: %q", *got)
					}
					if c.Changed() {
						if c, err = m.Apply(ctx, transport.Local(), c); err == nil && c.Failed {
							err = errString(c.Msg)
						}
					}
				}
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one containing %q", err, tc.err)
				}
				if got := readOrNil(t, p); !eqPtr(got, tc.before) {
					t.Errorf("a failed task changed the file: %q", *got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := readOrNil(t, p); !eqPtr(got, tc.want) {
				t.Errorf("content %s, want %s", showPtr(got), showPtr(tc.want))
			}
			// A second run changes nothing.
			c, err := m.Check(ctx, transport.Local())
			if err != nil || c.Changed() {
				t.Errorf("second check: %v changed=%v: %s", err, c.Changed(), c.Summary)
			}
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func readOrNil(t *testing.T, p string) *string {
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	return &s
}

func eqPtr(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func showPtr(s *string) string {
	if s == nil {
		return "(absent)"
	}
	return "\n" + *s
}
