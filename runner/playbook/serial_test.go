package playbook

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSerialTemplatesAreKeptForTheRunner(t *testing.T) {
	for _, c := range []struct {
		src  string
		want []string
	}{
		{"- hosts: a\n  serial: \"{{ n }}\"\n", []string{"{{ n }}"}},
		{"- hosts: a\n  serial: [1, \"{{ n }}\", 30%]\n", []string{"1", "{{ n }}", "30%"}},
	} {
		pb, err := Parse("pb.yml", []byte(c.src), testModules)
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		if got := pb.Plays[0].Serial; !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: serial %v, want %v", c.src, got, c.want)
		}
	}
	if _, err := Parse("pb.yml", []byte("- hosts: a\n  serial: abc\n"), testModules); err == nil || !strings.Contains(err.Error(), "serial: must be a positive count") {
		t.Errorf("literal serial abc: %v", err)
	}
}

func TestRetriesAndDelayUnsetAreNil(t *testing.T) {
	pb, err := Parse("pb.yml", []byte("- hosts: a\n  tasks:\n    - command: 'true'\n      until: x\n    - command: 'true'\n      until: x\n      retries: 0\n      delay: 0\n"), testModules)
	if err != nil {
		t.Fatal(err)
	}
	a, b := pb.Plays[0].Tasks[0], pb.Plays[0].Tasks[1]
	if a.Retries != nil || a.Delay != nil {
		t.Errorf("unset retries/delay: %v %v, want nil (the runner's defaults apply)", a.Retries, a.Delay)
	}
	if b.Retries == nil || *b.Retries != 0 || b.Delay == nil || *b.Delay != time.Duration(0) {
		t.Errorf("retries: 0, delay: 0 not kept: %v %v", b.Retries, b.Delay)
	}
}
