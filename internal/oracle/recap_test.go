package oracle

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const ansibleOut = `
PLAY [Harden sshd] *************************************************************

TASK [Disable root login] ******************************************************
changed: [target]

TASK [Skip me] *****************************************************************
skipping: [target]

TASK [Include] *****************************************************************
included: /tmp/x/tasks/step.yml for other, target
included: /tmp/x/tasks/step.yml for target => (item=a)
included: /tmp/x/tasks/step.yml for other => (item=b)

TASK [r : In a role] ***********************************************************
ok: [target]

TASK [Each] ********************************************************************
changed: [target] => (item={'key': 'z', 'value': 1})
ok: [target] => (item={'key': 'a', 'value': 2})

TASK [Broken] ******************************************************************
fatal: [target]: FAILED! => {"changed": false, "msg": "failed to validate"}
...ignoring

RUNNING HANDLER [restart sshd] *************************************************
ok: [target]

PLAY RECAP *********************************************************************
other                      : ok=9    changed=9    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
target                     : ok=6    changed=1    unreachable=0    failed=0    skipped=1    rescued=2    ignored=1
`

const tendOut = `{"event":"run_start","data":{"schema":1}}
{"event":"play_start","data":{"name":"p","hosts":["target"]}}
{"event":"task","data":{"host":"target","task":"Disable root login","phase":"task","status":"changed"}}
{"event":"task","data":{"host":"target","task":"Skip me","phase":"task","status":"skipped"}}
{"event":"task","data":{"host":"target","task":"Include","phase":"task","status":"ok"}}
{"event":"task","data":{"host":"target","task":"Include","phase":"task","status":"ok","item":"a"}}
{"event":"task","data":{"host":"target","task":"In a role","phase":"task","status":"ok"}}
{"event":"task","data":{"host":"target","task":"Each","phase":"task","status":"changed","item":"{'key': 'z', 'value': 1}"}}
{"event":"task","data":{"host":"target","task":"Each","phase":"task","status":"ok","item":"{'key': 'a', 'value': 2}"}}
{"event":"task","data":{"host":"target","task":"Each","phase":"task","status":"changed","loop":{"items":2,"ok":1,"changed":1}}}
{"event":"task","data":{"host":"target","task":"Broken","phase":"task","status":"failed","ignored":true}}
{"event":"task","data":{"host":"target","task":"restart sshd","phase":"handler","status":"ok"}}
{"event":"task","data":{"host":"target","task":"Disable root login","phase":"recheck","status":"ok"}}
{"event":"summary","data":{"hosts":[{"host":"target","ok":5,"changed":1,"failed":0,"skipped":1,"unreachable":0,"ignored":1,"rescued":2}]}}`

// The two parsers read the same run the same way: per-task statuses and
// the recap in Ansible's terms (tend's recheck left out, its ok made to
// count changed and ignored tasks as Ansible's does).
func TestParseBothTools(t *testing.T) {
	a, err := ParseAnsible(ansibleOut, Host)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseTend(tendOut, Host)
	if err != nil {
		t.Fatal(err)
	}
	want := Outcome{
		Recap: Recap{OK: 6, Changed: 1, Skipped: 1, Rescued: 2, Ignored: 1},
		Tasks: []TaskResult{{"Disable root login", "changed", false}, {"Skip me", "skipped", false},
			{"Include", "ok", false}, {"Include", "ok", false}, {"In a role", "ok", false},
			{"Each", "changed", false}, {"Each", "ok", false}, // per item; tend's closing event left out
			{"Broken", "failed", true}, {"restart sshd", "ok", false}},
	}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("ansible: %+v\nwant %+v", a, want)
	}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("tend: %+v\nwant %+v", b, want)
	}
	if d := compareOutcomes(a, b); len(d) > 0 {
		t.Errorf("compareOutcomes: %v", d)
	}
	b.Tasks[0].Status = "ok"
	if d := compareOutcomes(a, b); len(d) != 1 || !strings.Contains(d[0], "task 1") {
		t.Errorf("compareOutcomes missed a task difference: %v", d)
	}
	if _, err := ParseAnsible("PLAY [x]\n", Host); err == nil {
		t.Error("no recap: want an error")
	}
}

