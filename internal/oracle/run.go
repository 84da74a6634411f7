package oracle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"tend/internal/lab"
)

// Lab is a pair of identical lab hosts: Ansible runs on one, tend on the
// other. Each has a private /etc (lab.WithOverlayEtc).
type Lab struct {
	lab     *lab.Lab
	ansible *lab.Host
	tend    *lab.Host
	dir     string
	tendBin string
	ansBin  string
	// users are the login accounts made on both hosts so far (LoginUsers).
	users map[string]bool
}

// Host is the inventory name both tools know their host by.
const Host = "target"

// Root is the directory the harness empties on both hosts before a case.
const Root = "/etc/oracle"

// buildTend builds cmd/tend into dir (the Go build cache makes a second
// build in the same test process cheap).
func buildTend(dir string) (string, error) {
	bin := filepath.Join(dir, "tend")
	out, err := exec.Command("go", "build", "-o", bin, "tend/cmd/tend").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("oracle: build tend: %v\n%s", err, out)
	}
	return bin, nil
}

// NewLab brings up the two hosts and builds tend. It skips the test when
// ansible-playbook is not installed.
func NewLab(t TB) *Lab {
	t.Helper()
	ans, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skipf("ansible-playbook not installed; differential tests skipped")
	}
	bin, err := buildTend(t.TempDir())
	if err != nil {
		t.Fatalf("%v", err)
	}
	l := lab.New(t, 2, lab.WithOverlayEtc())
	return &Lab{lab: l, ansible: l.Hosts[0], tend: l.Hosts[1], dir: t.TempDir(), tendBin: bin, ansBin: ans}
}

// Run runs the case: seeds both hosts, then a check run, an apply and a
// second apply by each tool, comparing after each. A difference is a test
// error naming the run, the path or the task.
func (l *Lab) Run(t TB, c Case) {
	t.Helper()
	// Each tool runs its own copy of the playbook's directory: what one
	// brings to the controller (fetch) is never seen by the other.
	ansDir, tndDir := t.TempDir(), t.TempDir()
	for _, dir := range []string{ansDir, tndDir} {
		if err := writeController(dir, c); err != nil {
			t.Fatalf("%v", err)
		}
	}
	for _, h := range []*lab.Host{l.ansible, l.tend} {
		if err := seed(h, c.Seeds); err != nil {
			t.Fatalf("%v", err)
		}
	}
	l.addUsers(t, c.LoginUsers)
	for _, srv := range c.Serve {
		for _, h := range []*lab.Host{l.ansible, l.tend} {
			p, err := serve(t, h, srv)
			if err != nil {
				t.Fatalf("%v", err)
			}
			defer p.Stop()
		}
	}
	initial, err := l.snapshot(l.ansible, c)
	if err != nil {
		t.Fatalf("%v", err)
	}
	initialTend, err := l.snapshot(l.tend, c)
	if err != nil {
		t.Fatalf("%v", err)
	}
	for _, run := range []struct {
		name  string
		check bool
	}{{"check", true}, {"apply", false}, {"second apply", false}} {
		ans, ansOut := l.runAnsible(t, ansDir, filepath.Join(ansDir, "playbook.yml"), c, run.check)
		tnd, tndOut := l.runTend(t, tndDir, filepath.Join(tndDir, "playbook.yml"), c, run.check)
		diffs := reconcile(run.name, c.Differences, ans, &tnd)
		diffs = append(diffs, compareOutcomes(ans, tnd)...)
		a, err := l.snapshot(l.ansible, c)
		if err != nil {
			t.Fatalf("%v", err)
		}
		b, err := l.snapshot(l.tend, c)
		if err != nil {
			t.Fatalf("%v", err)
		}
		diffs = append(diffs, compareStates(a, b)...)
		diffs = append(diffs, l.compareOutputs(c)...)
		ca, err := controllerTrees(ansDir, c.CompareController)
		if err != nil {
			t.Fatalf("%v", err)
		}
		cb, err := controllerTrees(tndDir, c.CompareController)
		if err != nil {
			t.Fatalf("%v", err)
		}
		for _, d := range compareTrees(ca, cb) {
			diffs = append(diffs, "controller: "+d)
		}
		if run.check {
			// Both dry runs must have left every file as seeded.
			for _, d := range compareStates(initial, a) {
				diffs = append(diffs, "ansible's check changed the host: "+d)
			}
			for _, d := range append(compareStates(initial, b), untouched(initialTend, b)...) {
				diffs = append(diffs, "tend's check changed the host: "+d)
			}
		}
		if run.name == "apply" {
			diffs = append(diffs, l.compareBackups(c, a, b)...)
		}
		if len(diffs) > 0 {
			t.Errorf("%s: %s: tend differs from ansible-playbook:\n  %s\n--- ansible-playbook output\n%s\n--- tend output\n%s",
				c.Name, run.name, strings.Join(diffs, "\n  "), ansOut, tndOut)
			return
		}
	}
}

