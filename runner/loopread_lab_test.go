package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tend/internal/lab"
	"tend/runner/transport"
)

// dialLab connects to a fresh lab host over real sshd. A lab host shares
// this machine's file system outside /etc, so a test builds its tree here.
func dialLab(t testing.TB) transport.Conn {
	t.Helper()
	l := lab.New(t, 1)
	h := l.Hosts[0]
	c, err := transport.DialSSH(context.Background(), transport.SSHConfig{
		Host: h.Addr, Port: h.Port, User: "root",
		KeyFiles: []string{l.ClientKey}, KnownHostsFile: l.KnownHosts,
		DialTimeout: 10 * time.Second, HandshakeTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("dial lab host: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestLoopReadsLab: over real sshd, a loop of stat over 50 paths (and each
// loop of readLoops) sends ONE command, and registers and reports per item
// exactly what 50 separate reads give; batched commands each give their
// own result; a disk clean-up's dry run over find's results lists what
// each item would delete, and how many bytes, from one read.
func TestLoopReadsLab(t *testing.T) {
	conn := dialLab(t)
	t.Run("loops", func(t *testing.T) { checkReadLoops(t, conn, t.TempDir()) })
	t.Run("commands", func(t *testing.T) { checkRunBatch(t, conn, t.TempDir()) })
	t.Run("cleanup", func(t *testing.T) { checkCleanup(t, conn, t.TempDir()) })
}

// checkCleanup: find old logs, then file: state=absent over them, in check
// mode: one command for the find, one for the 30 deletions' reads.
func checkCleanup(t *testing.T, conn transport.Conn, dir string) {
	var want int64
	for i := range 30 {
		d := filepath.Join(dir, fmt.Sprintf("app%d", i%4))
		os.MkdirAll(d, 0o755)
		size := 1000 + i*37
		os.WriteFile(filepath.Join(d, fmt.Sprintf("run %d.log", i)), []byte(strings.Repeat("l", size)), 0o644)
		os.WriteFile(filepath.Join(d, fmt.Sprintf("keep%d.txt", i)), []byte("keep"), 0o644)
		want += int64(size)
	}
	src := fmt.Sprintf(`
- hosts: all
  gather_facts: false
  tasks:
    - name: find logs
      find: {paths: %q, patterns: "*.log", recurse: true}
      register: logs
    - name: clean up
      file: {path: "{{ item.path }}", state: absent}
      loop: "{{ logs.files }}"
      loop_control: {label: "{{ item.path | basename }}"}
      register: r
    - name: keep
      capture: {name: cleanup, data: "{{ r }}"}
`, dir)
	off := runCounted(t, conn, src, false, Options{Check: true})
	offData := takeCaptured(t, "cleanup")
	on := runCounted(t, conn, src, true, Options{Check: true})
	onData := takeCaptured(t, "cleanup")
	sameRuns(t, off, on, "clean up", "cleanup", offData, onData)
	if n := on.trips("find logs"); n != 1 {
		t.Errorf("find: %d commands, want 1", n)
	}
	if n := on.trips("clean up"); n != 1 {
		t.Errorf("batched clean-up: %d commands, want 1", n)
	}
	if n := off.trips("clean up"); n != 30 {
		t.Errorf("unbatched clean-up: %d commands, want 30", n)
	}
	var got int64
	for _, r := range onData.(map[string]any)["results"].([]any) {
		item := r.(map[string]any)
		if item["changed"] != true {
			t.Errorf("%v: not a change", item["path"])
		}
		got += int64(item["deleted"].(map[string]any)["bytes"].(int))
	}
	if got != want {
		t.Errorf("would free %d bytes, want %d", got, want)
	}
	items := on.items("h1", "clean up")
	if len(items) != 30 || !strings.HasPrefix(items[0].Change.Summary, "would delete "+dir) || !strings.HasSuffix(items[0].Item, ".log") {
		t.Errorf("%d items; first %q: %q", len(items), items[0].Item, items[0].Change.Summary)
	}
	for _, p := range []string{"app0/run 0.log", "app1/run 29.log"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("the dry run changed %s: %v", p, err)
		}
	}
}

// BenchmarkLoopStat50Lab times a loop of stat over 50 paths on one lab
// host over real sshd, item by item and batched; commands/op is the
// remote commands the loop sent. Figures: README (Loops).
//
//	go test ./runner -run '^$' -bench LoopStat50Lab -benchtime 20x
func BenchmarkLoopStat50Lab(b *testing.B) {
	conn := dialLab(b)
	paths := makeTree(b, b.TempDir())
	src := fmt.Sprintf(`
- hosts: all
  gather_facts: false
  tasks:
    - name: stat
      stat: {path: "{{ item }}"}
      loop: %s
`, yamlList(paths))
	for _, batched := range []bool{false, true} {
		name := map[bool]string{false: "unbatched", true: "batched"}[batched]
		b.Run(name, func(b *testing.B) {
			var cmds int64
			for b.Loop() {
				cmds = runCounted(b, conn, src, batched, Options{}).trips("stat")
			}
			b.ReportMetric(float64(cmds), "commands/op")
		})
	}
}

// TestLoopReadsLabBecome: through sudo (a password-asking sudoer), the
// batched read runs as root too: a loop of stat over files of a root-only
// directory finds them all, in one command, as item-by-item reads do.
func TestLoopReadsLabBecome(t *testing.T) {
	l := lab.New(t, 1, lab.WithOverlayEtc())
	h := l.Hosts[0]
	const pw = "Corr3ct-horse"
	h.AddUser(t, lab.User{Name: "deploy", Password: pw, Sudoers: "deploy ALL=(ALL:ALL) ALL\n"})
	c, err := transport.DialSSH(context.Background(), transport.SSHConfig{
		Host: h.Addr, Port: h.Port, User: "deploy",
		KeyFiles: []string{l.ClientKey}, KnownHostsFile: l.KnownHosts,
		DialTimeout: 10 * time.Second, HandshakeTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	conn := transport.Become(c, transport.BecomeOptions{Password: pw})
	top := t.TempDir()
	os.Chmod(top, 0o755)
	d := filepath.Join(top, "root-only")
	os.Mkdir(d, 0o700)
	var paths []string
	for i := range 10 {
		p := filepath.Join(d, fmt.Sprintf("secret%d", i))
		os.WriteFile(p, []byte("s"), 0o600)
		paths = append(paths, p)
	}
	futureAtimes(d)
	src := fmt.Sprintf(`
- hosts: all
  gather_facts: false
  tasks:
    - name: stat
      stat: {path: "{{ item }}"}
      loop: %s
      register: r
    - name: keep
      capture: {name: become, data: "{{ r }}"}
`, yamlList(paths))
	off := runCounted(t, conn, src, false, Options{})
	offData := takeCaptured(t, "become")
	on := runCounted(t, conn, src, true, Options{})
	onData := takeCaptured(t, "become")
	sameRuns(t, off, on, "stat", "become", offData, onData)
	if n := on.trips("stat"); n != 1 {
		t.Errorf("batched: %d commands, want 1", n)
	}
	for _, r := range onData.(map[string]any)["results"].([]any) {
		if st := r.(map[string]any)["stat"].(map[string]any); st["exists"] != true {
			t.Errorf("%v: not found through sudo", r.(map[string]any)["item"])
		}
	}
}
