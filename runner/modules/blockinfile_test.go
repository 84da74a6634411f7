package modules

import "testing"

func TestBlockinfile(t *testing.T) {
	limits := "# limits\n*  soft  nofile  1024\n"
	block := "# BEGIN ANSIBLE MANAGED BLOCK\nactivemq soft nofile 65536\nactivemq hard nofile 65536\n# END ANSIBLE MANAGED BLOCK\n"
	runContentCases(t, "blockinfile", []contentCase{
		{name: "appended at EOF", before: sp(limits),
			args:    "{path: FILE, block: \"activemq soft nofile 65536\\nactivemq hard nofile 65536\"}",
			want:    sp(limits + block),
			changed: true},
		{name: "already there", before: sp(limits + block),
			args: "{path: FILE, block: \"activemq soft nofile 65536\\nactivemq hard nofile 65536\\n\"}", want: sp(limits + block)},
		{name: "replaced in place", before: sp("a\n" + block + "z\n"),
			args: "{path: FILE, content: x}", want: sp("a\n# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\nz\n"), changed: true},
		{name: "removed", before: sp("a\n" + block + "z"),
			args: "{path: FILE, state: absent}", want: sp("a\nz"), changed: true},
		{name: "nothing to remove: a last line without newline stays", before: sp("a\nz"),
			args: "{path: FILE, state: absent}", want: sp("a\nz")},
		{name: "empty block removes", before: sp("a\n" + block),
			args: "{path: FILE, block: ''}", want: sp("a\n"), changed: true},
		{name: "custom marker and insertbefore and no final newline", before: sp("[a]\nx=1\n[b]\ny=2"),
			args:    "{path: FILE, marker: '; {mark} tend', marker_begin: start, marker_end: stop, insertbefore: '^\\[b\\]', block: z=3}",
			want:    sp("[a]\nx=1\n; start tend\nz=3\n; stop tend\n[b]\ny=2"),
			changed: true},
		{name: "insertafter a multiline pattern", before: sp("a\nb\nc\n"),
			args: "{path: FILE, insertafter: '(?m)^b$', block: x}", want: sp("a\nb\n# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\nc\n"), changed: true},
		{name: "insertbefore BOF after a last line without newline", before: sp("a"),
			args: "{path: FILE, insertbefore: BOF, block: x}", want: sp("# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\na"), changed: true},
		{name: "create an empty file", args: "{path: FILE, create: true}", want: sp(""), changed: true},
		{name: "absent on a missing file", args: "{path: FILE, state: absent}"},
		{name: "missing without create", args: "{path: FILE, block: x}", err: "does not exist"},
		{name: "same markers refused", args: "{path: FILE, block: x, marker: '# managed'}", err: "same line"},
		{name: "both inserts refused", args: "{path: FILE, block: x, insertafter: EOF, insertbefore: BOF}", err: "mutually exclusive"},
	})
}