// writeController writes the case's playbook and controller files into dir.
func writeController(dir string, c Case) error {
	if err := os.WriteFile(filepath.Join(dir, "playbook.yml"), []byte(c.Playbook), 0o644); err != nil {
		return err
	}
	for name, data := range c.Controller {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// controllerTrees lists each of rels under dir as compareTrees reads a
// tree: "REL|TYPE|MODE|UID:GID|SHA256" lines (a file alone is one line
// with an empty REL); nil when rel does not exist.
func controllerTrees(dir string, rels []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, rel := range rels {
		root := filepath.Join(dir, filepath.FromSlash(rel))
		var lines []string
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return filepath.SkipAll
			}
			if err != nil {
				return err
			}
			fi, err := os.Lstat(p)
			if err != nil {
				return err
			}
			r, _ := filepath.Rel(root, p)
			if r == "." && fi.IsDir() {
				return nil
			}
			if r == "." {
				r = ""
			}
			typ, sum := "directory", "-"
			switch {
			case fi.Mode().IsRegular():
				typ = "regular file"
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				h := sha256.Sum256(b)
				sum = hex.EncodeToString(h[:])
			case fi.Mode()&fs.ModeSymlink != 0:
				typ = "symbolic link"
			}
			st := fi.Sys().(*syscall.Stat_t)
			lines = append(lines, fmt.Sprintf("%s|%s|%o|%d:%d|%s", r, typ, fi.Mode().Perm(), st.Uid, st.Gid, sum))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("oracle: controller %s: %w", rel, err)
		}
		out[rel] = lines
	}
	return out, nil
}

// runAnsible runs ansible-playbook on the Ansible host.
func (l *Lab) runAnsible(t TB, dir, pb string, c Case, check bool) (Outcome, string) {
	t.Helper()
	inv := filepath.Join(dir, "ansible-inventory.ini")
	writeInventory(t, inv, l.ansible, l.lab.ClientKey, c)
	cfg := filepath.Join(dir, "ansible.cfg")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatalf("%v", err)
	}
	args := append([]string{"-i", inv, pb}, userArgs(c)...)
	if check {
		args = append(args, "--check")
	}
	for _, v := range c.ExtraVars {
		args = append(args, "-e", v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.ansBin, args...)
	cmd.Dir = dir // as a user runs it: a relative path delegated to localhost lands here
	home := filepath.Join(dir, "home")
	cmd.Env = append(os.Environ(), "HOME="+home, "ANSIBLE_CONFIG="+cfg,
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "ansible-local"),
		"ANSIBLE_PIPELINING=True", "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0",
		"ANSIBLE_RETRY_FILES_ENABLED=False", "ANSIBLE_DEPRECATION_WARNINGS=False",
		"ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3", "ANSIBLE_STDOUT_CALLBACK=default",
		"ANSIBLE_HOST_KEY_CHECKING=True",
		// The lab's known_hosts, strictly; no ControlPersist master left behind.
		"ANSIBLE_SSH_ARGS=-o ControlMaster=no -o ControlPersist=no -o UserKnownHostsFile="+l.lab.KnownHosts+
			" -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	o, perr := ParseAnsible(out.String(), Host)
	if perr != nil {
		t.Fatalf("ansible-playbook %s: %v (%v)\n%s", strings.Join(args, " "), perr, err, out.String())
	}
	return o, out.String()
}

