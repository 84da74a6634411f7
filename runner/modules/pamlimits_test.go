package modules

import (
	"strings"
	"testing"
)

// TestEditPamLimits: the module's line rules over file content.
func TestEditPamLimits(t *testing.T) {
	joe := pamLimit{domain: "joe", typ: "soft", item: "nofile", value: "64000"}
	with := func(f func(*pamLimit)) pamLimit { l := joe; f(&l); return l }
	for _, c := range []struct {
		name    string
		in      string
		l       pamLimit
		want    string
		msg     string
		wantErr string
	}{
		{name: "empty file: appended", in: "", l: joe, want: "joe\tsoft\tnofile\t64000\n", msg: "joe\tsoft\tnofile\t64000\n"},
		{name: "existing line replaced, others byte-identical",
			in:   "# head\n*   hard  core 0\njoe   soft   nofile   1024\n@mq - nproc 10\n",
			l:    joe,
			want: "# head\n*   hard  core 0\njoe\tsoft\tnofile\t64000\n@mq - nproc 10\n"},
		{name: "same value: line kept with its spacing", in: "joe  soft nofile 64000\n", l: joe,
			want: "joe  soft nofile 64000\n", msg: "joe  soft nofile 64000\n"},
		{name: "commented line left alone, new line appended", in: "#joe soft nofile 1024\n", l: joe,
			want: "#joe soft nofile 1024\njoe\tsoft\tnofile\t64000\n"},
		{name: "other type is another line", in: "joe hard nofile 1024\n", l: joe,
			want: "joe hard nofile 1024\njoe\tsoft\tnofile\t64000\n"},
		{name: "dash type matches only dash", in: "@mq - nofile 1024\n@mq soft nofile 1\n",
			l:    pamLimit{domain: "@mq", typ: "-", item: "nofile", value: "65536"},
			want: "@mq\t-\tnofile\t65536\n@mq soft nofile 1\n"},
		{name: "use_max keeps a larger value", in: "joe soft nofile 100000\n", l: with(func(l *pamLimit) { l.useMax = true }),
			want: "joe soft nofile 100000\n", msg: "joe soft nofile 100000\n"},
		{name: "use_max raises a smaller value", in: "joe soft nofile 1024\n", l: with(func(l *pamLimit) { l.useMax = true }),
			want: "joe\tsoft\tnofile\t64000\n"},
		{name: "use_max keeps unlimited", in: "joe soft nofile unlimited\n", l: with(func(l *pamLimit) { l.useMax = true }),
			want: "joe soft nofile unlimited\n"},
		{name: "use_max: unlimited asked wins", in: "joe soft nofile 5\n", l: with(func(l *pamLimit) { l.useMax = true; l.value = "infinity" }),
			want: "joe\tsoft\tnofile\tinfinity\n"},
		{name: "use_max normalizes as int()", in: "joe soft nofile 0100\n", l: with(func(l *pamLimit) { l.useMax = true; l.value = "99" }),
			want: "joe\tsoft\tnofile\t100\n"},
		{name: "use_min: -1 in the file is no limit", in: "joe soft nofile -1\n", l: with(func(l *pamLimit) { l.useMin = true }),
			want: "joe\tsoft\tnofile\t64000\n"},
		{name: "use_min keeps a smaller value", in: "joe soft nofile 10\n", l: with(func(l *pamLimit) { l.useMin = true }),
			want: "joe soft nofile 10\n"},
		{name: "use_min: both unlimited keeps the file's", in: "joe soft nofile -1\n", l: with(func(l *pamLimit) { l.useMin = true; l.value = "unlimited" }),
			want: "joe soft nofile -1\n"},
		{name: "unlimited replaces a number", in: "joe soft nofile 10\n", l: with(func(l *pamLimit) { l.value = "unlimited" }),
			want: "joe\tsoft\tnofile\tunlimited\n"},
		{name: "comment given", in: "joe soft nofile 10 # old\n", l: with(func(l *pamLimit) { l.comment = "raised for mq" }),
			want: "joe\tsoft\tnofile\t64000\t#raised for mq\n"},
		{name: "no comment: the line's own is carried with its newline", in: "joe soft nofile 10 # old\n", l: joe,
			want: "joe\tsoft\tnofile\t64000\t# old\n\n"},
		{name: "no comment: an earlier line's comment is carried", in: "mq hard nofile 5 # by ops\n", l: joe,
			want: "mq hard nofile 5 # by ops\njoe\tsoft\tnofile\t64000\t# by ops\n\n"},
		{name: "comment at column 0 is not carried", in: "# by ops\n", l: joe,
			want: "# by ops\njoe\tsoft\tnofile\t64000\n"},
		{name: "duplicates: each rewritten, the comment prefixed again", in: "joe soft nofile 1\njoe soft nofile 2\n",
			l:    with(func(l *pamLimit) { l.comment = "c" }),
			want: "joe\tsoft\tnofile\t64000\t#c\njoe\tsoft\tnofile\t64000\t#\t#c\n"},
		{name: "blank and odd lines kept", in: "\n  \t\n joe  soft\tnofile\t1\r\nnot a limit line at all\n", l: joe,
			want: "\n  \t\njoe\tsoft\tnofile\t64000\nnot a limit line at all\n"},
		{name: "no final newline: ended before appending", in: "mq hard nofile 5", l: joe,
			want: "mq hard nofile 5\njoe\tsoft\tnofile\t64000\n"},
		{name: "no final newline on the replaced line", in: "joe soft nofile 5", l: joe,
			want: "joe\tsoft\tnofile\t64000\n"},
		{name: "invalid value in the file fails", in: "mq hard nofile lots\n", l: joe,
			wantErr: "Invalid configuration found in '/f'. Value of 'lots' for item 'nofile' is invalid"},
		{name: "nice out of range in the file fails", in: "mq - nice 30\n", l: joe,
			wantErr: "Value of '30' for item 'nice' is invalid. Value must be a number in the range -20 to 19"},
		{name: "nice -5 is valid", in: "mq - nice -5\n", l: joe, want: "mq - nice -5\njoe\tsoft\tnofile\t64000\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := editPamLimits("/f", []byte(c.in), c.l)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got.after) != c.want {
				t.Errorf("after\n%q\nwant\n%q", got.after, c.want)
			}
			if c.msg != "" && got.msg != c.msg {
				t.Errorf("msg %q, want %q", got.msg, c.msg)
			}
		})
	}
}

