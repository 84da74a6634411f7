package runner

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tend/runner/playbook"
	"tend/runner/transport"
)

// A loop over a module whose Check starts with one read-only command
// (stat, file, find, lineinfile, blockinfile, replace: their BatchRead in
// modules/batchread.go) reads the host for many items in ONE remote
// command: before an item runs, the first reads of it and the next items
// (up to readWindow) are gathered and run together through readMuxScript;
// each item then runs exactly as it would alone (its when, its module, its
// Check, Apply, changed_when, failed_when, register, label), except that
// its Check's first command is answered from that batch. A command that is
// not the one announced runs live, so a batch can only save round trips,
// never change an answer. Answers are never older than the loop's last
// change: once an item's Apply ran, the reads left are dropped and the next
// item starts a new batch. A batch that fails for any reason is dropped and
// the items read live.

// batchReader is a module that says its Check's first read ahead of it.
type batchReader interface {
	BatchRead() (transport.Command, bool)
}

// noReadBatching turns batched loop reads off (tests compare both ways).
var noReadBatching atomic.Bool

// readWindow bounds the items one batched read covers.
const readWindow = 256

// maxBatchOutput bounds a batched read's output; a larger one is dropped.
const maxBatchOutput = 64 << 20

// readMuxScript runs commands given as words after a MARK (random, from
// the caller) and prints, for each, its stdout, then a line "MARK EXIT",
// then its stderr, then a line "MARK". The words are
//
//	s SCRIPT       keep SCRIPT as the next script (numbered from 1)
//	c N K ARG...   run script N with the K ARGs as $1... in a subshell
//	x K ARG...     run the K ARGs as a command
//
// A script runs in a subshell of this shell, never exec'd, so its ARGs stay
// off the host's argv, as the transport keeps them (scriptargs.go). Its
// stdin is /dev/null; its stderr goes to a file of a private directory,
// removed at the end. One fork a command, as when each runs alone.
const readMuxScript = `_tb_d=$(mktemp -d) || exit 90
trap 'rm -rf -- "$_tb_d"' EXIT
_tb_M=$1 _tb_n=0
shift
while [ $# -gt 0 ]; do
	case $1 in
	s) _tb_n=$((_tb_n+1)); eval "_tb_s$_tb_n=\$2"; shift 2; continue ;;
	c) _tb_x=$2 _tb_k=$3; shift 3 ;;
	x) _tb_x= _tb_k=$2; shift 2 ;;
	*) exit 91 ;;
	esac
	_tb_c= _tb_i=0
	while [ "$_tb_i" -lt "$_tb_k" ]; do _tb_i=$((_tb_i+1)); _tb_c="$_tb_c \"\${$_tb_i}\""; done
	(
		eval "set -- $_tb_c"
		if [ -z "$_tb_x" ]; then exec "$@"; fi
		eval "_tb_x=\$_tb_s$_tb_x"
		unset _tb_c _tb_i _tb_k _tb_n _tb_d _tb_M
		eval "$_tb_x"
	) 2>"$_tb_d/e" </dev/null
	printf '%s %s\n' "$_tb_M" "$?"
	shift "$_tb_k"
	if [ -s "$_tb_d/e" ]; then cat -- "$_tb_d/e"; fi
	printf '%s\n' "$_tb_M"
done`

// prefetched is one item's first read, answered ahead.
type prefetched struct {
	key string
	res transport.Result
}

// over returns conn answering p's command once from p, anything else live.
func (p *prefetched) over(conn transport.Conn) transport.Conn {
	return &prefetchConn{Conn: conn, p: p}
}

type prefetchConn struct {
	transport.Conn
	mu   sync.Mutex
	p    *prefetched
	used bool
}

// Run answers the prefetched command once; every other runs on the host.
func (c *prefetchConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	c.mu.Lock()
	hit := !c.used && batchable(cmd) && cmdKey(cmd) == c.p.key
	c.used = c.used || hit
	c.mu.Unlock()
	if hit {
		return c.p.res, nil
	}
	return c.Conn.Run(ctx, cmd)
}

// Unwrap is the connection underneath (uri looks for a dialer there).
func (c *prefetchConn) Unwrap() transport.Conn { return c.Conn }

// batchable reports whether cmd can run inside a batched read: a plain
// command with no input, no timeout and no session of its own.
func batchable(cmd transport.Command) bool {
	return len(cmd.Argv) > 0 && cmd.Stdin == nil && cmd.Input == nil && cmd.Timeout == 0 && !cmd.OwnSession && cmd.StderrTap == nil
}

func cmdKey(cmd transport.Command) string {
	return strconv.Itoa(cmd.MaxOutput) + "\x00" + strings.Join(cmd.Argv, "\x00")
}

// loopReads is a loop's batched reads: the answers of items [from, to).
type loopReads struct {
	hp      *hostPlay
	t       *playbook.Task
	items   []any
	from    int
	to      int
	answers map[int]*prefetched
}

// newLoopReads returns the batcher of t's loop, nil when its reads cannot
// be batched: until, pause, delegate_to, include_vars, a loop variable
// named ansible_*, a become user that is a template (it could depend on the
// item), or batching turned off.
func (hp *hostPlay) newLoopReads(t *playbook.Task, items []any) *loopReads {
	l := t.Loop
	if noReadBatching.Load() || len(items) < 2 || len(t.Until) > 0 || l.Pause > 0 || t.DelegateTo != "" || t.RemoteUser != "" || t.IncludeVars != nil || t.Module == "include_vars" ||
		strings.HasPrefix(l.LoopVar, "ansible_") || strings.HasPrefix(l.IndexVar, "ansible_") {
		return nil
	}
	for _, k := range []string{varBecome, varBecomeUser} {
		if s, ok := hp.vars(t)[k].(string); ok && (strings.Contains(s, "{{") || strings.Contains(s, "{%")) {
			return nil
		}
	}
	return &loopReads{hp: hp, t: t, items: items}
}

