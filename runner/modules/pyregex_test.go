package modules

import (
	"strings"
	"testing"
)

func TestPyRegexpTranslate(t *testing.T) {
	tests := []struct {
		pattern, subject string
		match            bool
		refused          string // part of the error when refused
	}{
		{pattern: `^(?P<key>\w+)\s*=`, subject: "PermitRootLogin = yes", match: true},
		{pattern: `^#?PermitRootLogin\s`, subject: "#PermitRootLogin yes", match: true},
		{pattern: `a{,2}b$`, subject: "xaab", match: true},
		{pattern: `^a{,2}b$`, subject: "aaab", match: false},
		{pattern: `end\Z`, subject: "the end", match: true},
		{pattern: `(?a)^\d+$`, subject: "42", match: true},
		{pattern: `(?i:permit)x`, subject: "PERMITx", match: true},
		{pattern: `[]x]`, subject: "]", match: true},
		{pattern: `[^]x]`, subject: "]", match: false},
		{pattern: `a(?# a comment)b`, subject: "ab", match: true},
		{pattern: `\u00e9t\u00e9`, subject: "été", match: true},
		{pattern: `^(a)\1`, refused: `backreference \1`},
		{pattern: `(?P<x>a)(?P=x)`, refused: "named backreference"},
		{pattern: `^foo(?!bar)`, refused: "lookahead (?!"},
		{pattern: `(?=x)`, refused: "lookahead (?="},
		{pattern: `(?<=a)b`, refused: "lookbehind (?<="},
		{pattern: `(?<!a)b`, refused: "lookbehind (?<!"},
		{pattern: `(?x) a b`, refused: "verbose flag"},
		{pattern: `(?(1)a|b)`, refused: "conditional"},
		{pattern: `(?>ab)`, refused: "atomic group"},
		{pattern: `a*+`, refused: "possessive"},
		{pattern: `a{1001}`, refused: "at most 1000"},
		{pattern: `[[:alpha:]]`, refused: "POSIX class"},
		{pattern: `(unclosed`, refused: "missing closing )"},
	}
	for _, tt := range tests {
		re, err := compilePyRegexp(tt.pattern)
		if tt.refused != "" {
			if err == nil || !strings.Contains(err.Error(), tt.refused) {
				t.Errorf("%q: err %v, want one containing %q", tt.pattern, err, tt.refused)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.pattern, err)
			continue
		}
		if got := re.re.MatchString(tt.subject); got != tt.match {
			t.Errorf("%q (Go %q) on %q: match %v, want %v", tt.pattern, re.re.String(), tt.subject, got, tt.match)
		}
	}
	if re, _ := compilePyRegexp(`(?m)^x`); !re.multiline {
		t.Error("(?m) at the start: multiline not seen")
	}
}

func TestPyTemplate(t *testing.T) {
	tests := []struct {
		pattern, tpl, subject, want, err string
	}{
		{pattern: `^(\w+)=(.*)$`, tpl: `\1 = \2`, subject: "a=b", want: "a = b"},
		{pattern: `^(?P<k>\w+)=(.*)$`, tpl: `\g<k>:\g<2>$1`, subject: "a=b", want: "a:b$1"},
		{pattern: `(x)`, tpl: `\\1\t\q`, err: `bad escape \q`},
		{pattern: `(x)`, tpl: `[\1]\n\%`, subject: "x", want: "[x]\n\\%"},
		{pattern: `(x)(y)?`, tpl: `<\2>`, subject: "x", want: "<>"},
		{pattern: `(x)`, tpl: `\2`, err: "invalid group reference"},
		{pattern: `(x)`, tpl: `\g<nope>`, err: "unknown group name"},
		{pattern: `(x)`, tpl: `\101\0`, subject: "x", want: "A\x00"},
		{pattern: `(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)`, tpl: `\10|\1`, subject: "abcdefghij", want: "j|a"},
	}
	for _, tt := range tests {
		re, err := compilePyRegexp(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := parsePyTemplate(tt.tpl, re.re)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err %v, want %q", tt.tpl, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.tpl, err)
			continue
		}
		m := re.re.FindSubmatchIndex([]byte(tt.subject))
		if got := string(tpl.expand(nil, []byte(tt.subject), m)); got != tt.want {
			t.Errorf("%q on %q: %q, want %q", tt.tpl, tt.subject, got, tt.want)
		}
	}
}
