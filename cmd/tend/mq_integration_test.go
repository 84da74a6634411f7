package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tend/internal/lab"
	"tend/runner"
	"tend/runner/plan"
)

var (
	standinOnce sync.Once
	standinBin  string
	standinErr  error
)

// standin builds the stand-in MQ once per test process.
func standin(t *testing.T) string {
	t.Helper()
	standinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tend-standin-bin-")
		if err != nil {
			standinErr = err
			return
		}
		standinBin = filepath.Join(dir, "tend-standin-mq")
		out, err := exec.Command("go", "build", "-o", standinBin, "tend/internal/standin/cmd/tend-standin-mq").CombinedOutput()
		if err != nil {
			standinErr = fmt.Errorf("build stand-in: %v\n%s", err, out)
		}
	})
	if standinErr != nil {
		t.Fatal(standinErr)
	}
	return standinBin
}

// restartScript restarts the stand-in MQ of one host: kills the PID in the
// pidfile, waits for it to die, starts a new one detached.
const restartScript = `#!/bin/sh
pidfile=$1 bin=$2
if [ -f "$pidfile" ]; then
  old=$(cat "$pidfile")
  kill "$old" 2>/dev/null
  i=0; while kill -0 "$old" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
fi
setsid "$bin" -listen 127.0.0.1:61616 -pidfile "$pidfile" -lifetime 10m </dev/null >/dev/null 2>&1 &
`

// mqLab is a lab whose hosts each run a stand-in MQ on 61616.
type mqLab struct {
	*lab.Lab
	dir       string
	inventory string
}

func newMQLab(t *testing.T, n int, opts ...lab.Option) *mqLab {
	l := lab.New(t, n, opts...)
	bin := standin(t)
	dir := t.TempDir()
	script := writeFile(t, dir, "restart-mq.sh", restartScript)
	os.Chmod(script, 0o755)
	var inv strings.Builder
	inv.WriteString("all:\n  hosts:\n")
	for _, h := range l.Hosts {
		pidfile := filepath.Join(dir, h.Name+".pid")
		// Start through the restart script over SSH: the MQ lives where sshd does.
		if _, stderr, err := l.SSH(context.Background(), h, shellQuote(script)+" "+shellQuote(pidfile)+" "+shellQuote(bin)); err != nil {
			t.Fatalf("%s: start stand-in: %v %s", h.Name, err, stderr)
		}
		t.Cleanup(func() {
			if b, err := os.ReadFile(pidfile); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
					exec.Command("kill", strconv.Itoa(pid)).Run()
				}
			}
		})
		fmt.Fprintf(&inv, "    %s:\n      ansible_host: %s\n      ansible_user: root\n      ansible_ssh_private_key_file: %s\n", h.Name, h.Addr, l.ClientKey)
		fmt.Fprintf(&inv, "      mq_service_manager: command\n      mq_restart_command: %s %s %s\n", script, pidfile, bin)
		// The lab's hosts share this machine's /var/lib: each its own state dir (restart budgets).
		fmt.Fprintf(&inv, "      tend_state_dir: %s\n", filepath.Join(dir, "state-"+h.Name))
	}
	m := &mqLab{Lab: l, dir: dir, inventory: writeFile(t, dir, "hosts.yml", inv.String())}
	for _, h := range l.Hosts {
		m.waitPID(t, h)
	}
	return m
}

// waitPID returns the stand-in's PID on h once its pidfile exists.
func (m *mqLab) waitPID(t *testing.T, h *lab.Host) int {
	t.Helper()
	for i := 0; i < 100; i++ {
		if b, err := os.ReadFile(filepath.Join(m.dir, h.Name+".pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: stand-in MQ wrote no pidfile", h.Name)
	return 0
}

// load leaves n sockets in CLOSE_WAIT on h's stand-in.
func (m *mqLab) load(t *testing.T, h *lab.Host, n int) {
	t.Helper()
	if _, stderr, err := h.Exec(context.Background(), standin(t), "-load", strconv.Itoa(n), "-listen", "127.0.0.1:61616"); err != nil {
		t.Fatalf("%s: load: %v %s", h.Name, err, stderr)
	}
}

// closeWait counts CLOSE_WAIT sockets on 61616 inside h's namespace with ss.
func closeWait(t *testing.T, h *lab.Host) int {
	t.Helper()
	out, _, err := h.Exec(context.Background(), "ss", "-Htan", "state", "close-wait", "( sport = :61616 )")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) != "" {
			n++
		}
	}
	return n
}

