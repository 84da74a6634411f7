package modules

import "testing"

func TestReplace(t *testing.T) {
	hosts := "127.0.0.1 localhost\n10.0.0.5 mq1 mq1.old.example\n10.0.0.6 mq2.old.example\n"
	runContentCases(t, "replace", []contentCase{
		{name: "every match", before: sp(hosts),
			args:    `{path: FILE, regexp: '([ \t]+)(\w+)\.old\.example([ \t].*)?$', replace: '\1\2.new.example\3'}`,
			want:    sp("127.0.0.1 localhost\n10.0.0.5 mq1 mq1.new.example\n10.0.0.6 mq2.new.example\n"),
			changed: true},
		{name: "nothing matches", before: sp(hosts), args: `{path: FILE, regexp: 'nomatch', replace: x}`, want: sp(hosts)},
		{name: "between after and before", before: sp("x=1\n<a>\nx=1\n</a>\nx=1\n"),
			args: `{path: FILE, regexp: '^x=1$', replace: 'x=2', after: '<a>', before: '</a>'}`, want: sp("x=1\n<a>\nx=2\n</a>\nx=1\n"), changed: true},
		{name: "after only", before: sp("x=1\n[s]\nx=1\n"),
			args: `{path: FILE, regexp: '^x=1$', replace: 'x=2', after: '\[s\]'}`, want: sp("x=1\n[s]\nx=2\n"), changed: true},
		{name: "section not found", before: sp("x=1\n"),
			args: `{path: FILE, regexp: '^x=1$', replace: 'x=2', after: 'nope'}`, want: sp("x=1\n")},
		{name: "remove lines and keep CRLF", before: sp("a\r\n#x\r\nb"),
			args: `{path: FILE, regexp: '^#.*\r?\n', replace: ''}`, want: sp("a\r\nb"), changed: true},
		{name: "whole match \\g<0>", before: sp("v1\n"),
			args: `{path: FILE, regexp: '^v\d$', replace: 'version \g<0>'}`, want: sp("version v1\n"), changed: true},
		{name: "missing file", args: `{path: FILE, regexp: x}`, err: "does not exist"},
		{name: "non-ASCII with \\w refused", before: sp("café\n"), args: `{path: FILE, regexp: '\w+', replace: x}`, err: "non-ASCII"},
		{name: "lookbehind refused", args: `{path: FILE, regexp: '(?<=a)b'}`, err: "lookbehind"},
		{name: "other encodings refused", args: `{path: FILE, regexp: a, encoding: latin-1}`, err: "only utf-8"},
	})
}
