package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"tend/internal/lab"
)

// needSudo fails the test when sudo is missing (scripts/test.sh installs it).
func needSudo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Fatal("sudo is not installed (apt-get install -y sudo, as scripts/test.sh does)")
	}
}

// TestBecomeLocalContract runs the Conn contract through sudo on this
// machine: as root sudo never asks, so the configured password must never
// be sent, and the command's stdin, exit codes, timeouts and output caps
// behave as without become.
func TestBecomeLocalContract(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: sudo would ask this user for a password")
	}
	needSudo(t)
	runConnContract(t, func(t *testing.T) Conn {
		return Become(Local(), BecomeOptions{Password: "tend-never-sent"})
	})
}

// recordConn records everything written to the stdin of its commands.
type recordConn struct {
	Conn
	mu    sync.Mutex
	stdin bytes.Buffer
}

func (r *recordConn) Run(ctx context.Context, cmd Command) (Result, error) {
	if cmd.Input != nil {
		cmd.Input = io.TeeReader(cmd.Input, writerFunc(func(p []byte) (int, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			return r.stdin.Write(p)
		}))
	}
	if cmd.Stdin != nil {
		r.mu.Lock()
		r.stdin.Write(cmd.Stdin)
		r.mu.Unlock()
	}
	return r.Conn.Run(ctx, cmd)
}

func (r *recordConn) sent() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stdin.String()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

const (
	labSudoPassword = "Corr3ct-horse" // deploy's password
	labNopwPassword = "n0pw-secret"   // nopw's password, never needed by sudo
)

// labBecome builds one lab host with three sudo users: deploy (sudo with
// its password), nopw (NOPASSWD) and ttyuser (requiretty).
func labBecome(t *testing.T) (*lab.Lab, *lab.Host) {
	t.Helper()
	needSudo(t)
	l := lab.New(t, 1, lab.WithOverlayEtc())
	h := l.Hosts[0]
	h.AddUser(t, lab.User{Name: "deploy", Password: labSudoPassword, Sudoers: "deploy ALL=(ALL:ALL) ALL\n"})
	h.AddUser(t, lab.User{Name: "nopw", Password: labNopwPassword, Sudoers: "nopw ALL=(ALL:ALL) NOPASSWD: ALL\n"})
	h.AddUser(t, lab.User{Name: "ttyuser", Password: labSudoPassword, Sudoers: "Defaults:ttyuser requiretty\nttyuser ALL=(ALL:ALL) ALL\n"})
	return l, h
}

func dialAs(t *testing.T, l *lab.Lab, h *lab.Host, user string) *recordConn {
	t.Helper()
	cfg := labConfig(l, h)
	cfg.User = user
	return &recordConn{Conn: dialOK(t, cfg)}
}

