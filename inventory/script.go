package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"tend/internal/diag"
)

// Dynamic inventories: an executable file is run as Ansible's script
// plugin runs it. "SCRIPT --list" prints a JSON object of groups, each
// {"hosts": [...], "children": [...], "vars": {...}} (a bare list is the
// hosts; an object with none of those keys is Ansible's shorthand for a
// host of the group's name with those vars), plus optionally
// "_meta": {"hostvars": {HOST: {...}}}. Without _meta.hostvars, "SCRIPT
// --host NAME" is run for each host and prints that host's vars.
//
// Host and group names are held to the same rules as in files; variable
// names are not (cloud scripts emit what they emit), but connection
// variables are checked as everywhere. Each run is bounded by
// ScriptTimeout and its output by maxScriptOutput.

// ScriptTimeout bounds one dynamic inventory source: its --list run and
// all its --host runs together.
const ScriptTimeout = 60 * time.Second

const (
	maxScriptOutput = 64 << 20 // bytes of stdout
	maxScriptStderr = 4 << 10  // bytes of stderr quoted in an error
	scriptHostForks = 8        // --host runs at once
)

// runScript loads one dynamic inventory source.
func (b *builder) runScript(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, ScriptTimeout)
	defer cancel()
	fail := func(format string, args ...any) error {
		return &Error{Pos: diag.Pos{File: path}, Msg: "inventory script: " + fmt.Sprintf(format, args...)}
	}
	out, err := execScript(ctx, path, "--list")
	if err != nil {
		return fail("%v", err)
	}
	top, err := decodeJSON(out)
	if err != nil {
		return fail("--list output: %v", err)
	}
	obj, ok := top.(*jsonObject)
	if !ok {
		return fail("--list output must be a JSON object of groups, not %s", jsonType(top))
	}
	var meta map[string]any
	listed := []*Host{}
	for _, name := range obj.keys {
		gdata := obj.m[name]
		if name == "_meta" {
			if m, ok := plain(gdata).(map[string]any); ok {
				if hv, ok := m["hostvars"]; ok {
					if meta, ok = hv.(map[string]any); !ok {
						return fail("_meta.hostvars must be an object, not %s", jsonType(hv))
					}
				}
			}
			continue
		}
		hs, err := b.scriptGroup(name, gdata)
		if err != nil {
			return fail("group %q: %v", name, err)
		}
		listed = append(listed, hs...)
	}
	set := func(h *Host, vars any) error {
		m, ok := vars.(map[string]any)
		if !ok {
			return fmt.Errorf("vars of host %q must be an object, not %s", h.Name, jsonType(vars))
		}
		for k, v := range m {
			if err := checkVar(k, v); err != nil {
				return fmt.Errorf("host %q: %v", h.Name, err)
			}
			h.own[k] = v
		}
		return nil
	}
	if meta != nil {
		for _, h := range listed {
			if v, ok := meta[h.Name]; ok {
				if err := set(h, v); err != nil {
					return fail("_meta.hostvars: %v", err)
				}
			}
		}
		return nil
	}
	return b.scriptHostVars(ctx, path, listed, set, fail)
}

