package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gopkg.in/yaml.v3"

	"tend/inventory"
	"tend/runner/modules"
	"tend/runner/plan"
	"tend/runner/playbook"
	"tend/runner/transport"
)

// The batched-read tests run the same loop twice on a real shell (this
// machine's, or a lab host's over real sshd): with batching off, as every
// item read alone, and on. They count the commands each task sent (every
// Conn.Run is one remote command, one round trip) and compare what the
// loop registered and reported item by item.

// countConn counts the commands run through it.
type countConn struct {
	transport.Conn
	n atomic.Int64
}

// Run counts cmd and runs it.
func (c *countConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	c.n.Add(1)
	return c.Conn.Run(ctx, cmd)
}

// Close leaves the connection open: the test closes it, after every run.
func (c *countConn) Close() error { return nil }

// oneConn is a Connector handing out one counted connection.
type oneConn struct{ c *countConn }

func (o oneConn) Connect(context.Context, *inventory.Host) (transport.Conn, error) { return o.c, nil }
func (o oneConn) Close() error                                                     { return nil }

// tripRecorder records results and, per task, the commands it sent.
type tripRecorder struct {
	recorder
	conn  *countConn
	order []string
	at    map[string]int64 // commands sent before the task started
}

func (r *tripRecorder) TaskStarted(e TaskStart) {
	key := string(e.Phase) + ":" + e.Task // a verification re-check starts the task again
	r.order = append(r.order, key)
	r.at[key] = r.conn.n.Load()
}

// trips returns the commands task sent (up to the next task's start, or
// the run's end).
func (r *tripRecorder) trips(task string) int64 {
	task = string(PhaseTask) + ":" + task
	for i, n := range r.order {
		if n == task {
			end := r.conn.n.Load()
			if i+1 < len(r.order) {
				end = r.at[r.order[i+1]]
			}
			return end - r.at[task]
		}
	}
	return -1
}

// captured holds what capture tasks were given, by name.
var (
	captureOnce sync.Once
	capturedMu  sync.Mutex
	captured    = map[string]any{}
)

// registerCapture adds the capture test module: it keeps its data
// argument (a registered result, rendered) under its name, sending nothing.
func registerCapture() {
	captureOnce.Do(func() {
		modules.Register("capture", modules.Spec{RunsInCheckMode: true, New: func(a modules.Args) (modules.Module, error) {
			var args struct {
				Name string `yaml:"name"`
				Data any    `yaml:"data"`
			}
			if err := a.Node.Decode(&args); err != nil {
				return nil, err
			}
			return captureModule{args.Name, args.Data}, nil
		}})
	})
}

type captureModule struct {
	name string
	data any
}

func (m captureModule) Check(context.Context, transport.Conn) (plan.Change, error) {
	capturedMu.Lock()
	defer capturedMu.Unlock()
	captured[m.name] = m.data
	return plan.Change{Action: plan.None, Summary: "captured"}, nil
}

func (m captureModule) Apply(_ context.Context, _ transport.Conn, p plan.Change) (plan.Change, error) {
	return p, nil
}

// takeCaptured returns and forgets what capture kept under name.
func takeCaptured(t *testing.T, name string) any {
	t.Helper()
	capturedMu.Lock()
	defer capturedMu.Unlock()
	v, ok := captured[name]
	if !ok {
		t.Fatalf("nothing captured as %q", name)
	}
	delete(captured, name)
	return v
}

// runCounted runs src on one host through conn, with reads batched or
// not, and returns the recorder.
func runCounted(t testing.TB, conn transport.Conn, src string, batched bool, opts Options) *tripRecorder {
	t.Helper()
	registerCapture()
	pb, err := playbook.Parse("play.yml", []byte(src), playbook.ParseOptions{Modules: modules.Names()})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	inv, err := inventory.Load("h1,")
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	cc := &countConn{Conn: conn}
	rec := &tripRecorder{conn: cc, at: map[string]int64{}}
	noReadBatching.Store(!batched)
	defer noReadBatching.Store(false)
	opts.Connector, opts.Observer = oneConn{cc}, rec
	if _, err := Run(context.Background(), pb, inv, opts); err != nil {
		t.Fatalf("run: %v", err)
	}
	return rec
}

// itemView is what an item's event shows, for comparing two runs.
type itemView struct {
	Item, Status, Error, Reason, Summary string
	DryRun                               bool
	Values                               []plan.ValueChange
}

