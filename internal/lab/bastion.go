package lab

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Isolate puts targets behind bastion, for ProxyJump tests: afterwards the
// only way to a target is through the bastion's sshd.
//
// Each target's veth to the root namespace is deleted and replaced by a
// point-to-point veth to the bastion ("tb<k>" in the bastion, "eth0" in the
// target), with /32 routes both ways. Addresses, ports and host keys do not
// change: a target is still reached as Host.Addr, only the path differs.
// In the root namespace the target's old gateway address stays, on a new
// veth whose peer ("tvx<k>", also in the root namespace) is left down, so a
// direct dial from this machine fails instead of leaking to a default
// route. Teardown removes everything as usual (the new veth is in the
// lab's link group and takes its peer along; the bastion's veths go with
// the namespaces).
//
// Isolate does not change the bastion's own reachability. Lab.SSH and
// KnownHosts stay valid for the bastion; for targets only known_hosts is.
func (l *Lab) Isolate(t TB, bastion *Host, targets ...*Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var root, inBastion []string
	for _, h := range targets {
		if h == bastion {
			t.Fatalf("lab: isolate: %s cannot be its own bastion", h.Name)
		}
		k := strings.TrimPrefix(h.veth, vethPrefix)
		peer := "tb" + k
		root = append(root,
			"link del "+h.veth,
			fmt.Sprintf("link add %s group %d type veth peer name tvx%s", h.veth, l.linkGroup(), k),
			fmt.Sprintf("addr add %s/30 dev %s", h.gw, h.veth),
			"link set "+h.veth+" up",
			fmt.Sprintf("link add %s netns %s type veth peer name eth0 netns %s", peer, bastion.NS, h.NS))
		inBastion = append(inBastion,
			"link set "+peer+" up",
			fmt.Sprintf("route add %s/32 dev %s", h.Addr, peer))
	}
	if err := ipBatchStrict(ctx, l.tools.ip, "", root); err != nil {
		t.Fatalf("lab: isolate: %v", err)
	}
	for _, h := range targets {
		if err := ipBatchStrict(ctx, l.tools.ip, h.NS, []string{
			fmt.Sprintf("addr add %s/30 dev eth0", h.Addr),
			"link set eth0 up",
			fmt.Sprintf("route add %s/32 dev eth0", bastion.Addr),
		}); err != nil {
			t.Fatalf("lab: isolate %s: %v", h.Name, err)
		}
	}
	if err := ipBatchStrict(ctx, l.tools.ip, bastion.NS, inBastion); err != nil {
		t.Fatalf("lab: isolate: bastion %s: %v", bastion.Name, err)
	}
}

// ipBatchStrict is ipBatch that stops at the first failing line (no
// -force): isolation half done must fail the test, not pass silently.
func ipBatchStrict(ctx context.Context, ip, ns string, lines []string) error {
	for _, line := range lines {
		args := strings.Fields(line)
		if ns != "" {
			args = append([]string{"-n", ns}, args...)
		}
		if out, err := exec.CommandContext(ctx, ip, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}
