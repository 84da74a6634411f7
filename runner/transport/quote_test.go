package transport

import (
	"context"
	"testing"
)

var trickyValues = []string{
	"",
	"plain",
	"with space",
	"it's",
	"''",
	`'\''`,
	"a;b",
	"; touch /tmp/x",
	"$(id)",
	"${HOME}",
	"`id`",
	"line1\nline2",
	"trailing newline\n",
	"-n",
	"--help",
	"-",
	`back\slash`,
	`"double"`,
	"tab\there",
	"*?[a-z]",
	"~root",
	"a|b&c>d<e",
	"#comment",
	"!event",
	"\x01\x7f\xff",
	"ünïcødé",
}

func TestShellQuoteTable(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "''"},
		{"abc", "'abc'"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"'", `''\'''`},
		{"a;b", "'a;b'"},
		{"$(id)", "'$(id)'"},
		{"`id`", "'`id`'"},
		{"a\nb", "'a\nb'"},
		{"-rf", "'-rf'"},
	}
	for _, c := range cases {
		if got := ShellQuote(c.in); got != c.want {
			t.Errorf("ShellQuote(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got, want := ShellJoin([]string{"echo", "a b", "it's"}), `'echo' 'a b' 'it'\''s'`; got != want {
		t.Errorf("ShellJoin = %q, want %q", got, want)
	}
}

// TestShellQuoteRoundTrip has a real shell parse every quoted value back.
func TestShellQuoteRoundTrip(t *testing.T) {
	for _, v := range trickyValues {
		res, err := Local().Run(context.Background(), Command{Argv: []string{"/bin/sh", "-c", "printf %s " + ShellQuote(v)}})
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if string(res.Stdout) != v || res.ExitCode != 0 {
			t.Errorf("round trip of %q: got %q (exit %d, stderr %q)", v, res.Stdout, res.ExitCode, res.Stderr)
		}
	}
	// The whole argv as one command line, as the SSH transport sends it.
	argv := append([]string{"printf", `%s\0`}, trickyValues...)
	res, err := Local().Run(context.Background(), Command{Argv: []string{"/bin/sh", "-c", ShellJoin(argv)}})
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for _, v := range trickyValues {
		want += v + "\x00"
	}
	if string(res.Stdout) != want {
		t.Errorf("ShellJoin round trip: got %q, want %q", res.Stdout, want)
	}
}

func TestValidateArgv(t *testing.T) {
	for _, argv := range [][]string{nil, {}, {""}, {"echo", "a\x00b"}, {"a\x00"}, {"-oProxyCommand=x"}, {"A=B", "x"}} {
		if err := ValidateArgv(argv); err == nil {
			t.Errorf("ValidateArgv(%q) = nil, want error", argv)
		}
	}
	if err := ValidateArgv([]string{"echo", "", "-n"}); err != nil {
		t.Errorf("ValidateArgv: %v", err)
	}
}
