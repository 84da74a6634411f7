package modules

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"tend/runner/transport"
)

func newRebootT(t *testing.T, src string) *rebootModule {
	t.Helper()
	m, err := newReboot(Args{Node: argsNode(t, src), File: "play.yml"})
	if err != nil {
		t.Fatal(err)
	}
	return m.(*rebootModule)
}

func TestRebootArgs(t *testing.T) {
	m := newRebootT(t, "{}")
	want := rebootArgs{RebootTimeout: 600 * time.Second, TestCommand: "whoami", Msg: "Reboot initiated by Ansible",
		BootTimeCommand: "cat /proc/sys/kernel/random/boot_id"}
	if m.a != want {
		t.Errorf("defaults: %+v, want %+v", m.a, want)
	}
	for src, want := range map[string]string{
		"reboot_timeout: 0":                   "play.yml:1:17: reboot: reboot_timeout must be more than 0 seconds",
		"reboot_timeout: -1":                  "reboot_timeout",
		"pre_reboot_delay: soon":              "pre_reboot_delay",
		"test_command: ' '":                   "play.yml:1:15: reboot: test_command must not be empty",
		"boot_time_command: ''":               "play.yml:1:20: reboot: boot_time_command must not be empty",
		"reboot_command: ''":                  "play.yml:1:17: reboot: reboot_command must not be empty",
		"post_reboot_dely: 5":                 `did you mean "post_reboot_delay"`,
		"search_paths: [/sbin]":               "search_paths",
		"reboot_timeout: '{{ t }}'\nmsg: bye": "", // validated once rendered
	} {
		_, err := newReboot(Args{Node: argsNode(t, src), File: "play.yml"})
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", src, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", src, err, want)
		}
	}
}

// simHost is an in-memory host for the reboot module's own logic: it
// answers the boot ID and test commands, and records what ran.
type simHost struct {
	mu       sync.Mutex
	bootID   string
	ran      [][]string
	rebootRC int   // exit code of the reboot command
	dropped  bool  // the reboot command loses the connection
	testRC   int   // exit code of test_command
	dialErr  error // what a reconnect returns, if not nil
	dials    int
}

func (h *simHost) Run(_ context.Context, cmd transport.Command) (transport.Result, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ran = append(h.ran, cmd.Argv)
	script := cmd.Argv[2]
	switch {
	case strings.Contains(script, "boot_id"):
		return transport.Result{Stdout: []byte(h.bootID + "\n")}, nil
	case strings.Contains(script, "shutdown") || script == "my-reboot":
		if h.rebootRC != 0 {
			return transport.Result{ExitCode: h.rebootRC, Stderr: []byte("shutdown: not allowed")}, nil
		}
		h.bootID = "new-boot"
		if h.dropped {
			return transport.Result{}, &transport.UnreachableError{Host: "sim", Err: errors.New("connection lost")}
		}
		return transport.Result{}, nil
	case script == "whoami":
		return transport.Result{ExitCode: h.testRC, Stdout: []byte("root\n")}, nil
	}
	return transport.Result{ExitCode: 127}, nil
}

func (h *simHost) Close() error { return nil }

func (h *simHost) reconnect(context.Context) (transport.Conn, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dials++
	if h.dialErr != nil {
		return nil, h.dialErr
	}
	return h, nil
}

// TestRebootFlow: the commands reboot runs, and how it judges what the
// host answers, on an in-memory host (the lab test reboots real sshds).
func TestRebootFlow(t *testing.T) {
	hostKey := &transport.HostKeyError{Host: "sim:22", Mismatch: true, KnownHosts: "kh", Line: 1}
	for _, tc := range []struct {
		name, args string
		host       *simHost
		reboot     []string // the reboot command's argv
		failed     string   // the failed result's message
		err        string   // a Go error
		dials      int
	}{
		{name: "default shutdown, connection dropped", args: "pre_reboot_delay: 150\nmsg: it's time", host: &simHost{dropped: true},
			reboot: []string{"/bin/sh", "-c", `PATH=/sbin:/usr/sbin:/usr/local/sbin:$PATH; exec shutdown -r "+$1" "$2"`, "tend-reboot", "2", "it's time"}, dials: 1},
		{name: "reboot_command returns", args: "reboot_command: my-reboot", reboot: []string{"/bin/sh", "-c", "my-reboot"}, dials: 1},
		{name: "reboot command fails", args: "reboot_timeout: 1s", host: &simHost{rebootRC: 1}, failed: "reboot command failed (exit 1): shutdown: not allowed"},
		{name: "host key changed", args: "reboot_timeout: 1s", host: &simHost{dialErr: hostKey}, err: "HOST KEY MISMATCH", dials: 1},
		{name: "test command fails", args: "reboot_timeout: 1s", host: &simHost{testRC: 1},
			failed: "came back (boot ID new-boot) but the test command did not succeed within reboot_timeout (1s): test command \"whoami\" failed (exit 1)", dials: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.host
			if h == nil {
				h = &simHost{}
			}
			h.bootID = "old-boot"
			m := newRebootT(t, tc.args)
			ctx := WithReconnect(context.Background(), h.reconnect)
			c, err := m.Check(ctx, h)
			if err != nil || !c.Changed() || !strings.Contains(c.Summary, "would reboot with ") || !strings.Contains(c.Summary, "(boot ID old-boot)") {
				t.Fatalf("check: %v %+v", err, c)
			}
			if len(h.ran) != 1 || h.bootID != "old-boot" {
				t.Fatalf("check ran %q", h.ran)
			}
			got, err := m.Apply(ctx, h, c)
			switch {
			case tc.err != "":
				var hk *transport.HostKeyError
				if err == nil || !strings.Contains(err.Error(), tc.err) || !transport.IsUnreachable(err) || !errors.As(err, &hk) {
					t.Errorf("apply: err %v, want unreachable with %q", err, tc.err)
				}
			case err != nil:
				t.Fatalf("apply: %v", err)
			case tc.failed != "":
				if !got.Failed || !strings.Contains(got.Msg, tc.failed) {
					t.Errorf("apply: failed=%v %q, want %q", got.Failed, got.Msg, tc.failed)
				}
			default:
				if got.Failed || got.Summary == "" || !strings.Contains(got.Summary, "old-boot -> new-boot") || got.Data["rebooted"] != true {
					t.Errorf("apply: %+v", got)
				}
			}
			if tc.reboot != nil && !reflect.DeepEqual(h.ran[1], tc.reboot) {
				t.Errorf("reboot command %q, want %q", h.ran[1], tc.reboot)
			}
			if h.dials != tc.dials {
				t.Errorf("%d reconnects, want %d", h.dials, tc.dials)
			}
		})
	}
}

// TestRebootRefuses: over a local connection (the machine tend runs on) or
// one that cannot be re-established (delegated), Check runs nothing.
func TestRebootRefuses(t *testing.T) {
	m := newRebootT(t, "boot_time_command: touch /nonexistent/x")
	h := &simHost{}
	for name, tc := range map[string]struct {
		ctx  context.Context
		conn transport.Conn
		want string
	}{
		"local":     {WithReconnect(context.Background(), h.reconnect), transport.Local(), "refusing to run over a local connection"},
		"delegated": {context.Background(), h, "cannot be re-established"},
	} {
		_, err := m.Check(tc.ctx, tc.conn)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if len(h.ran) != 0 || h.dials != 0 {
		t.Errorf("ran %q, %d reconnects", h.ran, h.dials)
	}
}
