package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"tend/internal/memhost"
	"tend/inventory"
	"tend/runner/modules"
	"tend/runner/plan"
	"tend/runner/playbook"
	"tend/runner/template"
	"tend/runner/transport"
)

// The engine tests run playbooks on in-memory hosts (internal/memhost)
// through Options.Connector. Their tasks use command (answered by the
// host's handler table) and memfile, a test module whose Check reads a
// file with `cat` and whose Apply writes it with `tee`, so every read and
// write is a recorded call and the host's files show what was written.

var registerOnce sync.Once

// factsOutput is a real host's answer to the facts command (this
// machine's, recorded), which every in-memory host gives with its own
// name as hostname.
var factsOutput = func() string {
	b, err := os.ReadFile("modules/testdata/facts/debian12-docker.txt")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// registerMemfile adds the memfile module once per test binary.
func registerMemfile() {
	registerOnce.Do(func() {
		modules.Register("memfile", modules.Spec{New: newMemfile, Verifiable: true})
	})
}

// memfile makes the file at path hold content. With judge, a file that
// already holds it is judged failed (as sysctl's persist: strict judges a
// value that will not survive a reboot).
type memfile struct{ path, content, judge string }

func newMemfile(a modules.Args) (modules.Module, error) {
	var args struct {
		Path    string `yaml:"path"`
		Content string `yaml:"content"`
		Judge   string `yaml:"judge"`
	}
	if err := a.Node.Decode(&args); err != nil || args.Path == "" {
		return nil, fmt.Errorf("%s:%d:%d: memfile: want path and content (%v)", a.File, a.Node.Line, a.Node.Column, err)
	}
	return &memfile{path: args.Path, content: args.Content, judge: args.Judge}, nil
}

// Check reads the file: no change when it already holds content.
func (m *memfile) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"cat", m.path}})
	if err != nil {
		return plan.Change{}, err
	}
	if res.ExitCode == 0 && string(res.Stdout) == m.content {
		return plan.Change{Action: plan.None, Summary: m.path + ": as wanted", Failed: m.judge != "", Msg: m.judge}, nil
	}
	return plan.Change{Action: plan.Update, Summary: m.path + ": content differs", Files: []plan.FileChange{{Path: m.path}}}, nil
}

// Apply writes the file.
func (m *memfile) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"tee", m.path}, Stdin: []byte(m.content)})
	if err != nil {
		return plan.Change{}, err
	}
	if res.ExitCode != 0 {
		planned.Failed, planned.Msg = true, "tee: "+strings.TrimSpace(string(res.Stderr))
	}
	planned.Summary = m.path + ": written"
	return planned, nil
}

// newHost is an in-memory host that also answers the engine's
// pending-handler scripts (pending.go) on its files.
func newHost(name string) *memhost.Host {
	h := memhost.New(name)
	h.Handle(memhost.Script(markPendingScript), func(_ context.Context, h *memhost.Host, c transport.Command) (transport.Result, error) {
		a := memhost.ScriptArgs(c.Argv)
		h.SetFile(a[0]+"/"+a[1], []byte(a[2]+"\n"))
		return memhost.OK(""), nil
	})
	h.Handle(memhost.Script(loadPendingScript), func(_ context.Context, h *memhost.Host, c transport.Command) (transport.Result, error) {
		a := memhost.ScriptArgs(c.Argv)
		var out strings.Builder
		for _, id := range a[1:] {
			if _, ok := h.File(a[0] + "/" + id); ok {
				out.WriteString(id + "\n")
			}
		}
		return memhost.OK(out.String()), nil
	})
	h.Handle(memhost.Script(modules.FactsScript), func(_ context.Context, h *memhost.Host, c transport.Command) (transport.Result, error) {
		return memhost.OK(strings.ReplaceAll(factsOutput, "@@tend:hostname\nvm", "@@tend:hostname\n"+h.Name())), nil
	})
	h.Handle(memhost.Script(loadBudgetScript), func(_ context.Context, h *memhost.Host, c transport.Command) (transport.Result, error) {
		a := memhost.ScriptArgs(c.Argv)
		data, _ := h.File(a[0] + "/" + a[1])
		return memhost.OK(string(data)), nil
	})
	h.Handle(memhost.Script(saveBudgetScript), func(_ context.Context, h *memhost.Host, c transport.Command) (transport.Result, error) {
		a := memhost.ScriptArgs(c.Argv)
		h.SetFile(a[0]+"/"+a[1], []byte(a[2]+"\n"))
		return memhost.OK(""), nil
	})
	h.Handle(memhost.Script(clearPendingScript), func(_ context.Context, h *memhost.Host, c transport.Command) (transport.Result, error) {
		a := memhost.ScriptArgs(c.Argv)
		for _, id := range a[1:] {
			h.RemoveFile(a[0] + "/" + id)
		}
		return memhost.OK(""), nil
	})
	return h
}