// next returns item i's prefetched read (nil: it reads live), reading the
// host for it and the items after it when no batch covers it.
func (lr *loopReads) next(ctx context.Context, i int) *prefetched {
	if lr == nil {
		return nil
	}
	if lr.answers == nil || i < lr.from || i >= lr.to {
		lr.fill(ctx, i)
	}
	p := lr.answers[i]
	delete(lr.answers, i)
	return p
}

// changed drops the reads left: the host changed since they were made.
func (lr *loopReads) changed() {
	if lr != nil {
		lr.answers = nil
	}
}

// fill reads items [from, from+readWindow) in one command: each item's
// when is evaluated and its module built as execute would; items skipped,
// failing to build or without a batch read are left to read live.
func (lr *loopReads) fill(ctx context.Context, from int) {
	hp, t := lr.hp, lr.t
	lr.from, lr.to, lr.answers = from, min(from+readWindow, len(lr.items)), map[int]*prefetched{}
	saved := hp.loopScope
	defer func() { hp.loopScope = saved }()
	var conn transport.Conn
	var idx []int
	var cmds []transport.Command
	for i := lr.from; i < lr.to; i++ {
		hp.loopScope = loopScope(t.Loop, lr.items, i)
		vars := hp.vars(t)
		if ok, err := allTrue(t.When, vars); err != nil || !ok {
			continue
		}
		_, mod, err := newModule(t, vars)
		if err != nil {
			continue
		}
		br, ok := mod.(batchReader)
		if !ok {
			return // not a module that batches: every item reads live
		}
		cmd, ok := br.BatchRead()
		if !ok || !batchable(cmd) {
			continue
		}
		if conn == nil {
			if conn, err = hp.delegatedConn(t, vars, nil); err != nil {
				return
			}
		}
		idx, cmds = append(idx, i), append(cmds, cmd)
	}
	if len(cmds) < 2 {
		return // one read gains nothing
	}
	results, err := runBatch(ctx, conn, cmds, t.Timeout)
	if err != nil {
		return // the items read live, and meet the error there
	}
	for j, i := range idx {
		lr.answers[i] = &prefetched{key: cmdKey(cmds[j]), res: results[j]}
	}
}

// runBatch runs cmds as one remote command and returns their results.
func runBatch(ctx context.Context, conn transport.Conn, cmds []transport.Command, timeout time.Duration) ([]transport.Result, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("batched read: %w", err)
	}
	mark := "tend-batch-" + hex.EncodeToString(b[:])
	argv := []string{"/bin/sh", "-c", readMuxScript, "sh", mark}
	scripts := map[string]int{}
	for _, c := range cmds {
		a := c.Argv
		if len(a) >= 4 && a[0] == "/bin/sh" && a[1] == "-c" {
			n, ok := scripts[a[2]]
			if !ok {
				n = len(scripts) + 1
				scripts[a[2]] = n
				argv = append(argv, "s", a[2])
			}
			argv = append(argv, "c", strconv.Itoa(n), strconv.Itoa(len(a)-4))
			argv = append(argv, a[4:]...)
			continue
		}
		argv = append(argv, "x", strconv.Itoa(len(a)))
		argv = append(argv, a...)
	}
	res, err := conn.Run(ctx, transport.Command{Argv: argv, MaxOutput: maxBatchOutput, Timeout: timeout})
	if err != nil {
		return nil, fmt.Errorf("batched read: %w", err)
	}
	if res.ExitCode != 0 || res.Truncated {
		return nil, fmt.Errorf("batched read: exit %d (truncated %v): %s", res.ExitCode, res.Truncated, bytes.TrimSpace(res.Stderr))
	}
	return parseBatch(res.Stdout, []byte(mark), cmds)
}

// maxOut is the bytes of each stream cmd keeps.
func maxOut(c transport.Command) int {
	if c.MaxOutput > 0 {
		return c.MaxOutput
	}
	return transport.DefaultMaxOutput
}

// parseBatch splits readMuxScript's output into one result per command,
// each output cut at the command's own MaxOutput.
func parseBatch(out, mark []byte, cmds []transport.Command) ([]transport.Result, error) {
	results := make([]transport.Result, len(cmds))
	for i, c := range cmds {
		so := bytes.Index(out, mark)
		if so < 0 {
			return nil, fmt.Errorf("batched read: answer %d of %d missing", i+1, len(cmds))
		}
		stdout := out[:so]
		out = out[so+len(mark):]
		nl := bytes.IndexByte(out, '\n')
		if nl < 0 || nl < 2 || out[0] != ' ' {
			return nil, fmt.Errorf("batched read: answer %d: no exit status", i+1)
		}
		code, err := strconv.Atoi(string(out[1:nl]))
		if err != nil {
			return nil, fmt.Errorf("batched read: answer %d: exit status %q", i+1, out[1:nl])
		}
		out = out[nl+1:]
		se := bytes.Index(out, append(mark, '\n'))
		if se < 0 {
			return nil, fmt.Errorf("batched read: answer %d cut short", i+1)
		}
		stderr := out[:se]
		out = out[se+len(mark)+1:]
		limit := maxOut(c)
		results[i] = transport.Result{
			ExitCode:  code,
			Stdout:    bytes.Clone(stdout[:min(len(stdout), limit)]),
			Stderr:    bytes.Clone(stderr[:min(len(stderr), limit)]),
			Truncated: len(stdout) > limit || len(stderr) > limit,
		}
	}
	if len(out) > 0 {
		return nil, fmt.Errorf("batched read: %d bytes after the last answer", len(out))
	}
	return results, nil
}