func TestBackupNames(t *testing.T) {
	for name, want := range map[string]bool{
		"sshd_config.tend-backup.20261206T235959.123456789":   true,
		"sshd_config.tend-backup.20261206T235959.123456789.1": true,
		"sshd_config.12345.2026-12-06@23:59:59~":              true,
		"sshd_config":                                         false,
		"sshd_config.d":                                       false,
		"other.12345.2026-12-06@23:59:59~":                    false,
	} {
		if got := backupOf(name, "sshd_config"); got != want {
			t.Errorf("backupOf(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestLoadCaseDirectives(t *testing.T) {
	cs, err := LoadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Name == "lineinfile-create-crlf-symlink" {
			for _, s := range c.Seeds {
				if s.Path == "/etc/oracle/win/settings.ini" && string(s.Content) != "[main]\r\nretries=3\r\nname=app" {
					t.Errorf("crlf + no-final-newline seed: %q", s.Content)
				}
				if s.Path == "/etc/oracle/link/current.conf" && s.Link != "real.conf" {
					t.Errorf("link seed: %+v", s)
				}
			}
		}
	}
}

// TestLoadCaseCompareOutput: compare-output keeps a command's words (not
// paths), and wants at least one.
func TestLoadCaseCompareOutput(t *testing.T) {
	c, err := LoadCase(filepath.Join("testdata", "ufw", "ufw-hardening.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"env", "LANG=C", "ufw", "status", "verbose"}}; !reflect.DeepEqual(c.CompareOutput, want) {
		t.Errorf("compare-output: got %q, want %q", c.CompareOutput, want)
	}
	p := filepath.Join(t.TempDir(), "bad.txtar")
	if err := os.WriteFile(p, []byte("compare-output\n-- playbook.yml --\n- hosts: all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCase(p); err == nil || !strings.Contains(err.Error(), "compare-output: want a command") {
		t.Errorf("empty compare-output: %v", err)
	}
}

// TestLoadCaseServers: serve-tls and serve-socket make servers, tls-pki
// seeds a CA's files (keys private), and bad forms are refused.
func TestLoadCaseServers(t *testing.T) {
	c, err := LoadCase("testdata/uri-tls.txtar")
	if err != nil {
		t.Fatal(err)
	}
	want := []Server{{Port: 18443, Dir: "/etc/oracle/www", TLS: "/etc/oracle/tls"}, {Socket: "/etc/oracle/run/api.sock", Dir: "/etc/oracle/www"}}
	if len(c.Serve) != 2 || c.Serve[0] != want[0] || c.Serve[1] != want[1] {
		t.Errorf("servers %+v, want %+v", c.Serve, want)
	}
	modes := map[string]fs.FileMode{}
	for _, s := range c.Seeds {
		modes[s.Path] = s.Mode
	}
	if modes["/etc/oracle/tls/ca.crt"] != 0o644 || modes["/etc/oracle/tls/client.key"] != 0o600 || modes["/etc/oracle/tls/server.key"] != 0o600 {
		t.Errorf("tls-pki seeds: %v", modes)
	}
	dir := t.TempDir()
	for _, tc := range []struct{ directive, want string }{
		{"serve-tls 18443 /srv", "want PORT DIR PKI"},
		{"serve-tls 80 /srv /pki", "want 1024-65535"},
		{"serve-socket run/x.sock /srv", "is not an absolute path"},
		{"tls-pki", "want DIR"},
	} {
		f := filepath.Join(dir, "c.txtar")
		if err := os.WriteFile(f, []byte(tc.directive+"\ncompare /etc/x\n-- playbook.yml --\n- hosts: all\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCase(f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.directive, err, tc.want)
		}
	}
}
