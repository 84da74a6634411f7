// Package lab builds a test lab of simulated hosts on this one machine, so
// that tend's integration tests run against real OpenSSH servers.
//
// Each simulated host is a network namespace ("tend-<pid>-<k>") joined to
// the root namespace by a veth pair ("tvr<k>" in the root namespace, "eth0"
// inside), with a private address from 10.77.0.0/16 (one /30 per host: the
// root side holds .1, the host .2 of its block) and its own Debian OpenSSH
// sshd with its own host keys. Each side's neighbour (ARP) entry for the
// other is permanent, so a lab of a thousand hosts never overflows the
// kernel's neighbour table, which all namespaces share. Each host's /etc view differs from this
// machine's in two files: sysctl.conf (a small default) and passwd (root's
// home is a per-host empty directory holding only .ssh/authorized_keys, so
// no dotfile of this machine's root runs in a session).
//
// Two /etc shapes exist, because both are real:
//
//   - the default: `ip netns exec` bind-mounts each file of /etc/netns/<ns>
//     over /etc/<file>; writing a file in place works, but rename(2) over
//     /etc/sysctl.conf fails with EBUSY, as in many containers;
//   - WithOverlayEtc: the host's processes live in a mount namespace where an
//     overlayfs (lower /etc, upper under Lab.Dir) covers /etc, so an atomic
//     rename over /etc/sysctl.conf works.
//
// Subnets are reserved under a lock file in /run/tend-lab, so several test
// processes (go test runs packages in parallel) can build labs at once. New
// also removes what crashed runs left behind: namespaces, veths,
// /etc/netns directories and reservations of processes that no longer exist.
// It never touches those of a live process.
//
// Everything is torn down through the TB's Cleanup: processes are killed by
// PID and waited for, veths and namespaces deleted, /etc/netns directories
// and the temporary directory removed. The lab needs root; without it New
// fails the test, unless TEND_LAB=skip is set in the environment.
//
// The command internal/lab/cmd/tend-lab brings a lab up outside go test, for
// benchmark scripts.
package lab
