package modules

import (
	"reflect"
	"strings"
	"testing"
)

// TestSlurpResult: the probe's answers to Ansible's result or message:
// ENOENT (also a dangling symlink), EACCES (a file behind a directory the
// user may not enter is "not readable", not "not found"), EISDIR; tend
// refuses what is not a regular file.
func TestSlurpResult(t *testing.T) {
	const src = "/etc/app.conf"
	ans := func(stat, open, cat string, typ byte, content string) []fsAnswer {
		return []fsAnswer{{op: "stat", status: stat, entry: fsEntry{Type: typ}}, {op: "open", status: open}, {op: "cat", status: cat, content: []byte(content)}}
	}
	for _, tc := range []struct {
		name string
		ans  []fsAnswer
		msg  string
		data map[string]any
	}{
		{"file", ans("ok", "ok", "ok", 'f', "a\x00b\n"), "", map[string]any{"content": "YQBiCg==", "encoding": "base64", "source": src}},
		{"empty", ans("ok", "ok", "ok", 'f', ""), "", map[string]any{"content": "", "encoding": "base64", "source": src}},
		{"missing", ans("absent", "absent", "err", 0, ""), "file not found: " + src, nil},
		{"dangling", ans("dangling", "absent", "err", 'l', ""), "file not found: " + src, nil},
		{"behind a closed directory", ans("absent", "denied", "err", 0, ""), "file is not readable: " + src, nil},
		{"unreadable", ans("ok", "denied", "err", 'f', ""), "file is not readable: " + src, nil},
		{"directory", ans("ok", "ok", "err", 'd', ""), "source is a directory and must be a file: " + src, nil},
		{"fifo", ans("ok", "ok", "err", 'p', ""), "unable to slurp file: " + src + " is not a regular file", nil},
	} {
		got := slurpResult(src, tc.ans)
		if got.Failed != (tc.msg != "") || got.Msg != tc.msg {
			t.Errorf("%s: failed %v %q, want %q", tc.name, got.Failed, got.Msg, tc.msg)
		}
		if tc.data != nil && !reflect.DeepEqual(got.Data, tc.data) {
			t.Errorf("%s: data %v, want %v", tc.name, got.Data, tc.data)
		}
	}
}

// TestSlurpArgs: src or its alias path, absolute; anything else refused
// with its position.
func TestSlurpArgs(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"src: /etc/x", ""},
		{"path: /etc/x", ""},
		{"src: '{{ f }}'", ""},
		{"src: etc/x", `pb.yml:1:6: slurp: src "etc/x" must be an absolute path`},
		{"src: /a\npath: /b", "pb.yml:2:7: slurp: give src or path, not both"},
		{"dest: /etc/x", "pb.yml:1:1: dest: unknown key; valid: path, src"},
		{"{}", "slurp: src is required"},
	} {
		_, err := newSlurp(Args{Node: argsNode(t, tc.args), File: "pb.yml"})
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