// TestLabBecome covers faults rows 13-16 against a real sshd and sudo.
func TestLabBecome(t *testing.T) {
	l, h := labBecome(t)
	ctx := context.Background()
	whoami := Command{Argv: []string{"sh", "-c", "whoami; id -u"}, Timeout: 30 * time.Second}

	t.Run("Contract", func(t *testing.T) {
		// Timeout and Cancel prove the kill reaches root's processes under
		// sudo, which deploy's own kill cannot.
		runConnContract(t, func(t *testing.T) Conn {
			return Become(dialAs(t, l, h, "deploy"), BecomeOptions{Password: labSudoPassword})
		})
	})

	t.Run("CorrectPassword", func(t *testing.T) {
		rc := dialAs(t, l, h, "deploy")
		res, err := Become(rc, BecomeOptions{Password: labSudoPassword}).Run(ctx, whoami)
		if err != nil || string(res.Stdout) != "root\n0\n" || res.ExitCode != 0 || len(res.Stderr) != 0 {
			t.Fatalf("whoami: %q stderr %q exit %d, %v", res.Stdout, res.Stderr, res.ExitCode, err)
		}
		if got := rc.sent(); got != labSudoPassword+"\n" {
			t.Errorf("sudo's stdin got %q, want the password line once", got)
		}
		// The command's own stdin follows the password and is intact.
		res, err = Become(rc, BecomeOptions{Password: labSudoPassword}).Run(ctx, Command{Argv: []string{"cat"}, Stdin: []byte("payload\n")})
		if err != nil || string(res.Stdout) != "payload\n" {
			t.Errorf("cat under sudo: %q, %v", res.Stdout, err)
		}
		// become_user other than root.
		res, err = Become(rc, BecomeOptions{User: "nobody", Password: labSudoPassword}).Run(ctx, Command{Argv: []string{"whoami"}})
		if err != nil || string(res.Stdout) != "nobody\n" {
			t.Errorf("become nobody: %q, %v", res.Stdout, err)
		}
	})

	t.Run("WrongPassword", func(t *testing.T) {
		rc := dialAs(t, l, h, "deploy")
		res, err := Become(rc, BecomeOptions{Password: "wrong-password"}).Run(ctx, whoami)
		if !errors.Is(err, ErrIncorrectBecomePassword) || !strings.Contains(err.Error(), "incorrect become password") {
			t.Fatalf("want incorrect become password, got %v (stdout %q)", err, res.Stdout)
		}
		if strings.Contains(string(res.Stdout), "root") {
			t.Errorf("the command ran: %q", res.Stdout)
		}
		// Tried once: sudo's second prompt was not answered.
		if got := rc.sent(); got != "wrong-password\n" {
			t.Errorf("sudo's stdin got %q, want one password line", got)
		}
		if strings.Contains(err.Error(), "wrong-password") {
			t.Errorf("the error shows the password: %v", err)
		}
	})

	t.Run("MissingPassword", func(t *testing.T) {
		rc := dialAs(t, l, h, "deploy")
		_, err := Become(rc, BecomeOptions{}).Run(ctx, whoami)
		if !errors.Is(err, ErrMissingBecomePassword) || !strings.Contains(err.Error(), "missing become password") {
			t.Fatalf("want missing become password, got %v", err)
		}
		if got := rc.sent(); got != "" {
			t.Errorf("sudo's stdin got %q, want nothing", got)
		}
	})

	t.Run("NopasswdNeverSendsPassword", func(t *testing.T) {
		rc := dialAs(t, l, h, "nopw")
		b := Become(rc, BecomeOptions{Password: labNopwPassword})
		// A command reading stdin gets EOF, not the password.
		res, err := b.Run(ctx, Command{Argv: []string{"cat"}, Timeout: 30 * time.Second})
		if err != nil || len(res.Stdout) != 0 || res.ExitCode != 0 {
			t.Fatalf("cat without stdin under NOPASSWD sudo: %q exit %d, %v", res.Stdout, res.ExitCode, err)
		}
		res, err = b.Run(ctx, Command{Argv: []string{"sh", "-c", "cat; whoami"}, Stdin: []byte("only this")})
		if err != nil || string(res.Stdout) != "only thisroot\n" {
			t.Fatalf("cat with stdin under NOPASSWD sudo: %q, %v", res.Stdout, err)
		}
		if strings.Contains(rc.sent(), labNopwPassword) {
			t.Errorf("the password was sent although sudo did not ask: %q", rc.sent())
		}
	})

	t.Run("RequireTTY", func(t *testing.T) {
		rc := dialAs(t, l, h, "ttyuser")
		_, err := Become(rc, BecomeOptions{Password: labSudoPassword}).Run(ctx, whoami)
		if !errors.Is(err, ErrBecomeRequiresTTY) || !strings.Contains(err.Error(), "requiretty") {
			t.Fatalf("want the requiretty error, got %v", err)
		}
		if strings.Contains(rc.sent(), labSudoPassword) {
			t.Errorf("the password was sent although sudo did not ask: %q", rc.sent())
		}
	})

	t.Run("NotInSudoers", func(t *testing.T) {
		// A user without any sudoers rule: sudo takes the (correct)
		// password, then refuses; its own message is passed on.
		h.AddUser(t, lab.User{Name: "plain", Password: labSudoPassword})
		rc := dialAs(t, l, h, "plain")
		_, err := Become(rc, BecomeOptions{Password: labSudoPassword}).Run(ctx, whoami)
		if !errors.Is(err, ErrBecomeFailed) || !strings.Contains(err.Error(), "sudoers") {
			t.Fatalf("want a sudo failure naming sudoers, got %v", err)
		}
	})
}
