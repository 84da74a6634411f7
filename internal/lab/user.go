package lab

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// User is a login account AddUser creates on a host, for privilege
// escalation (sudo) tests.
type User struct {
	// Name is the login name ("deploy").
	Name string
	// Password is set with chpasswd; empty leaves the account without a
	// usable password ("*": key login works, password checks fail).
	Password string
	// Sudoers, when set, is written to /etc/sudoers.d/tend-<Name> (mode
	// 0440) and checked with visudo, e.g. "deploy ALL=(ALL:ALL) ALL\n".
	Sudoers string
}

// addUserScript appends the account to the host's passwd, group and shadow
// (no useradd: it would also touch this machine's /var/log), sets its
// password and sudoers rule, and prints its uid.
const addUserScript = `set -e
name=$1 home=$2 pw=$3 rule=$4
uid=2000
while getent passwd "$uid" >/dev/null || getent group "$uid" >/dev/null; do uid=$((uid+1)); done
printf '%s:x:%s:%s::%s:/bin/sh\n' "$name" "$uid" "$uid" "$home" >>/etc/passwd
printf '%s:x:%s:\n' "$name" "$uid" >>/etc/group
printf '%s:*:19000:0:99999:7:::\n' "$name" >>/etc/shadow
if [ -n "$pw" ]; then printf '%s:%s\n' "$name" "$pw" | chpasswd; fi
if [ -n "$rule" ]; then
	f=/etc/sudoers.d/tend-$name
	printf '%s' "$rule" >"$f"
	chmod 0440 "$f"
	visudo -c -q -f "$f" >&2
fi
echo "$uid"`

// AddUser creates a login account on h, reachable over SSH with the lab's
// ClientKey like root: its home is a directory under Lab.Dir holding
// .ssh/authorized_keys. It needs a lab built WithOverlayEtc, so that the
// passwd, group, shadow and sudoers.d files it changes are the host's own
// and never this machine's; a Sudoers rule also needs sudo installed.
func (h *Host) AddUser(t TB, u User) {
	t.Helper()
	if h.holder == nil {
		t.Fatalf("lab: %s: AddUser needs a lab built WithOverlayEtc (the host's /etc/shadow would be this machine's)", h.Name)
	}
	if u.Name == "" || strings.ContainsAny(u.Name, ":/\n ") {
		t.Fatalf("lab: %s: AddUser: bad user name %q", h.Name, u.Name)
	}
	if u.Sudoers != "" {
		if _, err := exec.LookPath("visudo"); err != nil {
			t.Fatalf("lab: %s: AddUser: sudo is not installed (apt-get install -y sudo)", h.Name)
		}
	}
	pub, err := os.ReadFile(h.lab.ClientKey + ".pub")
	if err != nil {
		t.Fatalf("lab: %s: AddUser: %v", h.Name, err)
	}
	home := filepath.Join(h.dir, "home", u.Name)
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatalf("lab: %s: AddUser: %v", h.Name, err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "authorized_keys"), pub, 0o600); err != nil {
		t.Fatalf("lab: %s: AddUser: %v", h.Name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, _, err := h.Exec(ctx, "/bin/sh", "-c", addUserScript, "tend-lab-adduser", u.Name, home, u.Password, u.Sudoers)
	if err != nil {
		t.Fatalf("lab: %s: AddUser %s: %v", h.Name, u.Name, err)
	}
	uid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("lab: %s: AddUser %s: unexpected uid %q", h.Name, u.Name, out)
	}
	// The lab directory is reachable to the user: sshd reads the key as
	// root (StrictModes no), the user's own session needs its home.
	for _, p := range []string{home, filepath.Join(home, ".ssh"), filepath.Join(home, ".ssh", "authorized_keys")} {
		if err := os.Chown(p, uid, uid); err != nil {
			t.Fatalf("lab: %s: AddUser: %v", h.Name, err)
		}
	}
	for _, d := range []string{h.lab.Dir, h.dir, filepath.Dir(home)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatalf("lab: %s: AddUser: %v", h.Name, err)
		}
	}
}
