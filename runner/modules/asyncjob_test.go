package modules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"tend/runner/plan"
	"tend/runner/transport"
)

// argvRecorder is a real local connection that records every argv it is
// asked to run (before the transport moves a script's values to stdin).
type argvRecorder struct {
	transport.Conn
	mu    sync.Mutex
	argvs [][]string
}

func (r *argvRecorder) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	r.mu.Lock()
	r.argvs = append(r.argvs, cmd.Argv)
	r.mu.Unlock()
	return r.Conn.Run(ctx, cmd)
}

// waitJob reads the job until it has finished (or a minute passed).
func waitJob(t *testing.T, conn transport.Conn, dir, jid string) JobState {
	t.Helper()
	for i := 0; i < 600; i++ {
		st, err := ReadJob(context.Background(), conn, dir, jid)
		if err != nil {
			t.Fatal(err)
		}
		if st.Finished || st.Missing {
			return st
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("job %s did not finish", jid)
	return JobState{}
}

// shellModule builds a shell task over vars.
func shellModule(t *testing.T, script string, vars map[string]any) Module {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(script), &n); err != nil {
		t.Fatal(err)
	}
	m, err := newShell(Args{Node: n.Content[0], File: "pb.yml", Render: func(s string) (any, error) {
		return vars[strings.Trim(s, "{} ")], nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAsyncJobLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	conn := &argvRecorder{Conn: transport.Local()}
	const secret = "s3cr3t pass'word"
	m := shellModule(t, `{cmd: 'read line; echo "got $line {{ pw }}"; echo oops >&2; exit 3', stdin: from stdin}`, map[string]any{"pw": secret})
	job, err := LaunchJob(ctx, conn, dir, m.(AsyncRunner).AsyncCommand(), 60)
	if err != nil {
		t.Fatal(err)
	}
	if !validJID.MatchString(job.ID) || job.ResultsFile != filepath.Join(dir, job.ID) {
		t.Errorf("job = %+v, want an id and its file in %s", job, dir)
	}
	st := waitJob(t, conn, dir, job.ID)
	want := JobState{Finished: true, RC: 3, Stdout: "got from stdin " + secret, Stderr: "oops", ResultsFile: job.ResultsFile}
	if st != want {
		t.Errorf("state = %+v\nwant    %+v", st, want)
	}
	for _, argv := range conn.argvs {
		if strings.Contains(strings.Join(argv, " "), "s3cr3t") {
			t.Errorf("the secret is in an argv: %q", argv)
		}
	}
	if _, err := os.Stat(job.ResultsFile + ".in"); !os.IsNotExist(err) {
		t.Errorf("the job's stdin file (its values) is left on disk: %v", err)
	}
	c := JobChange(job.ID, st)
	if !c.Failed || c.Msg != "non-zero return code 3" || c.Action != plan.Run || c.Data["finished"] != 1 || c.Data["rc"] != 3 {
		t.Errorf("JobChange = %+v", c)
	}
	erased, err := CleanupJob(ctx, conn, dir, job.ID)
	if err != nil || erased != job.ResultsFile {
		t.Fatalf("CleanupJob = %q, %v", erased, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("files left after cleanup: %v", left)
	}
	st, err = ReadJob(ctx, conn, dir, job.ID)
	if err != nil || !st.Missing {
		t.Errorf("ReadJob after cleanup = %+v, %v; want missing", st, err)
	}
	if c := JobChange(job.ID, st); !c.Failed || c.Msg != "could not find job" {
		t.Errorf("JobChange(missing) = %+v", c)
	}
	if _, err := ReadJob(ctx, conn, dir, "../etc/passwd"); err == nil {
		t.Error("ReadJob took a path for a job id")
	}
}

// TestAsyncJobWatchdog: a job that outlives its limit is killed, its
// state "Timeout exceeded", as Ansible's async_wrapper leaves it.
func TestAsyncJobWatchdog(t *testing.T) {
	dir := t.TempDir()
	conn := transport.Local()
	job, err := LaunchJob(context.Background(), conn, dir, transport.Command{Argv: []string{"sleep", "120"}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	st := waitJob(t, conn, dir, job.ID)
	if !st.TimedOut {
		t.Fatalf("state = %+v, want timed out", st)
	}
	if c := JobChange(job.ID, st); !c.Failed || c.Msg != "Timeout exceeded" || c.Changed() {
		t.Errorf("JobChange = %+v", c)
	}
}

// slowModule's Check waits for its context.
type slowModule struct{}

func (slowModule) Check(ctx context.Context, _ transport.Conn) (plan.Change, error) {
	<-ctx.Done()
	return plan.Change{}, ctx.Err()
}
func (slowModule) Apply(context.Context, transport.Conn, plan.Change) (plan.Change, error) {
	return plan.Change{}, nil
}

func TestAsyncPoll(t *testing.T) {
	ctx := context.Background()
	conn := transport.Local()
	tests := []struct {
		name    string
		mod     Module
		o       AsyncOptions
		want    plan.Change
		wantOut string
		reads   int // status reads, when not 0: Ansible polls ceil(async/poll) times
	}{
		{name: "finishes", mod: shellModule(t, `echo done`, nil), o: AsyncOptions{Limit: 30, Poll: 1},
			want: plan.Change{Action: plan.Run}, wantOut: "done"},
		{name: "polled past its limit", mod: shellModule(t, `sleep 60`, nil), o: AsyncOptions{Limit: 3, Poll: 2}, reads: 2,
			want: plan.Change{Action: plan.None, Failed: true, Msg: "async task did not complete within the requested time - 3s"}},
		{name: "fire and forget", mod: shellModule(t, `sleep 1`, nil), o: AsyncOptions{Limit: 30, Poll: 0},
			want: plan.Change{Action: plan.Run}},
		{name: "inline past its limit", mod: slowModule{}, o: AsyncOptions{Limit: 1, Poll: 1},
			want: plan.Change{Action: plan.None, Failed: true, Msg: "async task did not complete within the requested time - 1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Dir = t.TempDir()
			conn := &argvRecorder{Conn: conn}
			m, err := Async(tt.mod, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			c, err := m.Check(ctx, conn)
			if err == nil && c.Changed() {
				c, err = m.Apply(ctx, conn, c)
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Action != tt.want.Action || c.Failed != tt.want.Failed || c.Msg != tt.want.Msg {
				t.Errorf("change = %+v, want %+v", c, tt.want)
			}
			if out, _ := c.Data["stdout"].(string); out != tt.wantOut {
				t.Errorf("stdout = %q, want %q", out, tt.wantOut)
			}
			reads := 0
			for _, argv := range conn.argvs {
				reads += strings.Count(strings.Join(argv, " "), "tend-async-status")
			}
			if tt.reads != 0 && reads != tt.reads {
				t.Errorf("the job was read %d times, want %d", reads, tt.reads)
			}
			files, _ := filepath.Glob(filepath.Join(tt.o.Dir, "*"))
			switch {
			case tt.o.Poll == 0:
				if c.Data["finished"] != 0 || c.Data["started"] != 1 || c.Data["ansible_job_id"] == "" {
					t.Errorf("fire and forget data = %v", c.Data)
				}
				waitJob(t, conn, tt.o.Dir, c.Data["ansible_job_id"].(string))
			case !c.Failed && len(files) != 0:
				t.Errorf("a finished job's files are left: %v", files)
			}
		})
	}
}

// TestAsyncJobUmask: the job's own files are private, but what the
// program creates has the mode a normal run would give it.
func TestAsyncJobUmask(t *testing.T) {
	dir := t.TempDir()
	conn := transport.Local()
	made := filepath.Join(dir, "made")
	job, err := LaunchJob(context.Background(), conn, dir, transport.Command{Argv: []string{"/bin/sh", "-c", `: > "$1"`, "x", made}}, 60)
	if err != nil {
		t.Fatal(err)
	}
	if st := waitJob(t, conn, dir, job.ID); st.RC != 0 {
		t.Fatalf("job: %+v", st)
	}
	umask := syscall.Umask(0) // the session's, which a normal run would create the file with
	syscall.Umask(umask)
	for path, want := range map[string]os.FileMode{made: 0o666 &^ os.FileMode(umask), job.ResultsFile: 0o600, job.ResultsFile + ".out": 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want mode %o", path, fi.Mode(), err, want)
		}
	}
}
