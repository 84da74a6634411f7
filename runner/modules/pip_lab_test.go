package modules

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tend/runner/plan"
)

// writeToyWheel writes a minimal pure-Python wheel of toypkg at version
// into dir (no network: pip installs it with --no-index --find-links).
func writeToyWheel(t *testing.T, dir, version string) string {
	t.Helper()
	info := "toypkg-" + version + ".dist-info/"
	files := [][2]string{
		{"toypkg/__init__.py", "VERSION = " + fmt.Sprintf("%q", version) + "\n"},
		{info + "METADATA", "Metadata-Version: 2.1\nName: toypkg\nVersion: " + version + "\nSummary: tend's pip fixture\n"},
		{info + "WHEEL", "Wheel-Version: 1.0\nGenerator: tend-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	}
	var record strings.Builder
	for _, f := range files {
		sum := sha256.Sum256([]byte(f[1]))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f[0], base64.RawURLEncoding.EncodeToString(sum[:]), len(f[1]))
	}
	record.WriteString(info + "RECORD,,\n")
	files = append(files, [2]string{info + "RECORD", record.String()})
	p := filepath.Join(dir, "toypkg-"+version+"-py3-none-any.whl")
	out, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(out)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f[0], Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLabPip: pip over SSH through sudo, into virtualenvs under a private
// temporary directory (never the system python): the virtualenv created
// on first use (not by the dry run), a pinned version, an upgrade with
// state latest, the dry run's answer from pip list, absent, requirements
// relative to chdir (changed by the freeze before and after), umask, and
// pip's own failure; each second run changes nothing. Mutations seen
// failing it: Apply always changed, the virtualenv never created, version
// ignored, Check not reading pip list, umask ignored, every specifier
// satisfied.
func TestLabPip(t *testing.T) {
	ctx := context.Background()
	_, root := sudoLab(t)
	dir := t.TempDir()
	wheels := filepath.Join(dir, "wheels")
	os.Mkdir(wheels, 0o755)
	writeToyWheel(t, wheels, "1.0")
	writeToyWheel(t, wheels, "2.0")
	venv := filepath.Join(dir, "venv")
	site := filepath.Join(venv, "lib", fmt.Sprintf("python3.%s", pyMinor(t)), "site-packages")
	base := "virtualenv: " + venv + "\nvirtualenv_command: /usr/bin/python3 -m venv\n"
	extra := "extra_args: --no-index --disable-pip-version-check --find-links " + wheels + "\n"

	step := func(what, args string, wantCheck, wantApply plan.Action) plan.Change {
		t.Helper()
		mod, err := newPip(Args{Node: argsNode(t, args), File: "play.yml"})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		dry, err := mod.Check(ctx, root)
		if err != nil || dry.Failed || dry.Action != wantCheck {
			t.Fatalf("%s: check: %v %s %q %s", what, err, dry.Action, dry.Summary, dry.Msg)
		}
		if !dry.Changed() || wantApply == "" {
			return dry
		}
		got, err := mod.Apply(ctx, root, dry)
		if err != nil || got.Failed || got.Action != wantApply {
			t.Fatalf("%s: apply: %v %s %q %s\nstdout: %v\nstderr: %v", what, err, got.Action, got.Summary, got.Msg, got.Data["stdout"], got.Data["stderr"])
		}
		return got
	}
	installed := func(want string) {
		t.Helper()
		ents, _ := filepath.Glob(filepath.Join(site, "toypkg-*.dist-info"))
		got := ""
		if len(ents) == 1 {
			got = strings.TrimSuffix(strings.TrimPrefix(filepath.Base(ents[0]), "toypkg-"), ".dist-info")
		}
		if got != want || len(ents) > 1 {
			t.Fatalf("toypkg installed %v, want %q", ents, want)
		}
	}

	// The dry run of a missing virtualenv says it would create it, and does not.
	got := step("dry run only", base+extra+"name: toypkg\nversion: '1.0'", plan.Update, "")
	if !strings.Contains(got.Summary, "would create the virtualenv "+venv) {
		t.Errorf("dry run summary %q", got.Summary)
	}
	if _, err := os.Stat(venv); !os.IsNotExist(err) {
		t.Fatalf("the dry run made the virtualenv: %v", err)
	}
	got = step("install 1.0", base+extra+"name: toypkg\nversion: '1.0'", plan.Update, plan.Update)
	installed("1.0")
	if _, err := os.Stat(filepath.Join(venv, "bin", "activate")); err != nil {
		t.Fatal(err)
	}
	cmd, _ := got.Data["cmd"].([]any)
	if len(cmd) < 3 || cmd[0] != filepath.Join(venv, "bin", "pip3") || cmd[len(cmd)-1] != "toypkg==1.0" ||
		got.Data["virtualenv"] != venv || got.Data["version"] != "1.0" || got.Data["state"] != "present" ||
		!strings.Contains(got.Data["stdout"].(string), "Successfully installed toypkg-1.0") {
		t.Errorf("registered %v", got.Data)
	}
	// With extra_args only pip can tell (Ansible's check mode says changed); pip changes nothing.
	step("install 1.0 again", base+extra+"name: toypkg\nversion: '1.0'", plan.Update, plan.None)
	step("latest", base+extra+"name: toypkg\nstate: latest", plan.Update, plan.Update)
	installed("2.0")
	step("latest again", base+extra+"name: toypkg\nstate: latest", plan.Update, plan.None)

	// Without extra_args (the index set in the virtualenv's pip.conf) the
	// dry run reads pip list.
	mustWrite(t, filepath.Join(venv, "pip.conf"), "[global]\nno-index = true\ndisable-pip-version-check = true\nfind-links = "+wheels+"\n", 0o644)
	got = step("present, satisfied", base+"name: toypkg", plan.None, "")
	if got.Summary != "toypkg 2.0" {
		t.Errorf("summary %q", got.Summary)
	}
	got = step("pin 1.0", base+"name: ['toypkg==1.0']", plan.Update, plan.Update)
	if !strings.Contains(got.Summary, "Successfully installed toypkg-1.0") {
		t.Errorf("summary %q", got.Summary)
	}
	installed("1.0")
	step("pin 1.0 again", base+"name: ['toypkg==1.0']", plan.None, "")
	got = step("absent", base+"name: toypkg\nstate: absent", plan.Update, plan.Update)
	if !strings.Contains(got.Summary, "Successfully uninstalled toypkg-1.0") {
		t.Errorf("summary %q", got.Summary)
	}
	installed("")
	step("absent again", base+"name: toypkg\nstate: absent", plan.None, "")

	// requirements, relative to chdir, with a relative virtualenv: changed
	// is the freeze before and after.
	mustWrite(t, filepath.Join(dir, "req.txt"), "toypkg==2.0\n", 0o644)
	reqs := "requirements: req.txt\nchdir: " + dir + "\nvirtualenv: venv\nvirtualenv_command: /usr/bin/python3 -m venv\n"
	step("requirements", reqs, plan.Update, plan.Update)
	installed("2.0")
	step("requirements again", reqs, plan.Update, plan.None)
	step("forcereinstall", base+"name: toypkg\nstate: forcereinstall", plan.Update, plan.Update)
	installed("2.0")

	// Without virtualenv or executable: the host's python3 -m pip, read only
	// (absent of a name no one has: nothing to do, nothing run but pip list).
	got = step("system pip, read only", "name: tend-no-such-pkg\nstate: absent", plan.None, "")
	if cmd, _ := got.Data["cmd"].([]any); len(cmd) < 3 || cmd[0] != "/usr/bin/python3" || cmd[2] != "pip.__main__" || got.Data["virtualenv"] != nil {
		t.Errorf("system pip registered %v", got.Data)
	}

	// umask applies to the virtualenv pip creates.
	v2 := filepath.Join(dir, "private")
	step("umask", "virtualenv: "+v2+"\nvirtualenv_command: /usr/bin/python3 -m venv\numask: '0077'\n"+extra+"name: toypkg", plan.Update, plan.Update)
	if m := modeOf(t, filepath.Join(v2, "bin")).Perm(); m != 0o700 {
		t.Errorf("umask 0077: %s/bin has mode %v", v2, m)
	}

	// pip's own failure is the task's, with Ansible's message.
	mod, err := newPip(Args{Node: argsNode(t, base+"name: nosuchpkg"), File: "play.yml"})
	if err != nil {
		t.Fatal(err)
	}
	dry, err := mod.Check(ctx, root)
	if err != nil || dry.Action != plan.Update {
		t.Fatalf("nosuchpkg check: %v %s", err, dry.Action)
	}
	bad, err := mod.Apply(ctx, root, dry)
	if err != nil || !bad.Failed || !strings.Contains(bad.Msg, "No matching distribution found for nosuchpkg") || !strings.HasPrefix(bad.Msg, "stdout: ") {
		t.Errorf("nosuchpkg: %v %v %q", err, bad.Failed, bad.Msg)
	}
}

// pyMinor is /usr/bin/python3's minor version (11 for 3.11), for the
// virtualenv's site-packages path.
func pyMinor(t *testing.T) string {
	t.Helper()
	ents, _ := filepath.Glob("/usr/lib/python3.*/ensurepip")
	if len(ents) != 1 {
		t.Fatalf("python3 -m venv: want exactly one /usr/lib/python3.*/ensurepip (python3-venv), got %v", ents)
	}
	return strings.TrimPrefix(filepath.Base(filepath.Dir(ents[0])), "python3.")
}
