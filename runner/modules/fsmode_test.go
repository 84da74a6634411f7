package modules

import (
	"fmt"
	"strings"
	"testing"
)

func TestFileModeApply(t *testing.T) {
	for _, tc := range []struct {
		mode  string
		cur   uint32
		dir   bool
		umask uint32
		want  uint32
	}{
		{"0644", 0o777, false, 0o022, 0o644},
		{"644", 0o000, false, 0o022, 0o644},
		{"1777", 0o755, true, 0o022, 0o1777},
		{"u+x", 0o644, false, 0o022, 0o744},
		{"u+rwx,g-w", 0o664, false, 0o022, 0o744},
		{"o=", 0o757, false, 0o022, 0o750},
		{"go=r", 0o777, false, 0o022, 0o744},
		{"a-w", 0o666, false, 0o022, 0o444},
		{"ugo+r", 0o000, false, 0o022, 0o444},
		{"+x", 0o644, false, 0o022, 0o755},
		{"+w", 0o444, false, 0o022, 0o644}, // the umask keeps g and o from w
		{"=r", 0o777, false, 0o022, 0o444}, // = clears, the umask leaves r
		{"u=rwX,g=rX,o=", 0o666, false, 0o022, 0o640},
		{"u=rwX,g=rX,o=", 0o666, true, 0o022, 0o750},
		{"a+X", 0o644, false, 0o022, 0o644}, // no x anywhere on a file: X adds none
		{"a+X", 0o744, false, 0o022, 0o755},
		{"g=u", 0o740, false, 0o022, 0o770},
		{"o=g", 0o750, false, 0o022, 0o755},
		{"u+s,g+s", 0o755, false, 0o022, 0o6755},
		{"+t", 0o777, true, 0o022, 0o1777},
		{"u=rw,u-w+x", 0o000, false, 0o022, 0o500},
		{"u=", 0o4755, false, 0o022, 0o055}, // = on u clears setuid
	} {
		t.Run(fmt.Sprintf("%s_%o", tc.mode, tc.cur), func(t *testing.T) {
			m, err := parseFileMode(tc.mode)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.apply(tc.cur, tc.dir, tc.umask); got != tc.want {
				t.Errorf("%s on %04o (dir %v): %04o, want %04o", tc.mode, tc.cur, tc.dir, got, tc.want)
			}
		})
	}
}

func TestFileModeErrors(t *testing.T) {
	for _, tc := range []struct{ mode, want string }{
		{"", "empty mode"},
		{"8644", "no operator"},
		{"77777", "out of range"},
		{"rwx", "no operator"},
		{"z+x", `'z' is not u, g, o or a`},
		{"u+q", "permissions are letters"},
		{"u+ug", "permissions are letters"},
	} {
		if _, err := parseFileMode(tc.mode); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.mode, err, tc.want)
		}
	}
}

func TestFindAgeSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		age  bool
		want int64
		err  bool
	}{
		{"2d", true, 2 * 86400, false},
		{"-1w", true, -604800, false},
		{"30", true, 30, false},
		{"5M", true, 300, false},
		{"1h", true, 3600, false},
		{"2y", true, 0, true},
		{"d", true, 0, true},
		{"10m", false, 10 << 20, false},
		{"-1k", false, -1024, false},
		{"512", false, 512, false},
		{"2G", false, 2 << 30, false},
		{"1t", false, 1 << 40, false},
		{"1.5m", false, 0, true},
		{"10mb", false, 0, true},
	} {
		parse := parseFindSize
		if tc.age {
			parse = parseFindAge
		}
		got, err := parse(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%q (age %v): %d %v, want %d (error %v)", tc.in, tc.age, got, err, tc.want, tc.err)
		}
	}
}