func itemViews(rec *tripRecorder, task string) []itemView {
	var out []itemView
	for _, e := range rec.items("h1", task) {
		out = append(out, itemView{e.Item, string(e.Status), e.Error, e.Reason, e.Change.Summary, e.DryRun, e.Change.Values})
	}
	return out
}

// sameRuns fails unless both runs reported and registered the same.
func sameRuns(t *testing.T, off, on *tripRecorder, task, capture string, offData, onData any) {
	t.Helper()
	a, b := itemViews(off, task), itemViews(on, task)
	if len(a) == 0 {
		t.Fatalf("%s: no item results", task)
	}
	if !reflect.DeepEqual(a, b) {
		for i := range min(len(a), len(b)) {
			if !reflect.DeepEqual(a[i], b[i]) {
				t.Errorf("%s item %d:\n unbatched %+v\n batched   %+v", task, i, a[i], b[i])
			}
		}
		t.Fatalf("%s: %d items unbatched, %d batched", task, len(a), len(b))
	}
	if !reflect.DeepEqual(offData, onData) {
		ja, _ := json.MarshalIndent(offData, "", " ")
		jb, _ := json.MarshalIndent(onData, "", " ")
		t.Fatalf("%s: registered results differ:\nunbatched %s\nbatched   %s", capture, firstDiff(string(ja), string(jb)), firstDiff(string(jb), string(ja)))
	}
}

// firstDiff is a's text around its first difference from b.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return a[max(0, i-300):min(len(a), i+300)]
}

// makeTree builds 50 paths of every kind under dir (files, directories,
// symlinks, a dangling one, a fifo, missing paths, names that need
// quoting) and returns them. Every entry's atime is set in the future, so
// reading it leaves it as it is and two runs see the same stat.
func makeTree(t testing.TB, dir string) []string {
	t.Helper()
	var paths []string
	add := func(p string) { paths = append(paths, p) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		name := fmt.Sprintf("file%02d", i)
		switch i {
		case 3:
			name = "we'ird $(echo x) \"name\""
		case 4:
			name = "new\nline"
		case 5:
			name = "-dash"
		}
		p := filepath.Join(dir, name)
		must(os.WriteFile(p, []byte(strings.Repeat("x", i*100)), 0o644))
		must(os.Chmod(p, os.FileMode(0o600+i%3*0o40)))
		add(p)
	}
	for i := range 10 {
		p := filepath.Join(dir, fmt.Sprintf("dir%02d", i))
		must(os.MkdirAll(filepath.Join(p, "sub"), 0o755))
		for j := range i {
			must(os.WriteFile(filepath.Join(p, "sub", fmt.Sprintf("f%d", j)), []byte("data"), 0o644))
		}
		add(p)
	}
	for i := range 5 {
		p := filepath.Join(dir, fmt.Sprintf("lnk%d", i))
		must(os.Symlink(paths[i], p))
		add(p)
	}
	for i := range 3 {
		p := filepath.Join(dir, fmt.Sprintf("dlnk%d", i))
		must(os.Symlink(paths[20+i], p))
		add(p)
	}
	for i := range 2 {
		p := filepath.Join(dir, fmt.Sprintf("dangling%d", i))
		must(os.Symlink(filepath.Join(dir, "nowhere"), p))
		add(p)
	}
	fifo := filepath.Join(dir, "fifo")
	must(syscall.Mkfifo(fifo, 0o640))
	add(fifo)
	for i := range 9 {
		add(filepath.Join(dir, fmt.Sprintf("missing%d", i)))
	}
	if len(paths) != 50 {
		t.Fatalf("%d paths, want 50", len(paths))
	}
	futureAtimes(dir)
	return paths
}

// futureAtimes sets the atime of everything under dir an hour ahead, so
// that reading an entry leaves its stat as it was (relatime).
func futureAtimes(dir string) {
	future := unix.NsecToTimespec(time.Now().Add(time.Hour).UnixNano())
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			var st unix.Stat_t
			if unix.Lstat(p, &st) == nil {
				unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{future, st.Mtim}, unix.AT_SYMLINK_NOFOLLOW)
			}
		}
		return nil
	})
}

// yamlList is paths as a YAML flow list.
func yamlList(paths []string) string {
	b, err := json.Marshal(paths)
	if err != nil {
		panic(err)
	}
	var check []string
	if err := yaml.Unmarshal(b, &check); err != nil || !reflect.DeepEqual(check, paths) {
		panic(fmt.Sprintf("paths do not survive YAML: %v", err))
	}
	return string(b)
}
