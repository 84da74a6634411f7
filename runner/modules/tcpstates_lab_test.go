package modules

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"tend/runner/transport"
)

// The MQ lab runs stand-in brokers (internal/standin) as daemons, inside a
// throwaway network namespace when this process may create one (root), so
// that they listen on the real port 61616 and nothing else on the machine is
// touched; otherwise (or with TEND_MQLAB=host) on 127.0.0.1 with free high
// ports.

// nsConn runs every command inside network namespace ns.
type nsConn struct{ ns string }

func (c nsConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	cmd.Argv = append([]string{"ip", "netns", "exec", c.ns}, cmd.Argv...)
	return transport.Local().Run(ctx, cmd)
}

func (c nsConn) Close() error { return nil }

// mqLab is one test's stand-in brokers and the connection that reaches them.
type mqLab struct {
	t        *testing.T
	conn     transport.Conn
	ns       string // "" when running on the host's loopback
	dir, bin string
	nextPort int
}

var mqLabSeq atomic.Int32

// daemonScript (re)starts or stops a stand-in: $1 pidfile, $2 restart|stop,
// then the stand-in's argv. The old process is killed and awaited; the new
// one is detached from the caller's output, as an init script would do
// (its stderr goes to PIDFILE.log, shown when a test fails).
const daemonScript = `pidfile=$1 mode=$2; shift 2
if [ -f "$pidfile" ]; then
  old=$(cat "$pidfile"); kill "$old" 2>/dev/null
  i=0  # a zombie (its reaper may be slow) counts as gone
  while [ -d "/proc/$old" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$old/status" 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i+1))
  done
  rm -f "$pidfile"
fi
[ "$mode" = restart ] || exit 0
"$@" -pidfile "$pidfile" </dev/null >>"$pidfile.log" 2>&1 &
`

func newMQLab(t *testing.T) *mqLab {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is needed for the remote probes")
	}
	l := &mqLab{t: t, dir: t.TempDir(), conn: transport.Local(), nextPort: 61616}
	l.bin = filepath.Join(l.dir, "tend-standin-mq")
	build := exec.Command("go", "build", "-o", l.bin, "tend/internal/standin/cmd/tend-standin-mq")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the stand-in: %v\n%s", err, out)
	}
	t.Cleanup(l.killAll)
	if os.Geteuid() == 0 && os.Getenv("TEND_MQLAB") != "host" {
		removeStaleStatesNetns()
		ns := fmt.Sprintf("tend-states-%d-%d", os.Getpid(), mqLabSeq.Add(1))
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err == nil {
			t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
			if out, err := exec.Command("ip", "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
				t.Fatalf("lo up in %s: %v %s", ns, err, out)
			}
			l.ns, l.conn = ns, nsConn{ns}
			return l
		} else {
			t.Logf("no network namespace (%s): using the host's loopback", strings.TrimSpace(string(out)))
		}
	}
	l.nextPort = 0
	return l
}

// removeStaleStatesNetns deletes namespaces a killed test run left behind.
func removeStaleStatesNetns() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		f := strings.Split(e.Name(), "-")
		if len(f) != 4 || f[0] != "tend" || f[1] != "states" {
			continue
		}
		if pid, err := strconv.Atoi(f[2]); err == nil && pid != os.Getpid() {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
				_ = exec.Command("ip", "netns", "del", e.Name()).Run()
			}
		}
	}
}

// port returns a port for a new stand-in.
func (l *mqLab) port() int {
	if l.nextPort != 0 {
		l.nextPort++
		return l.nextPort - 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		l.t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// standinArgv is the stand-in's command line for port.
func (l *mqLab) standinArgv(port int, greeting bool) []string {
	return []string{l.bin, "-listen", fmt.Sprintf("127.0.0.1:%d", port), "-lifetime", "5m",
		"-greeting=" + strconv.FormatBool(greeting)}
}

// serviceCommand is the argv a service task runs to restart (or, with
// mode stop, only kill) the stand-in of pidfile.
func (l *mqLab) serviceCommand(pidfile, mode string, port int, greeting bool) []string {
	return append([]string{"/bin/sh", "-c", daemonScript, "sh", pidfile, mode}, l.standinArgv(port, greeting)...)
}

// start runs a stand-in on port and returns its pidfile and PID.
func (l *mqLab) start(name string, port int, greeting bool) (string, int) {
	l.t.Helper()
	pidfile := filepath.Join(l.dir, name+".pid")
	l.run(l.serviceCommand(pidfile, "restart", port, greeting)...)
	return pidfile, l.waitPID(pidfile)
}

// waitPID waits (bounded) for pidfile to name a process.
func (l *mqLab) waitPID(pidfile string) int {
	l.t.Helper()
	for i := 0; i < 200; i++ {
		if b, err := os.ReadFile(pidfile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	l.t.Fatalf("no pid in %s", pidfile)
	return 0
}

// load connects n clients to port and closes them from the client side.
func (l *mqLab) load(port, n int, greeting bool) {
	l.t.Helper()
	l.run(l.bin, "-load", strconv.Itoa(n), "-listen", fmt.Sprintf("127.0.0.1:%d", port),
		"-greeting="+strconv.FormatBool(greeting))
}

func (l *mqLab) run(argv ...string) {
	l.t.Helper()
	res, err := l.conn.Run(context.Background(), transport.Command{Argv: argv, Timeout: time.Minute})
	if err != nil || res.ExitCode != 0 {
		l.t.Fatalf("%v: %v rc=%d %s", argv, err, res.ExitCode, res.Stderr)
	}
}

// killAll ends every stand-in this lab started, by the PIDs in its pidfiles,
// and shows their logs when the test failed.
func (l *mqLab) killAll() {
	if l.t.Failed() {
		logs, _ := filepath.Glob(filepath.Join(l.dir, "*.log"))
		for _, f := range logs {
			b, _ := os.ReadFile(f)
			l.t.Logf("%s:\n%s", filepath.Base(f), b)
		}
	}
	files, _ := filepath.Glob(filepath.Join(l.dir, "*.pid"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 1 {
			continue
		}
		// Only a stand-in of this lab, never a process that reused the PID.
		if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.HasPrefix(string(cmd), l.bin+"\x00") {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
		}
	}
}

// argsNode parses a module's YAML arguments.
func argsNode(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

// eventually polls f (bounded, not timed) until it returns true.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if f() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("never: %s", what)
}
