package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"tend/runner"
)

// becomeFlags are the privilege escalation flags of `tend run`, named as
// ansible-playbook's.
type becomeFlags struct {
	become  bool
	user    string
	askPass bool
	// tty is where --ask-become-pass prompts: /dev/tty (the controlling
	// terminal, even when stdin and stdout are redirected).
	tty string
}

func addBecomeFlags(fs *pflag.FlagSet, b *becomeFlags) {
	b.tty = "/dev/tty"
	fs.BoolVarP(&b.become, "become", "b", false, "run tasks with sudo (a play's or task's become: wins; the variable ansible_become wins over both)")
	fs.StringVar(&b.user, "become-user", "", "user to become when the play, task and inventory name none (default root)")
	fs.BoolVarP(&b.askPass, "ask-become-pass", "K", false, "prompt on the terminal for the sudo password (the variable ansible_become_password wins over it)")
}

// apply sets opts.Become, prompting for the password when asked to.
func (b *becomeFlags) apply(opts *runner.Options) error {
	opts.Become = runner.BecomeOptions{Become: b.become, User: b.user}
	if !b.askPass {
		return nil
	}
	pw, err := readPassword(b.tty, "BECOME password: ")
	if err != nil {
		return badInput(fmt.Errorf("run: --ask-become-pass: %w", err))
	}
	opts.Become.Password = pw
	return nil
}

// errNoTTY means there is no terminal to prompt on.
var errNoTTY = errors.New("no terminal to prompt on; give the password in the variable ansible_become_password instead (e.g. -e @vault.yml)")

// readPassword prompts on the terminal tty and reads a line without echo.
// It refuses when tty cannot be opened or is not a terminal: a password is
// never read from a pipe, where it would be echoed or logged.
func readPassword(tty, prompt string) (string, error) {
	f, err := os.OpenFile(tty, os.O_RDWR, 0)
	if err != nil {
		return "", errNoTTY
	}
	defer f.Close()
	if !term.IsTerminal(int(f.Fd())) {
		return "", errNoTTY
	}
	fmt.Fprint(f, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(f)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", errors.New("empty password")
	}
	return pw, nil
}
