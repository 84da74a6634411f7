package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

// TB is the part of testing.TB the lab uses; *testing.T and *testing.B
// satisfy it, and the tend-lab command provides its own.
type TB interface {
	Helper()
	Logf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
}

// Lab is a set of simulated hosts plus the client-side files to reach them.
type Lab struct {
	Dir        string  // directory holding keys, known_hosts and per-host files
	ClientKey  string  // ed25519 private key (no passphrase) authorized for root on every host
	KnownHosts string  // known_hosts holding every host's ed25519 key under its address
	Hosts      []*Host // h1..hN

	cfg     config
	tools   tools
	res     *reservation
	tempDir bool // Dir was created by New and is removed at teardown
}

// Host is one simulated host: a network namespace with its own sshd.
type Host struct {
	Name       string // inventory name: "h1".."hN"
	NS         string // network namespace name: "tend-<pid>-<k>"
	Addr       string // IPv4 address inside the namespace, reachable from the root namespace
	Port       int    // sshd port: 22
	EtcDir     string // files here are the host's /etc/<file> (see New)
	HostKeyPub string // the ed25519 host public key line: "ssh-ed25519 AAAA..."

	lab    *Lab
	dir    string // per-host directory under Lab.Dir
	veth   string // root-side veth name
	gwMAC  string // the root-side veth's MAC, pinned in the host's neighbour table
	gw     string // root-side address
	mu     sync.Mutex
	sshd   *Proc
	holder *Proc // WithOverlayEtc: keeps the overlay's mount namespace alive
	procs  []*Proc
	reboot *rebooter // EnableReboot (reboot.go)
}

// Option changes how New builds the lab.
type Option func(*config)

type config struct {
	overlayEtc bool
	dir        string
	parallel   int
}

// WithOverlayEtc runs each host's processes in a mount namespace where an
// overlayfs (lower: this machine's /etc, upper: Host.EtcDir under Lab.Dir)
// covers /etc, so that rename(2) over /etc/sysctl.conf succeeds. Without
// it, /etc/sysctl.conf is a bind mount and such a rename fails with EBUSY.
// Exec, Start and sshd join that mount namespace; a bare `ip netns exec`
// does not, and sees this machine's /etc.
func WithOverlayEtc() Option { return func(c *config) { c.overlayEtc = true } }

// WithDir puts the lab's files in dir (created if missing, kept at
// teardown) instead of a new temporary directory that teardown removes.
func WithDir(dir string) Option { return func(c *config) { c.dir = dir } }

// WithParallel bounds how many hosts are set up or torn down at once
// (default 32).
func WithParallel(n int) Option { return func(c *config) { c.parallel = max(n, 1) } }

// tools are absolute paths of the programs the lab runs.
type tools struct{ ip, nsenter, sshd string }

// labSeq numbers the labs of this process; it only makes reservation file
// names unique (namespace and veth names come from the reserved subnets).
var labSeq atomic.Int64

// setupTimeout bounds the whole of New.
const setupTimeout = 5 * time.Minute

// New creates n simulated hosts and registers their teardown with
// t.Cleanup. It needs root: otherwise it calls t.Fatalf, or t.Skipf when
// the environment has TEND_LAB=skip.
//
// Host.EtcDir is /etc/netns/<NS> by default (`ip netns exec` bind-mounts its
// files over /etc); with WithOverlayEtc it is the overlay's upper directory
// under Lab.Dir. Either way it holds sysctl.conf and passwd, and writing a
// file there in place changes what the host sees.
func New(t TB, n int, opts ...Option) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("TEND_LAB") == "skip" {
			t.Skipf("lab: needs root (TEND_LAB=skip is set)")
		}
		t.Fatalf("lab: needs root to create network namespaces (set TEND_LAB=skip to skip instead)")
	}
	if n < 1 {
		t.Fatalf("lab: need at least one host, got %d", n)
	}
	l := &Lab{cfg: config{parallel: 32}}
	for _, o := range opts {
		o(&l.cfg)
	}
	var err error
	if l.tools, err = findTools(); err != nil {
		t.Fatalf("lab: %v (apt-get install -y openssh-server iproute2 util-linux)", err)
	}
	t.Cleanup(func() { l.teardown(t) }) // registered first: it also undoes a half-done New
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := l.setup(ctx, n); err != nil {
		t.Fatalf("lab: %v", err)
	}
	return l
}

