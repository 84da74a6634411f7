package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/gofrs/flock"
)

// Names and places shared by every lab on the machine.
const (
	nsPrefix   = "tend-"         // network namespace names: tend-<pid>-<k>
	vethPrefix = "tvr"           // root-side veth names: tvr<k> (k < 16384: 8 chars)
	stateDir   = "/run/tend-lab" // lock file and per-lab subnet reservations
	netnsDir   = "/run/netns"
	etcNetns   = "/etc/netns"
	maxSubnets = 1 << 14 // /30 blocks in 10.77.0.0/16
)

var (
	nsNameRe = regexp.MustCompile(`^tend-([0-9]+)-[0-9]+$`)
	vethRe   = regexp.MustCompile(`^tvr([0-9]+)$`)
	resRe    = regexp.MustCompile(`^res-([0-9]+)-[0-9]+$`)
)

// subnetAddrs returns the root-side and namespace-side addresses of /30 block k.
func subnetAddrs(k int) (root, host netip.Addr) {
	base := 4 * k
	root = netip.AddrFrom4([4]byte{10, 77, byte(base >> 8), byte(base&0xff) + 1})
	host = netip.AddrFrom4([4]byte{10, 77, byte(base >> 8), byte(base&0xff) + 2})
	return root, host
}

// vethMACs returns the fixed MAC addresses of /30 block k's veth pair
// (locally administered, 02:74:65:SIDE:k): the lab pins each side's
// neighbour entry to the other's address, so no ARP is ever needed. The
// kernel's neighbour table is one for every namespace, and a lab of N
// hosts would add 2N dynamic entries: past gc_thresh3 (1024 by default)
// "neighbor table overflow" drops packets and a host's sshd seems down.
// Permanent entries are exempt from that limit, and go with the veth.
func vethMACs(k int) (root, host string) {
	return fmt.Sprintf("02:74:65:00:%02x:%02x", k>>8&0xff, k&0xff),
		fmt.Sprintf("02:74:65:01:%02x:%02x", k>>8&0xff, k&0xff)
}

// pidAlive reports whether a process with this PID exists. A reused PID
// counts as alive: stale state is then kept, never wrongly removed.
func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// reservation is one lab's claim on subnets, stored in stateDir so that
// concurrent test processes never pick the same addresses or veth names.
type reservation struct {
	path    string
	subnets []int
}

// release drops the claim; call it only once the lab's veths are gone.
func (r *reservation) release() error {
	if r == nil {
		return nil
	}
	if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// reserve cleans up what dead processes left behind and claims n free
// subnets, all under the machine-wide lock file.
func reserve(ctx context.Context, n int, labSeq int64, ip string) (*reservation, error) {
	if n > maxSubnets {
		return nil, fmt.Errorf("%d hosts: at most %d fit in 10.77.0.0/16", n, maxSubnets)
	}
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, err
	}
	lock := flock.New(filepath.Join(stateDir, "lock"))
	if err := lock.Lock(); err != nil {
		return nil, fmt.Errorf("lock %s: %w", lock.Path(), err)
	}
	defer lock.Unlock()

	removeStale(ctx, ip)
	used, err := liveReservations()
	if err != nil {
		return nil, err
	}
	if err := collectRootSide(ctx, ip, used); err != nil {
		return nil, err
	}
	r := &reservation{path: filepath.Join(stateDir, fmt.Sprintf("res-%d-%d", os.Getpid(), labSeq))}
	var b strings.Builder
	for k := 0; k < maxSubnets && len(r.subnets) < n; k++ {
		if !used[k] {
			r.subnets = append(r.subnets, k)
			fmt.Fprintln(&b, k)
		}
	}
	if len(r.subnets) < n {
		return nil, fmt.Errorf("only %d free subnets in 10.77.0.0/16, need %d", len(r.subnets), n)
	}
	if err := os.WriteFile(r.path, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	return r, nil
}

// liveReservations reads the claims of live processes and removes the others.
func liveReservations() (map[int]bool, error) {
	entries, err := os.ReadDir(stateDir)
	if err != nil {
		return nil, err
	}
	used := map[int]bool{}
	for _, e := range entries {
		m := resRe.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		p := filepath.Join(stateDir, e.Name())
		if pid, _ := strconv.Atoi(m[1]); !pidAlive(pid) {
			os.Remove(p)
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			continue // released meanwhile
		}
		for _, f := range strings.Fields(string(data)) {
			if k, err := strconv.Atoi(f); err == nil {
				used[k] = true
			}
		}
	}
	return used, nil
}

// collectRootSide marks as used every subnet with a root-side veth or
// address, deleting lab veths that no live reservation claims.
func collectRootSide(ctx context.Context, ip string, used map[int]bool) error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return err
	}
	var stale []string
	for _, ifc := range ifaces {
		if m := vethRe.FindStringSubmatch(ifc.Name); m != nil {
			k, _ := strconv.Atoi(m[1])
			if !used[k] {
				stale = append(stale, "link del "+ifc.Name)
			}
			used[k] = true
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if pfx, err := netip.ParsePrefix(a.String()); err == nil {
				if b := pfx.Addr().As16(); pfx.Addr().Is4() && b[12] == 10 && b[13] == 77 {
					used[(int(b[14])<<8|int(b[15]))/4] = true
				}
			}
		}
	}
	if len(stale) > 0 {
		ipBatch(ctx, ip, "", stale) // best effort: the subnets stay marked used
	}
	return nil
}

// removeStale deletes namespaces and /etc/netns directories named after a
// PID that no longer runs, after killing the processes still inside them.
func removeStale(ctx context.Context, ip string) {
	stale := map[string]bool{}
	for _, dir := range []string{netnsDir, etcNetns} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if m := nsNameRe.FindStringSubmatch(e.Name()); m != nil {
				if pid, _ := strconv.Atoi(m[1]); !pidAlive(pid) {
					stale[e.Name()] = true
				}
			}
		}
	}
	if len(stale) == 0 {
		return
	}
	var names, cmds []string
	for ns := range stale {
		names = append(names, ns)
		if _, err := os.Stat(filepath.Join(netnsDir, ns)); err == nil {
			cmds = append(cmds, "netns del "+ns)
		}
	}
	killAndWait(pidsInNetns(names), syscall.SIGKILL)
	if len(cmds) > 0 {
		ipBatch(ctx, ip, "", cmds)
	}
	for _, ns := range names {
		os.RemoveAll(filepath.Join(etcNetns, ns))
	}
}

// ipBatch runs `ip [-n ns] -force -batch -` over lines; with -force every
// line is tried even after a failure.
func ipBatch(ctx context.Context, ip, ns string, lines []string) error {
	args := []string{"-force", "-batch", "-"}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	cmd := exec.CommandContext(ctx, ip, args...)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}
