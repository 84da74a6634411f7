// Command tend-lab brings up a lab of simulated hosts outside go test, for
// benchmark scripts:
//
//	tend-lab up -n 50 -dir D [-overlay-etc]
//
// It prints the path of an Ansible YAML inventory of the hosts, then keeps
// running until SIGINT or SIGTERM, and tears the lab down. The client key is
// D/client_ed25519 and the known_hosts file D/known_hosts. Needs root.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"tend/internal/lab"
)

func main() { os.Exit(run(os.Args[1:])) }

// upFlags are the flags of `tend-lab up`.
type upFlags struct {
	hosts      int
	dir        string
	overlayEtc bool
}

func run(args []string) (code int) {
	if len(args) == 0 || args[0] != "up" {
		fmt.Fprintln(os.Stderr, "usage: tend-lab up -n HOSTS -dir DIR [-overlay-etc]")
		return 2
	}
	var f upFlags
	// The standard flag package: it accepts -dir as well as --dir.
	fs := flag.NewFlagSet("tend-lab up", flag.ContinueOnError)
	fs.IntVar(&f.hosts, "n", 3, "number of hosts")
	fs.StringVar(&f.dir, "dir", "", "directory for keys, known_hosts and the inventory (kept afterwards)")
	fs.BoolVar(&f.overlayEtc, "overlay-etc", false, "mount an overlay on each host's /etc (atomic rename works)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if f.dir == "" {
		fmt.Fprintln(os.Stderr, "tend-lab: -dir is required")
		return 2
	}

	tb := &cmdTB{}
	defer tb.runCleanups()
	defer func() { // cmdTB.Fatalf unwinds to here
		if r := recover(); r != nil {
			if !errors.Is(asError(r), errFatal) {
				panic(r)
			}
			code = 1
		}
	}()
	opts := []lab.Option{lab.WithDir(f.dir)}
	if f.overlayEtc {
		opts = append(opts, lab.WithOverlayEtc())
	}
	// Signals during setup wait for it: teardown then undoes everything.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	l := lab.New(tb, f.hosts, opts...)
	fmt.Println(l.WriteInventory(tb))
	fmt.Fprintf(os.Stderr, "tend-lab: %d hosts up; key %s; known_hosts %s; SIGINT or SIGTERM tears down\n",
		len(l.Hosts), l.ClientKey, l.KnownHosts)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "tend-lab: tearing down")
	return 0
}

// errFatal is the panic value of cmdTB.Fatalf.
var errFatal = errors.New("tend-lab: fatal")

func asError(r any) error {
	err, _ := r.(error)
	return err
}

// cmdTB adapts lab.TB to a command: Fatalf and Skipf print and unwind to
// run, which then runs the cleanups in reverse order.
type cmdTB struct{ cleanups []func() }

var _ lab.TB = (*cmdTB)(nil)

func (t *cmdTB) Helper()                           {}
func (t *cmdTB) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *cmdTB) Logf(format string, args ...any)   { fmt.Fprintf(os.Stderr, format+"\n", args...) }
func (t *cmdTB) Skipf(format string, args ...any)  { t.Fatalf(format, args...) }
func (t *cmdTB) Fatalf(format string, args ...any) { t.Logf(format, args...); panic(errFatal) }

func (t *cmdTB) runCleanups() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