// sshOut runs a command on h through OpenSSH, failing the test on error.
func (m *mqLab) sshOut(t *testing.T, h *lab.Host, command string) string {
	t.Helper()
	out, stderr, err := m.SSH(context.Background(), h, command)
	if err != nil {
		t.Fatalf("%s: %s: %v %s", h.Name, command, err, stderr)
	}
	return out
}

func sum(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (m *mqLab) tend(t *testing.T, args ...string) ([]event, int) {
	t.Helper()
	base := []string{"run", "mq-closewait", "-i", m.inventory, "--known-hosts", m.KnownHosts, "--format", "json",
		"--lock-file", filepath.Join(m.dir, "run.lock"), // test processes running at once never share a lock
		"-e", "closewait_threshold=5", "-e", "mq_restart_timeout=20s"}
	stdout, _, code := tendRun(t, append(base, args...)...)
	return parseEvents(t, stdout), code
}

func taskChange(t *testing.T, events []event, host, task string) plan.Change {
	return findTask(t, events, host, task).Change
}

const tuneTask = "Tune TCP (sysctl.conf and live values)"

func TestMQCloseWaitRunbook(t *testing.T) {
	m := newMQLab(t, 3, lab.WithOverlayEtc())
	h1, h2, h3 := m.Hosts[0], m.Hosts[1], m.Hosts[2]
	m.load(t, h1, 12)
	m.load(t, h2, 8)
	m.load(t, h3, 2) // below the threshold: tuned, not restarted

	// h2 has a messy sysctl.conf: comments, a duplicated key, odd spacing, no final newline.
	messy := "# site tuning\n net.ipv4.tcp_fin_timeout =  45\n;old\nnet.ipv4.tcp_fin_timeout=50\nnet.ipv4.tcp_keepalive_time\t=\t7200"
	m.sshOut(t, h2, "printf '%s' "+shellQuote(messy)+" > /etc/sysctl.conf")
	confs := map[string]string{}
	pids := map[string]int{}
	for _, h := range m.Hosts {
		confs[h.Name] = m.sshOut(t, h, "cat /etc/sysctl.conf")
		pids[h.Name] = m.waitPID(t, h)
	}
	liveFin := func(h *lab.Host) string {
		out, _, err := h.Exec(context.Background(), "cat", "/proc/sys/net/ipv4/tcp_fin_timeout")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	tuning := writeFile(t, m.dir, "tuning.yml", `tcp_tuning:
  net.ipv4.tcp_fin_timeout: "30"
  net.ipv4.tcp_keepalive_time: "1200"
  net.ipv4.tcp_keepalive_intvl: "30"
  net.ipv4.tcp_tw_recycle: "1"
  net.core.netdev_max_backlog: "3000"
`)

	t.Run("check changes nothing", func(t *testing.T) {
		events, code := m.tend(t, "--check", "--detailed-exitcode", "-e", "@"+tuning)
		if code != exitChanged {
			t.Fatalf("exit %d, want %d", code, exitChanged)
		}
		c := taskChange(t, events, h2.Name, tuneTask)
		if len(c.Files) != 1 || !strings.Contains(c.Files[0].Diff, "+net.ipv4.tcp_fin_timeout=30") {
			t.Errorf("h2 plan lacks the in-place diff of the effective fin_timeout line: %+v", c.Files)
		}
		restart := findTask(t, events, h1.Name, "Restart the MQ holding the CLOSE_WAIT sockets")
		if restart.Status != runner.StatusChanged || !restart.DryRun {
			t.Errorf("h1 restart: %s dry=%v, want a planned restart", restart.Status, restart.DryRun)
		}
		if b := restart.Budget; b == nil || b.Note != "budget: 0 of 3 used in 24h: would allow it" {
			t.Errorf("h1 restart budget %+v, want one the budget would allow", b)
		}
		if s := findTask(t, events, h3.Name, "Restart the MQ holding the CLOSE_WAIT sockets").Status; s != runner.StatusSkipped {
			t.Errorf("h3 restart %s, want skipped (below threshold)", s)
		}
		for _, h := range m.Hosts {
			if got := m.sshOut(t, h, "cat /etc/sysctl.conf"); sum(got) != sum(confs[h.Name]) {
				t.Errorf("%s: sysctl.conf changed by a dry run", h.Name)
			}
			if fin := liveFin(h); fin != "60" {
				t.Errorf("%s: live tcp_fin_timeout %s after a dry run, want the default 60", h.Name, fin)
			}
			if pid := m.waitPID(t, h); pid != pids[h.Name] {
				t.Errorf("%s: MQ restarted by a dry run", h.Name)
			}
		}
		if n := closeWait(t, h1); n != 12 {
			t.Errorf("h1 CLOSE_WAIT %d after a dry run, want 12", n)
		}
	})

	t.Run("apply", func(t *testing.T) {
		prom := filepath.Join(m.dir, "mq.prom")
		events, code := m.tend(t, "-e", "@"+tuning, "--metrics-file", prom)
		if code != 0 {
			t.Fatalf("exit %d, want 0", code)
		}
		checkMQMetrics(t, prom, map[string][2]string{h1.Name: {"12", "0"}, h2.Name: {"8", "0"}, h3.Name: {"2", "2"}})
		// The restart spent one of its budget (3 per 24h), recorded on the host.
		if b := findTask(t, events, h1.Name, "Restart the MQ holding the CLOSE_WAIT sockets").Budget; b == nil || b.Max != 3 || b.Per != "24h" || b.Used != 0 || b.Relapse {
			t.Errorf("h1 restart budget %+v, want the first of 3 in 24h", b)
		}
		for h, want := range map[string]int{h1.Name: 1, h3.Name: 0} {
			if recs, _ := filepath.Glob(filepath.Join(m.dir, "state-"+h, "budget-*.json")); len(recs) != want {
				t.Errorf("%s: %d budget records, want %d", h, len(recs), want)
			}
		}
		for _, h := range m.Hosts {
			conf := m.sshOut(t, h, "cat /etc/sysctl.conf")
			for _, want := range []string{"net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_time"} {
				if !strings.Contains(conf, want) {
					t.Errorf("%s: sysctl.conf lacks %s:\n%s", h.Name, want, conf)
				}
			}
			if strings.Contains(conf, "tcp_tw_recycle") || strings.Contains(conf, "netdev_max_backlog") {
				t.Errorf("%s: an unsupported key was written:\n%s", h.Name, conf)
			}
			if fin := liveFin(h); fin != "30" {
				t.Errorf("%s: live tcp_fin_timeout %s, want 30", h.Name, fin)
			}
			c := taskChange(t, events, h.Name, tuneTask)
			unsupported := map[string]bool{}
			for _, v := range c.Values {
				if v.Status == plan.ValueUnsupported {
					unsupported[v.Key] = true
				}
			}
			if !unsupported["net.ipv4.tcp_tw_recycle"] || !unsupported["net.core.netdev_max_backlog"] {
				t.Errorf("%s: unsupported keys %v, want tcp_tw_recycle and netdev_max_backlog", h.Name, unsupported)
			}
			if len(c.Files) != 1 || c.Files[0].Backup == "" {
				t.Errorf("%s: no backup reported: %+v", h.Name, c.Files)
			} else if strings.HasSuffix(c.Files[0].Backup, ".conf") {
				t.Errorf("%s: backup %s matches *.conf", h.Name, c.Files[0].Backup)
			} else if got := m.sshOut(t, h, "cat "+shellQuote(c.Files[0].Backup)); got != confs[h.Name] {
				t.Errorf("%s: backup does not hold the previous content", h.Name)
			}
		}
		// h2's messy file: only the effective fin_timeout line changed in place, the rest byte-identical.
		want := "# site tuning\n net.ipv4.tcp_fin_timeout =  45\n;old\nnet.ipv4.tcp_fin_timeout=30\nnet.ipv4.tcp_keepalive_time\t=\t1200\n# added by tend\nnet.ipv4.tcp_keepalive_intvl = 30\n"
		if got := m.sshOut(t, h2, "cat /etc/sysctl.conf"); got != want {
			t.Errorf("h2 sysctl.conf:\n%q\nwant\n%q", got, want)
		}
		for _, h := range []*lab.Host{h1, h2} {
			if pid := m.waitPID(t, h); pid == pids[h.Name] {
				t.Errorf("%s: MQ not restarted (pid %d)", h.Name, pid)
			}
			if n := closeWait(t, h); n != 0 {
				t.Errorf("%s: %d CLOSE_WAIT after the restart, want 0", h.Name, n)
			}
		}
		if pid := m.waitPID(t, h3); pid != pids[h3.Name] {
			t.Errorf("h3 below the threshold was restarted")
		}
		for _, h := range m.Hosts {
			pids[h.Name] = m.waitPID(t, h)
		}
	})

	t.Run("second apply changes nothing", func(t *testing.T) {
		_, code := m.tend(t, "--detailed-exitcode", "-e", "@"+tuning)
		if code != 0 {
			t.Fatalf("exit %d, want 0 (no change)", code)
		}
		for _, h := range m.Hosts {
			if pid := m.waitPID(t, h); pid != pids[h.Name] {
				t.Errorf("%s: restarted again", h.Name)
			}
		}
	})
}

func TestMQInvalidValueLeavesFileUnchanged(t *testing.T) {
	m := newMQLab(t, 1, lab.WithOverlayEtc())
	h := m.Hosts[0]
	before := m.sshOut(t, h, "cat /etc/sysctl.conf")
	bad := writeFile(t, m.dir, "bad.yml", "tcp_tuning:\n  net.ipv4.tcp_fin_timeout: \"30\"\n  net.ipv4.tcp_keepalive_time: \"abc\"\n")
	events, code := m.tend(t, "-e", "@"+bad)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d", code, exitFailed)
	}
	if s := findTask(t, events, h.Name, tuneTask).Status; s != runner.StatusFailed {
		t.Errorf("tune status %s, want failed", s)
	}
	if after := m.sshOut(t, h, "cat /etc/sysctl.conf"); after != before {
		t.Errorf("sysctl.conf changed by a failed tuning:\n%s", after)
	}
	if out, _, _ := h.Exec(context.Background(), "cat", "/proc/sys/net/ipv4/tcp_fin_timeout"); strings.TrimSpace(out) != "60" {
		t.Errorf("live fin_timeout %q, want it restored to 60", out)
	}
}

func TestMQSymlinkedSysctlConf(t *testing.T) {
	m := newMQLab(t, 1, lab.WithOverlayEtc())
	h := m.Hosts[0]
	m.sshOut(t, h, "mkdir -p /etc/sysctl.d && printf '# real\\n' > /etc/tend-real-sysctl.conf && ln -sfn /etc/tend-real-sysctl.conf /etc/sysctl.d/99-sysctl.conf")
	_, code := m.tend(t, "-e", "sysctl_file=/etc/sysctl.d/99-sysctl.conf")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if link := strings.TrimSpace(m.sshOut(t, h, "readlink /etc/sysctl.d/99-sysctl.conf")); link != "/etc/tend-real-sysctl.conf" {
		t.Errorf("symlink not kept: readlink says %q", link)
	}
	if got := m.sshOut(t, h, "cat /etc/tend-real-sysctl.conf"); !strings.HasPrefix(got, "# real\n") || !strings.Contains(got, "net.ipv4.tcp_fin_timeout") {
		t.Errorf("target not edited:\n%s", got)
	}
	if ls := m.sshOut(t, h, "ls /etc/"); !strings.Contains(ls, "tend-real-sysctl.conf.tend-backup.") {
		t.Errorf("no backup beside the target:\n%s", ls)
	}
}
