package inventory

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// script writes an executable inventory script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inv.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestScriptWithMeta: the script sits in testdata/dir, so that directory's
// group_vars/ apply to it too, as in Ansible.
func TestScriptWithMeta(t *testing.T) {
	inv, err := Load("testdata/dir/03-dynamic.sh")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(inv.Hosts()), []string{"vm-1", "vm-2", "vm-3", "app02.example.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("hosts = %v, want %v", got, want)
	}
	vm1, _ := inv.Host("vm-1")
	if want := map[string]any{"provider": "group_vars-cloud", "site": "dir", "ansible_host": "198.51.100.1", "n": 1}; !reflect.DeepEqual(vm1.Vars, want) {
		t.Errorf("vm-1 vars = %v, want %v", vm1.Vars, want)
	}
	vm3, _ := inv.Host("vm-3")
	if want := []string{"all", "cloud", "cloud_eu"}; !reflect.DeepEqual(vm3.Groups, want) {
		t.Errorf("vm-3 groups = %v, want %v", vm3.Groups, want)
	}
}

func TestScriptWithoutMeta(t *testing.T) {
	inv, err := Load("testdata/scripts/nometa.sh")
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]map[string]any{
		"w1":     {"dc": "dc1", "ansible_user": "deploy", "port": 8081, "ansible_host": "192.0.2.1"},
		"w2":     {"dc": "dc1", "ansible_user": "deploy", "port": 8080},
		"d1":     {"dc": "dc1", "role": "primary", "weights": []any{1, 2.5}, "nested": map[string]any{"a": nil}},
		"lonely": {"dc": "dc1", "answer": 42},
	} {
		h, ok := inv.Host(host)
		if !ok || !reflect.DeepEqual(h.Vars, want) {
			t.Errorf("%s vars = %v, want %v", host, h.Vars, want)
		}
	}
}

func TestScriptErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, msg string
	}{
		{"exit status", "echo 'cannot reach the cloud API' >&2; exit 3", "--list failed (exit status 3): cannot reach the cloud API"},
		{"bad JSON", "printf '{\\n  \"web\": [\"a\",]\\n}'", "--list output: line 2 col 15: invalid character ']'"},
		{"truncated JSON", "printf '{\"web\": [\"a\"'", "unexpected end of JSON"},
		{"not an object", "echo '[\"a\"]'", "must be a JSON object of groups, not a list"},
		{"duplicate group", `echo '{"web": [], "web": []}'`, `duplicate key "web"`},
		{"hosts not a list", `echo '{"web": {"hosts": "a"}}'`, `group "web": hosts must be a list of names, not a string`},
		{"vars not an object", `echo '{"web": {"hosts": ["a"], "vars": [1]}}'`, "vars must be an object"},
		{"bad group name", `echo '{"web servers": ["a"]}'`, `group name "web servers"`},
		{"unsafe host", `echo '{"web": ["-oProxyCommand=touch /tmp/x"]}'`, `must not start with "-"`},
		{"unsafe host var", `echo '{"web": ["a"], "_meta": {"hostvars": {"a": {"ansible_host": "a;id"}}}}'`, `host "a": ansible_host "a;id" contains ';'`},
		{"bad hostvars", `echo '{"web": ["a"], "_meta": {"hostvars": []}}'`, "_meta.hostvars must be an object"},
		{"cycle", `echo '{"a": {"children": ["b"]}, "b": {"children": ["a"]}}'`, "would be its own ancestor"},
		{"--host fails", `[ "$1" = --list ] && echo '{"web": ["a"]}' || { echo nope >&2; exit 1; }`, "--host a failed (exit status 1): nope"},
		{"--host bad JSON", `[ "$1" = --list ] && echo '{"web": ["a"]}' || echo '{'`, "--host a output: line 1 col"},
		{"too much output", "yes", "--list printed more than 64 MiB"},
		{"not UTF-8", `printf '{"w\377": []}'`, "not UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := script(t, tc.body)
			_, err := Load(path)
			var e *Error
			if !errors.As(err, &e) || e.File != path || !strings.Contains(e.Msg, tc.msg) {
				t.Fatalf("error = %v, want *Error for %s containing %q", err, path, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), path+": inventory script: ") {
				t.Errorf("error %q does not name the script first", err)
			}
		})
	}
}

// TestScriptTimeout: a hung script is ended and named, its children with
// it (sleep here, holding the output pipe open).
func TestScriptTimeout(t *testing.T) {
	path := script(t, "sleep 30\n")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := LoadContext(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "--list did not finish in time") {
		t.Errorf("error = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Load took %v after the deadline", d)
	}
}

// TestDirectorySource: a directory loads YAML, INI and scripts in lexical
// order, recursively, skipping what Ansible skips, with its group_vars/.
func TestDirectorySource(t *testing.T) {
	inv, err := Load("testdata/dir")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"app01.example.com", "app02.example.com", "app03.example.com", "app-x", "app-y", "app-z",
		"10.0.1.1", "10.0.1.2", "10.0.1.3", "db1.example.com", "vm-1", "vm-2", "vm-3"}
	if got := names(inv.Hosts()); !reflect.DeepEqual(got, want) {
		t.Errorf("hosts = %v\nwant    %v", got, want)
	}
	app1, _ := inv.Host("app01.example.com")
	if want := map[string]any{"tier": "front", "ini_var": 1, "from_yaml": "group_vars-app", "from_sub": true, "site": "dir"}; !reflect.DeepEqual(app1.Vars, want) {
		t.Errorf("app01 vars = %v, want %v", app1.Vars, want)
	}
	ip, _ := inv.Host("10.0.1.2")
	if ip.Port() != 2200 {
		t.Errorf("10.0.1.2 port = %d", ip.Port())
	}
	vm2, _ := inv.Host("vm-2")
	if vm2.Vars["n"] != 2 || vm2.Vars["provider"] != "group_vars-cloud" {
		t.Errorf("vm-2 vars = %v", vm2.Vars)
	}
}

func TestHostListSource(t *testing.T) {
	inv, err := Load("web1,web2:2222, [2001:db8::1]:22,")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(inv.Hosts()); !reflect.DeepEqual(got, []string{"web1", "web2", "2001:db8::1"}) {
		t.Errorf("hosts = %v", got)
	}
	if h, _ := inv.Host("web2"); h.Port() != 2222 {
		t.Errorf("web2 port = %d", h.Port())
	}
	for _, src := range []string{"web[1:2],", "-oProxyCommand=x,y"} {
		if _, err := Load(src); err == nil {
			t.Errorf("Load(%q) succeeded", src)
		}
	}
}
