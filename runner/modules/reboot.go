package modules

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// rebootSpec reboots a host and waits until it is back: Ansible's reboot.
// It reads the host's boot ID, runs the reboot command, drops the
// connection and opens it again through the run's connector (the same
// known_hosts checks) until the host answers with a new boot ID, then runs
// test_command. A dry run reads the boot ID and says what would happen.
var rebootSpec = Spec{New: newReboot}

// Ansible's defaults for reboot.
const (
	defaultRebootTimeout   = 600 * time.Second
	defaultTestCommand     = "whoami"
	defaultBootTimeCommand = "cat /proc/sys/kernel/random/boot_id"
	defaultRebootMsg       = "Reboot initiated by Ansible"
)

// rebootArgs are the YAML arguments of reboot.
type rebootArgs struct {
	RebootTimeout   time.Duration `yaml:"reboot_timeout"`
	PreRebootDelay  time.Duration `yaml:"pre_reboot_delay"`
	PostRebootDelay time.Duration `yaml:"post_reboot_delay"`
	ConnectTimeout  time.Duration `yaml:"connect_timeout"`
	TestCommand     string        `yaml:"test_command"`
	Msg             string        `yaml:"msg"`
	// RebootCommand replaces `shutdown -r +N "msg"` (a shell command line,
	// as in Ansible 2.14); pre_reboot_delay and msg then do not apply.
	RebootCommand   string `yaml:"reboot_command"`
	BootTimeCommand string `yaml:"boot_time_command"`
}

// rebootModule is one reboot task.
type rebootModule struct {
	a rebootArgs
}

func newReboot(a Args) (Module, error) {
	args := rebootArgs{RebootTimeout: defaultRebootTimeout, TestCommand: defaultTestCommand,
		BootTimeCommand: defaultBootTimeCommand, Msg: defaultRebootMsg}
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	if args.RebootTimeout == 0 && !templatedArg(a.Node, "reboot_timeout") {
		return nil, posErr(a.File, argValueNode(a.Node, "reboot_timeout"), "reboot", "reboot_timeout must be more than 0 seconds")
	}
	for _, k := range []struct {
		key, val string
	}{{"test_command", args.TestCommand}, {"boot_time_command", args.BootTimeCommand}} {
		if strings.TrimSpace(k.val) == "" {
			return nil, posErr(a.File, argValueNode(a.Node, k.key), "reboot", "%s must not be empty", k.key)
		}
	}
	if v, ok := lookupArg(a.Node, "reboot_command"); ok && strings.TrimSpace(args.RebootCommand) == "" {
		return nil, posErr(a.File, v, "reboot", "reboot_command must not be empty (leave it out for shutdown -r)")
	}
	return &rebootModule{a: args}, nil
}

// rebootPlan is what Check read, for Apply.
type rebootPlan struct{ bootID string }

// Check refuses a local connection (it would reboot the machine tend runs
// on) and a connection the run cannot re-establish, then reads the boot ID.
func (m *rebootModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	if transport.IsLocal(conn) {
		return plan.Change{}, errors.New("reboot: refusing to run over a local connection: it would reboot the machine tend runs on")
	}
	if reconnectFrom(ctx) == nil {
		return plan.Change{}, errors.New("reboot: this connection cannot be re-established after a reboot (a delegated task cannot reboot)")
	}
	id, err := m.bootID(ctx, conn)
	if err != nil {
		return plan.Change{}, err
	}
	return plan.Change{Action: plan.Restart, Private: rebootPlan{bootID: id},
		Summary: fmt.Sprintf("would reboot with %s (boot ID %s), then wait up to %s for a new boot ID and %q to succeed",
			m.commandText(), id, m.a.RebootTimeout, m.a.TestCommand),
		Data: map[string]any{"rebooted": true, "elapsed": 0}}, nil // Ansible's check-mode result
}

// commandText is the reboot command as the user reads it.
func (m *rebootModule) commandText() string {
	if m.a.RebootCommand != "" {
		return m.a.RebootCommand
	}
	return fmt.Sprintf("shutdown -r +%d %q", int(m.a.PreRebootDelay/time.Minute), m.a.Msg)
}

// rebootArgv is the reboot command: the user's command line run by sh, or
// shutdown found in the sbin directories (as Ansible looks there), the
// delay in whole minutes and the message passed as arguments.
func (m *rebootModule) rebootArgv() []string {
	if m.a.RebootCommand != "" {
		return []string{"/bin/sh", "-c", m.a.RebootCommand}
	}
	return []string{"/bin/sh", "-c", `PATH=/sbin:/usr/sbin:/usr/local/sbin:$PATH; exec shutdown -r "+$1" "$2"`,
		"tend-reboot", strconv.Itoa(int(m.a.PreRebootDelay / time.Minute)), m.a.Msg}
}

// bootID runs boot_time_command; an empty answer is an error.
func (m *rebootModule) bootID(ctx context.Context, conn transport.Conn) (string, error) {
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", m.a.BootTimeCommand}, Timeout: time.Minute, MaxOutput: 4096})
	if err != nil {
		return "", fmt.Errorf("reboot: read the boot ID: %w", err)
	}
	id := strings.TrimSpace(string(res.Stdout))
	if res.ExitCode != 0 || id == "" {
		return "", fmt.Errorf("reboot: boot_time_command %q failed (exit %d): %s", m.a.BootTimeCommand, res.ExitCode,
			firstNonEmptyStr(strings.TrimSpace(string(res.Stderr)), "no output"))
	}
	return id, nil
}

// Apply runs the reboot command (a connection lost meanwhile is expected)
// and waits for the host to come back (rebootwait.go).
func (m *rebootModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	before, _ := planned.Private.(rebootPlan)
	reconnect := reconnectFrom(ctx)
	if reconnect == nil {
		return plan.Change{}, errors.New("reboot: this connection cannot be re-established after a reboot")
	}
	if before.bootID == "" { // a plan without Check's data: read it now
		id, err := m.bootID(ctx, conn)
		if err != nil {
			return plan.Change{}, err
		}
		before.bootID = id
	}
	start := time.Now()
	res, err := conn.Run(ctx, transport.Command{Argv: m.rebootArgv(), OwnSession: true, Timeout: m.a.RebootTimeout, MaxOutput: 64 << 10})
	switch {
	case err != nil && transport.IsUnreachable(err):
		// The host went down before the command returned: expected.
	case err != nil:
		return plan.Change{}, fmt.Errorf("reboot: run the reboot command: %w", err)
	case res.ExitCode != 0:
		return plan.Change{Action: plan.Restart, Failed: true,
			Msg:  fmt.Sprintf("reboot command failed (exit %d): %s", res.ExitCode, firstNonEmptyStr(strings.TrimSpace(string(res.Stderr)), strings.TrimSpace(string(res.Stdout)))),
			Data: map[string]any{"rebooted": false, "elapsed": int(time.Since(start).Seconds())}}, nil
	}
	w := &rebootWait{m: m, reconnect: reconnect, before: before.bootID}
	return w.run(ctx, start)
}

// firstNonEmptyStr returns the first non-empty string.
func firstNonEmptyStr(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