// runTend runs tend on the tend host.
func (l *Lab) runTend(t TB, dir, pb string, c Case, check bool) (Outcome, string) {
	t.Helper()
	inv := filepath.Join(dir, "tend-inventory.ini")
	writeInventory(t, inv, l.tend, l.lab.ClientKey, c)
	args := []string{"run", pb, "-i", inv, "--known-hosts", l.lab.KnownHosts, "--format", "json",
		"--lock-file", filepath.Join(dir, "tend.lock")}
	args = append(args, userArgs(c)...)
	if check {
		args = append(args, "--check")
	}
	for _, v := range c.ExtraVars {
		args = append(args, "-e", v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.tendBin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	o, perr := ParseTend(stdout.String(), Host)
	if perr != nil {
		t.Fatalf("tend %s: %v (%v)\n%s\n%s", strings.Join(args, " "), perr, err, stdout.String(), stderr.String())
	}
	return o, stdout.String() + stderr.String()
}

// writeInventory names the host for a tool; with login users it gives no
// ansible_user, which would win over a task's remote_user.
func writeInventory(t TB, p string, h *lab.Host, key string, c Case) {
	t.Helper()
	user := " ansible_user=root"
	if len(c.LoginUsers) > 0 {
		user = ""
	}
	inv := fmt.Sprintf("%s ansible_host=%s ansible_port=%d%s ansible_ssh_private_key_file=%s\n", Host, h.Addr, h.Port, user, key)
	if err := os.WriteFile(p, []byte(inv), 0o644); err != nil {
		t.Fatalf("%v", err)
	}
}

// seedScript empties Root, then writes each seed: $1 path, $2 mode (or
// "link"), $3 base64 content or link target, repeated.
const seedScript = `set -e
rm -rf -- "$0"
while [ $# -gt 0 ]; do
	mkdir -p -- "$(dirname -- "$1")"
	rm -f -- "$1"
	if [ "$2" = link ]; then
		ln -s -- "$3" "$1"
	else
		printf '%s' "$3" | base64 -d > "$1"
		chmod "$2" -- "$1"
	fi
	shift 3
done`

func seed(h *lab.Host, seeds []Seed) error {
	argv := []string{"/bin/sh", "-c", seedScript, Root}
	for _, s := range seeds {
		if s.Link != "" {
			argv = append(argv, s.Path, "link", s.Link)
			continue
		}
		argv = append(argv, s.Path, strconv.FormatUint(uint64(s.Mode.Perm()), 8), base64.StdEncoding.EncodeToString(s.Content))
	}
	if _, _, err := h.Exec(context.Background(), argv...); err != nil {
		return fmt.Errorf("oracle: seed %s: %w", h.Name, err)
	}
	return nil
}

// userArgs is -u root when the inventory gives no user (LoginUsers).
func userArgs(c Case) []string {
	if len(c.LoginUsers) == 0 {
		return nil
	}
	return []string{"-u", "root"}
}

// addUsers makes the case's login accounts on both hosts, once per lab.
func (l *Lab) addUsers(t TB, names []string) {
	t.Helper()
	for _, name := range names {
		if l.users[name] {
			continue
		}
		for _, h := range []*lab.Host{l.ansible, l.tend} {
			h.AddUser(t, lab.User{Name: name})
		}
		if l.users == nil {
			l.users = map[string]bool{}
		}
		l.users[name] = true
	}
}

// compareOutputs runs the case's compare-output commands on both hosts
// and lists where their standard output (or their failure) differs.
func (l *Lab) compareOutputs(c Case) []string {
	var diffs []string
	for _, argv := range c.CompareOutput {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		a, _, errA := l.ansible.Exec(ctx, argv...)
		b, _, errB := l.tend.Exec(ctx, argv...)
		cancel()
		name := strings.Join(argv, " ")
		switch {
		case (errA == nil) != (errB == nil):
			diffs = append(diffs, fmt.Sprintf("%s: ansible's host: %v; tend's host: %v", name, errA, errB))
		case a != b:
			diffs = append(diffs, fmt.Sprintf("%s: output differs:\n--- ansible's host\n%s--- tend's host\n%s", name, a, b))
		}
	}
	return diffs
}
