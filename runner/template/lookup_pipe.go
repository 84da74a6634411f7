package template

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"tend/internal/capwriter"
)

// maxPipeOutput bounds what lookup('pipe') keeps of a command's output.
const maxPipeOutput = 4 << 20

// lookupPipe is Ansible's pipe lookup: the command line run by /bin/sh
// on the controller (never on a host), in the playbook's directory (the
// loader's basedir), its standard output without trailing whitespace; a
// non-zero exit fails with Ansible's message. Like every lookup it runs
// each time the template is rendered: per host, in check mode too.
func lookupPipe(cmdline string, env map[string]any) (string, error) {
	cmd := exec.Command("/bin/sh", "-c", cmdline)
	if dir, ok := env["playbook_dir"].(string); ok && dir != "" {
		cmd.Dir = dir
	}
	out := capwriter.New(maxPipeOutput)
	cmd.Stdout = out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return "", fmt.Errorf("lookup_plugin.pipe(%s) returned %d", cmdline, exit.ExitCode())
	case err != nil:
		return "", fmt.Errorf("lookup_plugin.pipe(%s): %w", cmdline, err)
	}
	kept, _ := out.Snapshot()
	return strings.TrimRight(string(kept), " \t\n\r\v\f"), nil
}
