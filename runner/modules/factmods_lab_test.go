package modules

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"tend/runner/plan"
	"tend/runner/transport"
)

// TestLabFactModules: the read-only fact modules over SSH on a lab host,
// as a sudoer without and with become. slurp reads a root-only file only
// through sudo (without: Ansible's "file is not readable"), a missing file
// and a directory fail with Ansible's messages. package_facts reads the
// lab host's dpkg database (this machine's): coreutils' version is what
// dpkg-query says here. service_facts lists a SysV init script written in
// the host's own /etc/init.d, running as its status says.
func TestLabFactModules(t *testing.T) {
	ctx := context.Background()
	deploy, root := sudoLab(t)
	check := func(conn transport.Conn, m Module) plan.Change {
		t.Helper()
		c, err := m.Check(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		if c.Action != plan.Read {
			t.Errorf("action %v, want read", c.Action)
		}
		return c
	}

	t.Run("Slurp", func(t *testing.T) {
		dir := t.TempDir()
		os.Chmod(dir, 0o700) // root only: deploy cannot enter it without sudo
		src := filepath.Join(dir, "secret.key")
		content := "s3cret\x00\xff\n"
		mustWrite(t, src, content, 0o600)
		slurp := func(args string) Module {
			m, err := newSlurp(Args{Node: argsNode(t, args), File: "pb.yml"})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		if got := check(deploy, slurp("src: "+src)); !got.Failed || got.Msg != "file is not readable: "+src {
			t.Errorf("without become: %+v", got)
		}
		got := check(root, slurp("path: "+src))
		want := map[string]any{"content": base64.StdEncoding.EncodeToString([]byte(content)), "encoding": "base64", "source": src}
		if got.Failed || !equalData(got.Data, want) {
			t.Errorf("with become: %+v, want data %v", got, want)
		}
		if got := check(root, slurp("src: "+dir+"/nope")); !got.Failed || got.Msg != "file not found: "+dir+"/nope" {
			t.Errorf("missing: %+v", got)
		}
		if got := check(root, slurp("src: "+dir)); !got.Failed || got.Msg != "source is a directory and must be a file: "+dir {
			t.Errorf("directory: %+v", got)
		}
	})

	t.Run("PackageFacts", func(t *testing.T) {
		want, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "coreutils").Output()
		if err != nil {
			t.Skipf("no dpkg here: %v", err)
		}
		m, err := newPackageFacts(Args{File: "pb.yml"})
		if err != nil {
			t.Fatal(err)
		}
		got := check(deploy, m)
		pkgs, _ := got.Data["ansible_facts"].(map[string]any)["packages"].(map[string]any)
		cu, _ := pkgs["coreutils"].([]any)
		if len(cu) != 1 {
			t.Fatalf("coreutils: %v (%s)", cu, got.Summary)
		}
		p := cu[0].(map[string]any)
		if p["version"] != string(want) || p["name"] != "coreutils" || p["source"] != "apt" || p["category"] != "utils" {
			t.Errorf("coreutils: %v, want version %s", p, want)
		}
	})

	t.Run("ServiceFacts", func(t *testing.T) {
		script := "#!/bin/sh\ncase $1 in status) echo running; exit 0;; esac\nexit 0\n"
		res, err := root.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c",
			`printf '%s' "$1" > /etc/init.d/tend-lab-svc && chmod 755 /etc/init.d/tend-lab-svc`, "sh", script}})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("init script: %v %s", err, res.Stderr)
		}
		m, err := newServiceFacts(Args{File: "pb.yml"})
		if err != nil {
			t.Fatal(err)
		}
		got := check(root, m)
		svcs, _ := got.Data["ansible_facts"].(map[string]any)["services"].(map[string]any)
		want := map[string]any{"name": "tend-lab-svc", "state": "running", "source": "sysv"}
		if !equalData(svcs["tend-lab-svc"], want) {
			t.Errorf("tend-lab-svc: %v, want %v (%s)", svcs["tend-lab-svc"], want, got.Summary)
		}
		for name, s := range svcs {
			if st := s.(map[string]any)["state"]; st != "running" && st != "stopped" || strings.TrimSpace(name) != name {
				t.Errorf("%s: %v", name, s)
			}
		}
	})
}

// equalData compares two decoded result values.
func equalData(a, b any) bool { return reflect.DeepEqual(a, b) }
