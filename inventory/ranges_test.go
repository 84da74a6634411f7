package inventory

import (
	"reflect"
	"strings"
	"testing"
)

func TestExpandHostKey(t *testing.T) {
	for _, tc := range []struct {
		key   string
		names []string
		port  int
	}{
		{"web1", []string{"web1"}, 0},
		{"web1:2222", []string{"web1"}, 2222},
		{"mq[01:03].example.com", []string{"mq01.example.com", "mq02.example.com", "mq03.example.com"}, 0},
		{"mq[1:3]", []string{"mq1", "mq2", "mq3"}, 0},
		{"mq[:2]", []string{"mq0", "mq1", "mq2"}, 0},
		{"h[1:10:3]", []string{"h1", "h4", "h7", "h10"}, 0},
		{"h[01:10:4]", []string{"h01", "h05", "h09"}, 0},
		{"x[a:c]", []string{"xa", "xb", "xc"}, 0},
		{"x[a:e:2]", []string{"xa", "xc", "xe"}, 0},
		{"x[y:B]", []string{"xy", "xz", "xA", "xB"}, 0}, // Python's ascii_letters order
		{"r[1:2]-n[a:b]", []string{"r1-na", "r1-nb", "r2-na", "r2-nb"}, 0},
		{"db[1:2].lan:2200", []string{"db1.lan", "db2.lan"}, 2200},
		{"10.0.0.[1:3]", []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}, 0},
		{"10.0.0.1:22", []string{"10.0.0.1"}, 22},
		{"h:022", []string{"h"}, 22},
		{"2001:db8::1", []string{"2001:db8::1"}, 0},
		{"[2001:db8::1]:2200", []string{"2001:db8::1"}, 2200},
	} {
		names, port, err := expandHostKey(tc.key)
		if err != nil || !reflect.DeepEqual(names, tc.names) || port != tc.port {
			t.Errorf("expandHostKey(%q) = %v, %d, %v; want %v, %d", tc.key, names, port, err, tc.names, tc.port)
		}
	}
}

func TestExpandHostKeyErrors(t *testing.T) {
	for key, msg := range map[string]string{
		"h[1:2:3:4]":       "must be begin:end or begin:end:step",
		"h[1:]":            "must specify an end value",
		"h[01:100]":        "equal-length begin and end",
		"h[c:a]":           "begin <= end",
		"h[5:1]":           "is empty",
		"h[1:5:0]":         "step",
		"h[1:b]":           "numbers (01:10) or single letters",
		"h[1:2":            "unbalanced",
		"h[0:99999999]":    "more than 100000 hosts",
		"h[0:999]x[0:999]": "more than 100000 hosts",
		"a:b:c":            "neither a host name nor an IPv6 address",
		"h:0":              "port 0",
		"-h[1:2]":          `must not start with "-"`,
	} {
		if _, _, err := expandHostKey(key); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("expandHostKey(%q) error = %v, want %q", key, err, msg)
		}
	}
}
