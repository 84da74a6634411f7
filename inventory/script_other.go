//go:build !unix

package inventory

import "os/exec"

// killGroup is a no-op where process groups do not exist; cancellation
// kills the script itself and WaitDelay bounds the rest.
func killGroup(cmd *exec.Cmd) {}
