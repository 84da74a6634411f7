// Command profile runs tend's runner and transport in-process, so bench/run.sh's numbers can be
// explained without touching cmd/tend: where the client's CPU goes (pprof), how long each task
// takes per host, what one SSH handshake and one remote command cost, and what each of tend's
// recorded remote commands costs the hosts. Bring a lab up with `bench/run.sh --hold 50`, then:
//
//	go run ./bench/profile run    -i INV -known-hosts KH [-check] [-e k=v]... [-forks N] [-cpuprofile F]
//	go run ./bench/profile dial   -i INV -known-hosts KH [-cmds N] [-cpuprofile F]
//	go run ./bench/profile kex    -i INV -known-hosts KH [-kex default,curve25519-sha256,...]
//	go run ./bench/profile replay -i INV -known-hosts KH CMDFILE...
//
// run: runner.Run of the shipped mq-closewait playbook (as `tend run` does) under a CPU
// profile; prints a per-task table of durations across hosts and each host's time to its first
// task (≈ dial + handshake).
//
// dial: transport.DialSSH to every host at once, then -cmds commands (`true`) per host: the
// handshake and the per-command round trip without any playbook.
//
// kex: raw x/crypto/ssh dial + auth + `true` to every host at once, once per key exchange.
//
// replay: each CMDFILE holds one remote command line as sshd handed it to the login shell (see
// the h1 session log of bench/run.sh); it is run on every host at once and its wall time and
// machine CPU (all cores, /proc/stat) are printed.
//
// Every mode prints wall time, this process's user and sys CPU and its peak RSS.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"tend/inventory"
	"tend/playbooks"
	"tend/runner"
	"tend/runner/connect"
	"tend/runner/modules"
	"tend/runner/playbook"
	"tend/runner/transport"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: profile run|dial|kex -i INV -known-hosts KH ...")
		os.Exit(2)
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	inv := fs.String("i", "", "Ansible YAML inventory")
	kh := fs.String("known-hosts", "", "known_hosts file")
	check := fs.Bool("check", false, "check mode (run)")
	forks := fs.Int("forks", 0, "forks (run; default: number of hosts)")
	cpuprof := fs.String("cpuprofile", "", "write a CPU profile here")
	memprof := fs.String("memprofile", "", "write a heap profile here, taken when the heap in use peaks")
	cmds := fs.Int("cmds", 5, "commands per host after the handshake (dial)")
	kexList := fs.String("kex", "mlkem768x25519-sha256,curve25519-sha256,ecdh-sha2-nistp256", "key exchanges to try (kex)")
	var extra multi
	fs.Var(&extra, "e", "extra var KEY=VALUE (string), repeatable (run)")
	fs.Parse(os.Args[2:])
	if *inv == "" || *kh == "" {
		fmt.Fprintln(os.Stderr, "profile: -i and -known-hosts are required")
		os.Exit(2)
	}
	in, err := inventory.Load(*inv)
	if err != nil {
		fatal(err)
	}
	hosts := in.Hosts()
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if *memprof != "" {
		stop := watchHeap(*memprof)
		defer stop()
	}
	ctx := context.Background()
	start := time.Now()
	switch mode {
	case "run":
		runMode(ctx, in, len(hosts), *check, *forks, extra)
	case "dial":
		dialMode(ctx, hosts, *kh, *cmds)
	case "kex":
		kexMode(hosts, *kh, strings.Split(*kexList, ","))
		return
	case "replay":
		replayMode(ctx, hosts, *kh, fs.Args())
		return
	default:
		fatal(fmt.Errorf("unknown mode %q", mode))
	}
	report(fmt.Sprintf("%s, %d hosts", mode, len(hosts)), time.Since(start))
}