func findTools() (tools, error) {
	var ts tools
	var err error
	if ts.ip, err = exec.LookPath("ip"); err != nil {
		return ts, err
	}
	if ts.nsenter, err = exec.LookPath("nsenter"); err != nil {
		return ts, err
	}
	ts.sshd = "/usr/sbin/sshd" // sshd re-executes itself: it needs its absolute path
	if _, err := os.Stat(ts.sshd); err != nil {
		return ts, err
	}
	return ts, nil
}

// setup builds the lab; whatever it managed to create is undone by teardown.
func (l *Lab) setup(ctx context.Context, n int) error {
	if l.cfg.dir != "" {
		l.Dir = l.cfg.dir
		if err := os.MkdirAll(l.Dir, 0o700); err != nil {
			return err
		}
	} else {
		d, err := os.MkdirTemp("", "tend-lab-")
		if err != nil {
			return err
		}
		l.Dir, l.tempDir = d, true
	}
	l.ClientKey = filepath.Join(l.Dir, "client_ed25519")
	l.KnownHosts = filepath.Join(l.Dir, "known_hosts")
	clientPub, err := writeEd25519(l.ClientKey, "tend-lab-client")
	if err != nil {
		return err
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // sshd's privilege separation dir
		return err
	}

	res, err := reserve(ctx, n, labSeq.Add(1), l.tools.ip)
	if err != nil {
		return err
	}
	l.res = res
	pid := os.Getpid()
	var rootCmds []string
	for i, k := range res.subnets {
		gw, addr := subnetAddrs(k)
		h := &Host{
			Name: fmt.Sprintf("h%d", i+1), NS: fmt.Sprintf("%s%d-%d", nsPrefix, pid, k),
			Addr: addr.String(), Port: 22, lab: l, veth: fmt.Sprintf("%s%d", vethPrefix, k), gw: gw.String(),
		}
		h.dir = filepath.Join(l.Dir, h.Name)
		h.EtcDir = filepath.Join(etcNetns, h.NS)
		if l.cfg.overlayEtc {
			h.EtcDir = filepath.Join(h.dir, "etc")
		}
		l.Hosts = append(l.Hosts, h)
		rootMAC, hostMAC := vethMACs(k)
		h.gwMAC = rootMAC
		rootCmds = append(rootCmds,
			"netns add "+h.NS,
			fmt.Sprintf("link add %s address %s group %d type veth peer name eth0 address %s netns %s",
				h.veth, rootMAC, l.linkGroup(), hostMAC, h.NS),
			fmt.Sprintf("addr add %s/30 dev %s", h.gw, h.veth),
			fmt.Sprintf("link set %s up", h.veth),
			fmt.Sprintf("neigh replace %s lladdr %s dev %s nud permanent", h.Addr, hostMAC, h.veth))
	}
	if err := ipBatch(ctx, l.tools.ip, "", rootCmds); err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.cfg.parallel)
	for _, h := range l.Hosts {
		g.Go(func() error {
			if err := h.build(gctx, clientPub); err != nil {
				return fmt.Errorf("%s (%s): %w", h.Name, h.Addr, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return os.WriteFile(l.KnownHosts, []byte(l.KnownHostsText()), 0o600)
}

// build prepares one host after its namespace and veth exist.
func (h *Host) build(ctx context.Context, clientPub string) error {
	if err := ipBatch(ctx, h.lab.tools.ip, h.NS, []string{
		"link set lo up",
		fmt.Sprintf("addr add %s/30 dev eth0", h.Addr),
		"link set eth0 up",
		fmt.Sprintf("neigh replace %s lladdr %s dev eth0 nud permanent", h.gw, h.gwMAC),
	}); err != nil {
		return err
	}
	if err := h.writeFiles(clientPub); err != nil {
		return err
	}
	if h.lab.cfg.overlayEtc {
		if err := h.startHolder(); err != nil {
			return err
		}
	}
	return h.startSSHD(ctx)
}

// teardown kills every process of the lab, then deletes its veths,
// namespaces and files. What it could not undo fails the test (Errorf when
// t has it, else Logf).
func (l *Lab) teardown(t TB) {
	if f, ok := t.(interface{ Failed() bool }); ok && f.Failed() {
		l.logSSHDErrors(t)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(l.cfg.parallel, 1))
	for _, h := range l.Hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			h.stopAll()
		}()
	}
	wg.Wait()

	var names, cmds []string
	for _, h := range l.Hosts {
		names = append(names, h.NS)
		cmds = append(cmds, "netns del "+h.NS)
	}
	var errs []error
	if err := killAndWait(pidsInNetns(names), syscall.SIGKILL); err != nil {
		errs = append(errs, err)
	}
	if len(cmds) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// One group delete unregisters every veth (both ends) in a single
		// batch: deleting them one by one costs an RCU grace period each.
		cmds = append([]string{fmt.Sprintf("link del group %d", l.linkGroup())}, cmds...)
		ipBatch(ctx, l.tools.ip, "", cmds) // -force: lines for never-created objects just fail
		if left := l.vethsLeft(); len(left) > 0 {
			errs = append(errs, fmt.Errorf("veths still exist: %v", left))
		}
	}
	for _, h := range l.Hosts {
		if _, err := os.Stat(filepath.Join(netnsDir, h.NS)); err == nil {
			errs = append(errs, fmt.Errorf("namespace %s still exists", h.NS))
		}
		if err := os.RemoveAll(filepath.Join(etcNetns, h.NS)); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 { // else keep the subnets reserved until this process ends
		if err := l.res.release(); err != nil {
			errs = append(errs, err)
		}
	}
	if l.tempDir {
		if err := os.RemoveAll(l.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		if e, ok := t.(interface{ Errorf(string, ...any) }); ok {
			e.Errorf("lab: teardown: %v", err)
		} else {
			t.Logf("lab: teardown: %v", err)
		}
	}
}

// linkGroup is the interface group of the lab's root-side veths, unique
// among live labs because it derives from the lab's first reserved subnet.
func (l *Lab) linkGroup() int { return 1_770_000 + l.res.subnets[0] }

// vethsLeft returns the lab's root-side veths that still exist.
func (l *Lab) vethsLeft() []string {
	var left []string
	for _, h := range l.Hosts {
		if _, err := net.InterfaceByName(h.veth); err == nil {
			left = append(left, h.veth)
		}
	}
	return left
}

// stopAll stops the host's processes: stand-ins first, then sshd, then the
// overlay holder.
func (h *Host) stopAll() {
	h.mu.Lock()
	procs := append(append([]*Proc{}, h.procs...), h.sshd, h.holder)
	h.mu.Unlock()
	for _, p := range procs {
		if p != nil {
			p.Stop()
		}
	}
}

// logSSHDErrors reports what the hosts' sshd wrote, to explain a failed test.
func (l *Lab) logSSHDErrors(t TB) {
	for _, h := range l.Hosts {
		b, err := os.ReadFile(filepath.Join(h.dir, "sshd.log"))
		if err != nil || len(b) == 0 {
			continue
		}
		s := string(b)
		if len(s) > 2000 {
			s = "..." + s[len(s)-2000:]
		}
		t.Logf("lab: %s sshd log:\n%s", h.Name, strings.TrimSpace(s))
	}
}
