package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tend/internal/oracle"
)

// roleName is the "ROLE : " Ansible puts before a role's task names.
var roleName = regexp.MustCompile(`^[A-Za-z0-9_.-]+ : `)

// TestLanguageMatchesAnsible is a differential test of language keywords
// (handlers across roles, delegate_facts, add_host, group_by): each
// directory of testdata/lang-diff holds site.yml and inventory.ini (hosts
// with ansible_connection=local) and a file "hosts" naming the hosts to
// compare. ansible-playbook and tend each run it with -e out=DIR; both
// must report the same task statuses and recap per host, and leave the
// same files in DIR (what the tasks wrote, hostvars included).
func TestLanguageMatchesAnsible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ansible-playbook")
	}
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skip("ansible-playbook not installed")
	}
	dirs, err := filepath.Glob("testdata/lang-diff/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases (%v)", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if only := os.Getenv("LANG_CASE"); only != "" && only != filepath.Base(dir) {
				t.Skip()
			}
			site, _ := filepath.Abs(filepath.Join(dir, "site.yml"))
			inv, _ := filepath.Abs(filepath.Join(dir, "inventory.ini"))
			hostsFile, err := os.ReadFile(filepath.Join(dir, "hosts"))
			if err != nil {
				t.Fatal(err)
			}
			ansOut, tendOut := t.TempDir(), t.TempDir()

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "-i", inv, "-e", "out="+ansOut, site)
			cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0",
				"ANSIBLE_LOCAL_TEMP="+t.TempDir(), "ANSIBLE_HOST_KEY_CHECKING=0")
			ans, _ := cmd.CombinedOutput() // a failed host exits non-zero: compared below
			tnd, stderr, _ := tendRun(t, "run", "-i", inv, "--format", "json", "-e", "out="+tendOut,
				"--lock-file", filepath.Join(t.TempDir(), "lock"), site)

			for _, host := range strings.Fields(string(hostsFile)) {
				a, err := oracle.ParseAnsible(string(ans), host)
				if err != nil {
					t.Fatalf("%v\n%s", err, ans)
				}
				b, err := oracle.ParseTend(tnd, host)
				if err != nil {
					t.Fatalf("%v\n%s\n%s", err, tnd, stderr)
				}
				for i := range a.Tasks {
					a.Tasks[i].Task = roleName.ReplaceAllString(a.Tasks[i].Task, "")
				}
				if a.Recap != b.Recap || !slices.Equal(a.Tasks, b.Tasks) {
					t.Errorf("%s: tend differs from ansible-playbook:\n  ansible %v\n          %v\n  tend    %v\n          %v\n--- ansible\n%s\n--- tend\n%s\n%s",
						host, a.Recap, a.Tasks, b.Recap, b.Tasks, ans, tnd, stderr)
				}
			}
			want, got := readTree(t, ansOut), readTree(t, tendOut)
			if len(want) == 0 {
				t.Fatalf("ansible-playbook wrote nothing under out: the case proves nothing\n%s", ans)
			}
			for name, content := range want {
				if got[name] != content {
					t.Errorf("%s: tend wrote %q, ansible-playbook %q", name, got[name], content)
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("%s: written by tend only", name)
				}
			}
		})
	}
}

// readTree maps each regular file under dir (by relative path) to its content.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