// watchHeap samples the heap every 100 ms and rewrites a heap profile to path whenever the heap
// in use grew by 5% over the last one written, so the profile shows the peak. It prints the peak
// HeapInuse, StackInuse and Sys when stopped.
func watchHeap(path string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var peak, peakStack, peakSys uint64
		var goroutines int
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peakStack, peakSys = max(peakStack, ms.StackInuse), max(peakSys, ms.Sys)
			if g := runtime.NumGoroutine(); g > goroutines*105/100 {
				goroutines = g
				if f, err := os.Create(path + ".goroutines"); err == nil {
					pprof.Lookup("goroutine").WriteTo(f, 1)
					f.Close()
				}
			}
			if ms.HeapInuse > peak*105/100 {
				peak = ms.HeapInuse
				if f, err := os.Create(path); err == nil {
					pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
			select {
			case <-done:
				fmt.Printf("heap: peak HeapInuse %.1f MB, StackInuse %.1f MB, Sys %.1f MB, goroutines %d (profile at the peak: %s; goroutines at their peak: %[5]s.goroutines)\n",
					float64(peak)/(1<<20), float64(peakStack)/(1<<20), float64(peakSys)/(1<<20), goroutines, path)
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

func fatal(err error) { fmt.Fprintln(os.Stderr, "profile:", err); os.Exit(1) }

func usage() (user, sys time.Duration, maxrssKB int64) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), ru.Maxrss
}

var (
	lastUser, lastSys time.Duration
	lastMachine       = machineTicks()
)

func report(what string, wall time.Duration) {
	u, s, rss := usage()
	m := machineTicks()
	fmt.Printf("%-40s wall %7.3fs  user %6.3fs  sys %6.3fs  peak RSS %5.1f MB  machine CPU %6.2fs\n",
		what, wall.Seconds(), (u - lastUser).Seconds(), (s - lastSys).Seconds(), float64(rss)/1024, (m-lastMachine)/100)
	lastUser, lastSys, lastMachine = u, s, m
}

// ---- run ----------------------------------------------------------------------------------------

type taskStat struct {
	n        int
	sum, max time.Duration
	statuses map[runner.Status]int
}

type observer struct {
	runner.NopObserver
	mu        sync.Mutex
	start     time.Time
	order     []string
	tasks     map[string]*taskStat
	firstDone map[string]time.Duration // host -> time from run start to the end of its first task
	firstDur  map[string]time.Duration // host -> duration of that first task
	lastDone  map[string]time.Duration
	errs      map[string]int // failure messages (host names elided) -> count
}

func (o *observer) TaskDone(r runner.TaskResult) {
	o.mu.Lock()
	defer o.mu.Unlock()
	at := time.Since(o.start)
	key := string(r.Phase) + ": " + r.Task
	st, ok := o.tasks[key]
	if !ok {
		st = &taskStat{statuses: map[runner.Status]int{}}
		o.tasks[key] = st
		o.order = append(o.order, key)
	}
	st.n++
	st.sum += r.Duration
	st.max = max(st.max, r.Duration)
	st.statuses[r.Status]++
	if r.Status == runner.StatusFailed || r.Status == runner.StatusUnreachable {
		msg := r.Error
		if msg == "" {
			msg = r.Change.Msg
		}
		msg = strings.ReplaceAll(msg, r.Host, "HOST")
		if len(msg) > 160 {
			msg = msg[:160]
		}
		o.errs[key+": "+msg]++
	}
	if _, ok := o.firstDone[r.Host]; !ok {
		o.firstDone[r.Host] = at
		o.firstDur[r.Host] = r.Duration
	}
	o.lastDone[r.Host] = at
}

func runMode(ctx context.Context, in *inventory.Inventory, nhosts int, check bool, forks int, extra []string) {
	data, ok := playbooks.Read("mq-closewait")
	if !ok {
		fatal(fmt.Errorf("no shipped playbook mq-closewait"))
	}
	pb, err := playbook.Parse("playbooks/mq-closewait.yml", data, playbook.ParseOptions{Modules: modules.Names()})
	if err != nil {
		fatal(err)
	}
	ev := map[string]any{}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		ev[k] = v
	}
	if forks == 0 {
		forks = nhosts
	}
	o := &observer{start: time.Now(), tasks: map[string]*taskStat{}, firstDone: map[string]time.Duration{},
		firstDur: map[string]time.Duration{}, lastDone: map[string]time.Duration{}, errs: map[string]int{}}
	ssh, err := connect.NewSSH(connect.SSHOptions{KnownHosts: knownHostsFlag(), Timeout: 10 * time.Second})
	if err != nil {
		fatal(err)
	}
	connector := &connect.ByHost{By: map[string]connect.Connector{"ssh": ssh, "local": connect.Local{}}}
	sum, err := runner.Run(ctx, pb, in, runner.Options{Check: check, Forks: forks, ExtraVars: ev, Observer: o, Connector: connector})
	if err != nil {
		fatal(err)
	}
	fmt.Printf("failed %v unreachable %v changed %v\n", sum.Failed, sum.Unreachable, sum.Changed)
	fmt.Printf("%-70s %5s %9s %9s  %s\n", "task (phase: name)", "hosts", "mean ms", "max ms", "statuses")
	for _, k := range o.order {
		st := o.tasks[k]
		fmt.Printf("%-70.70s %5d %9.1f %9.1f  %v\n", k, st.n, float64(st.sum.Microseconds())/float64(st.n)/1000, float64(st.max.Microseconds())/1000, st.statuses)
	}
	var conn, last []float64
	for h, d := range o.firstDone {
		conn = append(conn, (d-o.firstDur[h]).Seconds()*1000)
		last = append(last, o.lastDone[h].Seconds()*1000)
	}
	for m, n := range o.errs {
		fmt.Printf("  %d x %s\n", n, m)
	}
	fmt.Printf("per host, ms from run start: first task started (dial+handshake ≈) %s; last result %s\n", quantiles(conn), quantiles(last))
}

// knownHostsFlag digs -known-hosts back out (runMode's signature stays short).
func knownHostsFlag() string {
	for i, a := range os.Args {
		if (a == "-known-hosts" || a == "--known-hosts") && i+1 < len(os.Args) {
			return os.Args[i+1]
		} else if v, ok := strings.CutPrefix(a, "-known-hosts="); ok {
			return v
		}
	}
	return ""
}

func quantiles(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	sort.Float64s(v)
	q := func(p float64) float64 { return v[min(len(v)-1, int(p*float64(len(v))))] }
	return fmt.Sprintf("min %.0f p50 %.0f p90 %.0f max %.0f", v[0], q(0.5), q(0.9), v[len(v)-1])
}

// ---- dial ---------------------------------------------------------------------------------------

func dialMode(ctx context.Context, hosts []*inventory.Host, kh string, cmds int) {
	t0 := time.Now()
	conns := make([]transport.Conn, len(hosts))
	hs := make([]float64, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := time.Now()
			c, err := transport.DialSSH(ctx, transport.SSHConfig{Host: h.Address(), Port: h.Port(), User: "root",
				KeyFiles: []string{h.PrivateKeyFile()}, KnownHostsFile: kh})
			if err != nil {
				fmt.Fprintln(os.Stderr, h.Name, err)
				return
			}
			hs[i] = time.Since(s).Seconds() * 1000
			conns[i] = c
		}()
	}
	wg.Wait()
	report("transport.DialSSH, all hosts at once", time.Since(t0))
	fmt.Printf("  per-host handshake ms: %s\n", quantiles(hs))
	t1 := time.Now()
	rt := make([]float64, 0, len(hosts)*cmds)
	var mu sync.Mutex
	for _, c := range conns {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < cmds; k++ {
				s := time.Now()
				if _, err := c.Run(ctx, transport.Command{Argv: []string{"true"}}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return
				}
				mu.Lock()
				rt = append(rt, time.Since(s).Seconds()*1000)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	report(fmt.Sprintf("%d x `true` per host, hosts at once", cmds), time.Since(t1))
	fmt.Printf("  per-command round trip ms: %s\n", quantiles(rt))
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// ---- kex ----------------------------------------------------------------------------------------

func kexMode(hosts []*inventory.Host, kh string, kexes []string) {
	cb, err := knownhosts.New(kh)
	if err != nil {
		fatal(err)
	}
	keyPEM, err := os.ReadFile(hosts[0].PrivateKeyFile())
	if err != nil {
		fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(keyPEM)
	if err != nil {
		fatal(err)
	}
	for _, kex := range kexes {
		conf := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyCallback: cb, HostKeyAlgorithms: []string{ssh.KeyAlgoED25519}, Timeout: 10 * time.Second}
		if kex != "default" {
			conf.KeyExchanges = []string{kex}
		}
		t0 := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var fails int
		var negotiated string
		for _, h := range hosts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := ssh.Dial("tcp", net.JoinHostPort(h.Address(), fmt.Sprint(h.Port())), conf)
				if err != nil {
					mu.Lock()
					fails++
					if fails == 1 {
						fmt.Fprintln(os.Stderr, kex, h.Name, err)
					}
					mu.Unlock()
					return
				}
				s, err := c.NewSession()
				if err == nil {
					s.Run("true")
				}
				c.Close()
			}()
		}
		wg.Wait()
		report(fmt.Sprintf("kex %s: dial+auth+`true`, %d hosts%s", kex, len(hosts), map[bool]string{true: fmt.Sprintf(" (%d FAILED)", fails)}[fails > 0]), time.Since(t0))
		_ = negotiated
	}
}

// ---- replay -------------------------------------------------------------------------------------

// replayMode runs recorded remote command lines (files, one shell line each, as sshd handed them
// to the login shell) on every host at once, one file after the other, and reports each one's
// wall time and the machine's CPU time (all cores, from /proc/stat): what one of tend's remote
// commands costs the hosts when the whole fleet runs it together.
func replayMode(ctx context.Context, hosts []*inventory.Host, kh string, files []string) {
	conns := make([]transport.Conn, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := transport.DialSSH(ctx, transport.SSHConfig{Host: h.Address(), Port: h.Port(), User: "root",
				KeyFiles: []string{h.PrivateKeyFile()}, KnownHostsFile: kh})
			if err != nil {
				fmt.Fprintln(os.Stderr, h.Name, err)
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	for _, f := range files {
		line, err := os.ReadFile(f)
		if err != nil {
			fatal(err)
		}
		m0 := machineTicks()
		t0 := time.Now()
		for _, c := range conns {
			if c == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				// the recorded line already is `exec env ... ARGV`: hand it to sh as the login shell would
				if _, err := c.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", string(line)}}); err != nil {
					fmt.Fprintln(os.Stderr, err)
				}
			}()
		}
		wg.Wait()
		wall := time.Since(t0)
		fmt.Printf("%-28s wall %6.3fs  machine CPU %6.2fs (%5.1f ms per host)  %.60s\n", f, wall.Seconds(),
			(machineTicks()-m0)/100, (machineTicks()-m0)/100/float64(len(hosts))*1000, strings.ReplaceAll(string(line), "\n", " "))
	}
}

// machineTicks is the busy time of all CPUs in USER_HZ ticks (100 per second on Linux).
func machineTicks() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
	var sum float64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		var x float64
		fmt.Sscan(v, &x)
		sum += x
	}
	return sum
}