// TestPamLimitsArgs: bad arguments are refused before any host, with a
// position.
func TestPamLimitsArgs(t *testing.T) {
	base := "domain: joe\nlimit_type: soft\nlimit_item: nofile\n"
	for _, c := range []struct{ args, want string }{
		{base + "value: 64000", ""},
		{base + "value: unlimited\nuse_max: yes", ""},
		{"domain: joe\nlimit_type: '-'\nlimit_item: nice\nvalue: -20", ""},
		{base + "value: '{{ n }}'", ""},
		{"domain: joe\nlimit_type: soft\nlimit_item: nofiles\nvalue: 1", "play.yml:3:13: pam_limits: limit_item must be one of"},
		{"domain: joe\nlimit_type: both\nlimit_item: nofile\nvalue: 1", "play.yml:2:13: pam_limits: limit_type must be one of hard, soft, -"},
		{base + "value: lots", "play.yml:4:8: pam_limits: Value of 'lots' for item 'nofile' is invalid"},
		{base + "value: 1e3", "Value of '1e3'"},
		{base + "value: 0755", "play.yml:4:8: pam_limits: value 0755 is not a decimal integer"},
		{"domain: joe\nlimit_type: soft\nlimit_item: nice\nvalue: +5", "value +5 is not a decimal integer"},
		{base + "value: '0755'", ""},
		{base + "value: -1", ""},
		{"domain: joe\nlimit_type: soft\nlimit_item: priority\nvalue: 20", "range -20 to 19"},
		{base + "value: 1\nuse_max: true\nuse_min: true", "play.yml:6:10: pam_limits: Cannot use use_min and use_max at the same time."},
		{base + "value: 1\ndest: limits.conf", "must be an absolute path"},
		{"domain: joe bob\nlimit_type: soft\nlimit_item: nofile\nvalue: 1", "play.yml:1:9: pam_limits: domain"},
		{"domain: ''\nlimit_type: soft\nlimit_item: nofile\nvalue: 1", "domain"},
		{base + "value: 1\ncomment: \"a\\nb\"", "comment must be one line"},
		{"domain: '{{ d }}'\nlimit_type: soft\nlimit_item: nofile\nvalue: 1\ncomment: \"a\\rb\"", "comment must be one line"},
		{"domain: joe\nlimit_type: soft\nlimit_item: nofile", "missing required argument: value"},
		{base + "value: 1\nstate: present", "state"},
	} {
		_, err := newModule(t, "pam_limits", c.args)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.args, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: err %v, want %q", c.args, err, c.want)
		}
	}
}