func TestFindGlob(t *testing.T) {
	for _, tc := range []struct {
		pat, name string
		want      bool
	}{
		{"*.log", "a.log", true},
		{"*.log", "a.log.1", false},
		{"*.log", ".hidden.log", true}, // hidden is filtered apart, as in Ansible
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"[ab]*", "bz", true},
		{"[!ab]*", "bz", false},
		{"[!ab]*", "cz", true},
		{"x[", "x[", true},
		{"a.b", "axb", false},
		{"(a|b)", "(a|b)", true},
		{"*", "line\nbreak", true},
	} {
		re, err := findPattern(tc.pat, false)
		if err != nil {
			t.Fatalf("%q: %v", tc.pat, err)
		}
		if got := re.MatchString(tc.name); got != tc.want {
			t.Errorf("%q ~ %q = %v, want %v", tc.pat, tc.name, got, tc.want)
		}
	}
	re, _ := findPattern(`a\d`, true)
	if !re.MatchString("a1.log") || re.MatchString("xa1") {
		t.Errorf("use_regex must anchor at the start only, as re.match")
	}
}

// TestFileStateArgErrors: bad arguments are refused at decode time (before
// any host) with file:line:col, the field, and a did-you-mean.
func TestFileStateArgErrors(t *testing.T) {
	for _, tc := range []struct {
		module, src, want string
	}{
		{"file", "path: /x\nstate: dir", "play.yml:2:8: file: state must be one of file, directory, absent, touch, link, hard"},
		{"file", "path: /x\nmod: '0644'", `play.yml:2:1: mod: unknown key; did you mean "mode"?`},
		{"file", "path: ~/x", `play.yml:1:7: file: path "~/x": tend expands no ~`},
		{"file", "path: /x\nmode: u+q", "play.yml:2:7: file: mode \"u+q\""},
		{"file", "path: /\nstate: absent", "play.yml:1:7: file: refusing to delete /"},
		{"file", "path: /x\nstate: link", "play.yml:2:8: file: state: link needs src"},
		{"file", "path: /x\ndest: /y", "play.yml:2:7: file: give path or dest, not both"},
		{"file", "path: /x\nrecurse: maybe", "play.yml:2:10: recurse: must be true or false, not \"maybe\""},
		{"stat", "path: /x\nchecksum_algorithm: crc", "play.yml:2:21: stat: checksum_algorithm must be one of"},
		{"find", "paths: /x\nage: 2y", "play.yml:2:6: find: age \"2y\""},
		{"find", "paths: /x\nsize: 1.5m", "play.yml:2:7: find: size \"1.5m\""},
		{"find", "paths: /x\nfile_type: dir", "play.yml:2:12: find: file_type must be one of"},
		{"find", "paths: /x\npatterns: '(a'\nuse_regex: true", "play.yml:2:11: find: pattern \"(a\""},
		{"find", "patterns: '*.log'", "find: paths is required"},
		{"find", "paths: /x\nrecures: true", `did you mean "recurse"?`},
		{"copy", "dest: /x", "play.yml:1:7: copy: give src (a file beside the playbook) or content"},
		{"copy", "dest: /x\ncontent: a\nvalidate: visudo -cf", "play.yml:3:11: copy: validate must contain %s"},
		{"copy", "dest: /x\nsrc: no-such-file-tend", "play.yml:2:6: copy: src \"no-such-file-tend\" not found"},
		{"copy", "dest: /x\ncontent: a\nmode: preserve", "play.yml:3:7: copy: mode: preserve needs src"},
		{"command", "cmd: ls\nexecutable: /bin/bash", "play.yml:2:13: command: executable chooses the shell"},
		{"shell", "cmd: ls\nexecutable: bash", `play.yml:2:13: shell: executable "bash" must be an absolute path`},
		{"command", "cmd: ls\ncreate: /x", `did you mean "creates"?`},
		{"sysctl", "name: net.ipv4.tcp_fin_timeout\nvalue: '30'\nignoreerror: true", `did you mean "ignoreerrors"?`},
	} {
		spec, _ := Lookup(tc.module)
		_, err := spec.New(Args{Node: argsNode(t, tc.src), File: "play.yml"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q:\n got %v\nwant %q", tc.module, tc.src, err, tc.want)
		}
	}
}
