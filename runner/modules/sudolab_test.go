package modules

import (
	"testing"

	"tend/internal/lab"
	"tend/runner/transport"
)

// labSudoPassword is the password of sudoLab's deploy user.
const labSudoPassword = "Corr3ct-horse"

// sudoLab starts one lab host with a password-asking sudoer "deploy" and
// returns deploy's SSH connection on it and root's: the same through sudo
// (become with the password). The connection closes when the test ends.
func sudoLab(t *testing.T) (deploy, root transport.Conn) {
	t.Helper()
	l := lab.New(t, 1, lab.WithOverlayEtc())
	h := l.Hosts[0]
	h.AddUser(t, lab.User{Name: "deploy", Password: labSudoPassword, Sudoers: "deploy ALL=(ALL:ALL) ALL\n"})
	c := dialLab(t, l, h, "deploy")
	return c, transport.Become(c, transport.BecomeOptions{Password: labSudoPassword})
}