// exits answers the command name with exit code code (0: prints "ok").
func exits(code int) memhost.Handler {
	return func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
		if code == 0 {
			return memhost.OK("ok\n"), nil
		}
		return memhost.Exit(code, "failed on purpose\n"), nil
	}
}

// fleet is a Connector handing out in-memory hosts by inventory name.
type fleet struct {
	hosts map[string]*memhost.Host
	names []string
	// down lists hosts whose Connect fails as unreachable.
	down map[string]bool

	mu       sync.Mutex
	connects []string
	closed   bool
}

func newFleet(names ...string) *fleet {
	f := &fleet{hosts: map[string]*memhost.Host{}, names: names, down: map[string]bool{}}
	for _, n := range names {
		f.hosts[n] = newHost(n)
	}
	return f
}

// Connect returns the host's memhost, or an UnreachableError when it is down.
func (f *fleet) Connect(_ context.Context, h *inventory.Host) (transport.Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connects = append(f.connects, h.Name)
	if f.down[h.Name] {
		return nil, &transport.UnreachableError{Host: h.Name, Err: fmt.Errorf("connection refused")}
	}
	m, ok := f.hosts[h.Name]
	if !ok {
		return nil, fmt.Errorf("fleet: no host %s", h.Name)
	}
	m.Reopen() // a new connection to the machine
	return m, nil
}

// Close records that the run closed its connector.
func (f *fleet) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// handle adds the same handler to every host.
func (f *fleet) handle(m memhost.Matcher, fn memhost.Handler) {
	for _, h := range f.hosts {
		h.Handle(m, fn)
	}
}

// recorder keeps the events a run reports.
type recorder struct {
	NopObserver
	mu      sync.Mutex
	results []TaskResult
	batches []BatchStart
	stops   []HostStop
	warns   []Warning
	plays   []PlayStart
	dones   []HostDone
}

func (r *recorder) HostDone(e HostDone) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dones = append(r.dones, e)
}

func (r *recorder) PlayStarted(e PlayStart) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.plays = append(r.plays, e)
}

func (r *recorder) Warning(e Warning) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.warns = append(r.warns, e)
}

// warnings returns host's warnings about task.
func (r *recorder) warnings(host, task string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, w := range r.warns {
		if w.Host == host && w.Task == task {
			out = append(out, w.Msg)
		}
	}
	return out
}

func (r *recorder) TaskDone(e TaskResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, e)
}

func (r *recorder) BatchStarted(e BatchStart) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, e)
}

func (r *recorder) HostStopped(e HostStop) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stops = append(r.stops, e)
}

// result returns host's result of task in phase, failing the test when
// there is not exactly one.
func (r *recorder) result(t *testing.T, host, task string, phase Phase) TaskResult {
	t.Helper()
	var found []TaskResult
	for _, e := range r.results {
		if e.Host == host && e.Task == task && e.Phase == phase {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d %s results for %q, want 1; all: %+v", host, len(found), phase, task, r.results)
	}
	return found[0]
}

// ran reports whether host has any result for task.
func (r *recorder) ran(host, task string) bool {
	return slices.ContainsFunc(r.results, func(e TaskResult) bool { return e.Host == host && e.Task == task })
}

// runOn parses src as play.yml and runs it on the fleet with opts.
func runOn(t *testing.T, f *fleet, src string, opts Options) (*Summary, *recorder) {
	t.Helper()
	registerMemfile()
	pb, err := playbook.Parse("play.yml", []byte(src), playbook.ParseOptions{Modules: modules.Names()})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	inv, err := inventory.Load(strings.Join(f.names, ",") + ",")
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	rec := &recorder{}
	opts.Connector, opts.Observer = f, rec
	sum, err := Run(context.Background(), pb, inv, opts)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if !f.closed {
		t.Errorf("the run did not close its connector")
	}
	for _, n := range f.names {
		if u := f.hosts[n].Unhandled(); len(u) > 0 {
			t.Errorf("%s: commands no handler answered: %q", n, u)
		}
	}
	return sum, rec
}

// loadTree writes files (paths relative to a new temporary directory, with
// their directories) and loads its pb.yml as tend run does: validated, with
// templates rendered where the parser needs them; it returns the directory too.
func loadTree(t *testing.T, files map[string]string) (*playbook.Playbook, string) {
	t.Helper()
	registerMemfile()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pb, err := playbook.Load(filepath.Join(dir, "pb.yml"), playbook.ParseOptions{Modules: modules.Names(), Check: Validate, Render: template.Render})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return pb, dir
}
