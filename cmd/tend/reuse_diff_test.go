package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Differential: ansible-playbook and tend run the same playbook of roles,
// imports, vars_files, include_vars and group_vars beside it over the
// local connection; every command echoes the variables it sees, and both
// tools must echo the same lines in the same order (precedence oracle).
func TestReuseVarsMatchAnsible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ansible-playbook")
	}
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skip("ansible-playbook not installed")
	}
	site, err := filepath.Abs("testdata/reuse-diff/site.yml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-v", "-i", "localhost,", "-c", "local", site)
	cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0", "ANSIBLE_LOCAL_TEMP="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ansible-playbook: %v\n%s", err, out)
	}
	resultRE := regexp.MustCompile(`^(?:changed|ok): \[localhost\] => (\{.*\})$`)
	var ansible []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := resultRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var r struct {
			Cmd    []string `json:"cmd"`
			Stdout string   `json:"stdout"`
		}
		if err := json.Unmarshal([]byte(m[1]), &r); err != nil {
			t.Fatalf("ansible result %q: %v", m[1], err)
		}
		if r.Cmd != nil {
			ansible = append(ansible, r.Stdout)
		}
	}

	stdout, _, code := tendRun(t, "run", "-c", "local", "--format", "json", site)
	if code != 0 {
		t.Fatalf("tend exit %d", code)
	}
	var tend []string
	for _, e := range parseEvents(t, stdout) {
		if e.Event != "task" {
			continue
		}
		var r struct {
			Module string `json:"module"`
			Change struct {
				Data struct {
					Stdout string `json:"stdout"`
				} `json:"data"`
			} `json:"change"`
		}
		if err := json.Unmarshal(e.Data, &r); err != nil {
			t.Fatal(err)
		}
		if r.Module == "command" {
			tend = append(tend, r.Change.Data.Stdout)
		}
	}
	if len(ansible) == 0 || !slices.Equal(tend, ansible) {
		t.Errorf("tend echoed\n  %q\nansible-playbook echoed\n  %q", tend, ansible)
	}
}