// scriptHostVars runs "SCRIPT --host NAME" for each listed host.
func (b *builder) scriptHostVars(ctx context.Context, path string, hosts []*Host, set func(*Host, any) error, fail func(string, ...any) error) error {
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(scriptHostForks)
	seen := map[*Host]bool{}
	for _, h := range hosts {
		if seen[h] {
			continue
		}
		seen[h] = true
		g.Go(func() error {
			out, err := execScript(gctx, path, "--host", h.Name)
			if err != nil {
				return fail("%v", err)
			}
			var v any = map[string]any{}
			if len(bytes.TrimSpace(out)) > 0 {
				j, err := decodeJSON(out)
				if err != nil {
					return fail("--host %s output: %v", h.Name, err)
				}
				v = plain(j)
			}
			mu.Lock()
			defer mu.Unlock()
			if err := set(h, v); err != nil {
				return fail("--host %s: %v", h.Name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// scriptGroup adds one group of --list output and returns its hosts.
func (b *builder) scriptGroup(name string, data any) ([]*Host, error) {
	if err := checkGroupName(name); err != nil {
		return nil, err
	}
	g := b.group(name)
	var hosts, children, vars any
	switch d := data.(type) {
	case *jsonObject:
		_, hasH := d.m["hosts"]
		_, hasC := d.m["children"]
		_, hasV := d.m["vars"]
		if !hasH && !hasC && !hasV {
			hosts, vars = []any{name}, d // Ansible's shorthand
		} else {
			hosts, children, vars = d.m["hosts"], d.m["children"], d.m["vars"]
		}
	default:
		hosts = data
	}
	var out []*Host
	if hosts != nil {
		list, ok := hosts.([]any)
		if !ok {
			return nil, fmt.Errorf("hosts must be a list of names, not %s", jsonType(hosts))
		}
		for _, x := range list {
			hn, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("host %v is not a string", x)
			}
			if err := checkHostName(hn); err != nil {
				return nil, err
			}
			out = append(out, b.host(g, hn))
		}
	}
	if vars != nil {
		m, ok := plain(vars).(map[string]any)
		if !ok {
			return nil, fmt.Errorf("vars must be an object, not %s", jsonType(vars))
		}
		for k, v := range m {
			if err := checkVar(k, v); err != nil {
				return nil, err
			}
			if k == "ansible_group_priority" {
				g.priority, _ = toInt(v)
			} else {
				g.vars[k] = v
			}
		}
	}
	if children != nil {
		list, ok := children.([]any)
		if !ok {
			return nil, fmt.Errorf("children must be a list of group names, not %s", jsonType(children))
		}
		for _, x := range list {
			cn, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("child %v is not a string", x)
			}
			if err := checkGroupName(cn); err != nil {
				return nil, err
			}
			if cn == "all" {
				return nil, errors.New(`group "all" cannot be a child group`)
			}
			if cycle := b.addChild(g, b.group(cn)); cycle != nil {
				return nil, fmt.Errorf("group %q would be its own ancestor: %s", cn, strings.Join(cycle, " → "))
			}
		}
	}
	return out, nil
}

// execScript runs the script with args and returns its stdout. Errors
// say what went wrong in the script's own terms: exit status, stderr,
// timeout, output too large.
func execScript(ctx context.Context, path string, args ...string) ([]byte, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, abs, args...)
	cmd.WaitDelay = 2 * time.Second
	killGroup(cmd)
	stdout := &capWriter{max: maxScriptOutput, cancel: cancel}
	stderr := &capWriter{max: maxScriptStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	what := strings.Join(args, " ")
	switch {
	case stdout.over:
		return nil, fmt.Errorf("%s printed more than %d MiB", what, maxScriptOutput>>20)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("%s did not finish in time (limit %v per inventory script)", what, ScriptTimeout)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s: %v", what, ctx.Err())
	case err != nil:
		msg := strings.TrimSpace(stderr.buf.String())
		if msg != "" {
			msg = ": " + msg
		}
		return nil, fmt.Errorf("%s failed (%v)%s", what, err, msg)
	}
	if !utf8.Valid(stdout.buf.Bytes()) {
		return nil, fmt.Errorf("%s printed bytes that are not UTF-8", what)
	}
	return stdout.buf.Bytes(), nil
}

// capWriter keeps at most max bytes. Past that it records the overflow
// and, for stdout, ends the process through cancel; stderr beyond max is
// dropped silently.
type capWriter struct {
	buf    bytes.Buffer
	max    int
	over   bool
	cancel func()
}

func (w *capWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); len(p) > room {
		w.buf.Write(p[:max(room, 0)])
		if w.cancel != nil {
			w.over = true
			w.cancel()
			return 0, errors.New("output too large")
		}
		return len(p), nil
	}
	return w.buf.Write(p)
}
