package modules

import (
	"context"
	"encoding/hex"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"tend/runner/plan"
	"tend/runner/transport"
)

// wait_for on a file (path: present or absent, with search_regex on its
// content) and on a port's greeting (search_regex with port). The polling
// loop runs on the host, one remote command for the whole wait; a regexp
// cannot run there (it is Python's, translated to Go by pyregex.go), so the
// loop returns the content when it differs from the last one tend matched
// against, and tend starts the loop again when it does not match: one
// remote command per change of content, not per poll.

// waitMaxContent bounds the bytes of a file (or a greeting) search_regex
// searches: the first 1 MiB of a file, the first 4 KiB of a greeting.
const (
	waitMaxContent  = 1 << 20
	waitMaxGreeting = 4096
)

// checkTargetArgs validates path, search_regex and their states, and maps
// Ansible's synonyms: for a port present is started and absent stopped;
// for a path started is present.
func (m *waitForModule) checkTargetArgs(a Args, args waitForArgs) error {
	bad := func(key, format string, v ...any) error {
		return posErr(a.File, argValueNode(a.Node, key), "wait_for", format, v...)
	}
	if v, ok := lookupArg(a.Node, "port"); ok && m.port == 0 && !hasTemplate(v.Value) {
		return bad("port", "port must be a port between 1 and 65535, not 0")
	}
	if args.Delay < 0 {
		return bad("delay", "delay must not be negative")
	}
	if args.Sleep < 0 {
		return bad("sleep", "sleep must not be negative")
	}
	if m.path != "" && (m.port != 0 || templatedArg(a.Node, "port")) {
		return bad("path", "port and path cannot both be given")
	}
	if m.path != "" && !hasTemplate(m.path) && !path.IsAbs(m.path) {
		return bad("path", "path must be absolute, not %q", m.path)
	}
	templ := hasTemplate(m.state)
	switch {
	case m.path != "" && !templ:
		switch m.state {
		case "started", "present":
			m.state = "present"
		case "absent":
		default:
			return bad("state", "with path, state must be present (or started) or absent, not %q; stopped and drained are for a port", m.state)
		}
	case m.port != 0 && m.state == "present":
		m.state = "started"
	case m.port != 0 && m.state == "absent":
		m.state = "stopped"
	case m.port == 0 && !templatedArg(a.Node, "port") && !templ && m.state != "started":
		return bad("state", "state %s needs port or path", m.state)
	}
	if args.SearchRegex == "" {
		return nil
	}
	if m.path == "" && m.port == 0 && !templatedArg(a.Node, "port") {
		return bad("search_regex", "search_regex needs path (a file's content) or port (its greeting)")
	}
	if !templ && m.state != "present" && m.state != "started" {
		return bad("search_regex", "search_regex only applies to state present or started, not %s", m.state)
	}
	if hasTemplate(args.SearchRegex) {
		return nil
	}
	// Ansible compiles search_regex with re.MULTILINE; errors name the
	// pattern as written.
	if _, err := compilePyRegexp(args.SearchRegex); err != nil {
		return bad("search_regex", "%v", err)
	}
	re, err := compilePyRegexp("(?m)" + args.SearchRegex)
	if err != nil {
		return bad("search_regex", "%v", err)
	}
	m.search, m.searchSrc = re, args.SearchRegex
	return nil
}

// waitPathScript polls file $1 on the host until it exists ($2 = present)
// or is gone ($2 = absent), or $3 milliseconds have passed, sleeping $4
// seconds between polls. With $5 = 1 (search_regex) a present file ends
// the wait only when the cksum of its first $7 bytes differs from $6 (the
// content tend last matched against, "" at first); it then prints those
// bytes after a "content" line. It prints on stderr each state that
// differs from the one before ("tend-wait exists=0") and on stdout the
// last state and how many polls ran.
const waitPathScript = `clock() { now=$(date +%s%3N 2>/dev/null); case $now in *N*|'') now=$(($(date +%s) * 1000));; esac; }
clock; end=$((now + $3)); polls=0 last= changed=0 sum=
while :; do
  polls=$((polls + 1)) exists=0
  [ -e "$1" ] && exists=1
  if [ "$2" = absent ]; then [ $exists = 0 ] && break
  elif [ $exists = 1 ]; then
    [ "$5" = 1 ] || break
    sum=$(head -c "$7" -- "$1" 2>/dev/null | cksum | tr ' ' _)
    [ "$sum" != "$6" ] && { changed=1; break; }
  fi
  state="exists=$exists"
  [ "$state" != "$last" ] && echo "tend-wait $state" >&2
  last=$state
  clock; [ "$now" -ge "$end" ] && break
  sleep "$4"
done
echo "exists=$exists polls=$polls sum=$sum"
[ $changed = 1 ] && { echo content; head -c "$7" -- "$1"; }
exit 0
`

// waitGreetScript connects to $1:$2 on the host until it accepts and the
// cksum of what it sends first (at most $6 bytes) differs
// from $5, or $3 milliseconds have passed, sleeping $4 seconds between
// tries. The greeting is one read(2) of at most $6 bytes, within 1 s. It prints the last state, the polls and the greeting in hex.
const waitGreetScript = `command -v bash >/dev/null 2>&1 || { echo nobash=1; exit 0; }
exec bash -c '
export LC_ALL=C
clock() { if [[ -n ${EPOCHREALTIME-} ]]; then local t=${EPOCHREALTIME//[.,]/}; now=$((10#$t / 1000)); else now=$((SECONDS * 1000)); fi; }
clock; end=$((now + $3)); polls=0 last= hexg= sum=
while :; do
  polls=$((polls + 1)) accept=0
  if exec 3<>"/dev/tcp/$1/$2"; then
    accept=1
    # One read of at most $6 bytes: what the server sent first, within 1 s.
    hexg=$(timeout 1 dd bs="$6" count=1 <&3 2>/dev/null | od -An -v -tx1 | tr -d " \n")
    exec 3<&-
    sum=$(printf %s "$hexg" | cksum | tr " " _)
    [[ $sum != "$5" ]] && break
  fi 2>/dev/null
  state="accept=$accept"
  [[ $state != "$last" ]] && echo "tend-wait $state" >&2
  last=$state
  clock; (( now >= end )) && break
  sleep "$4"
done
echo "accept=$accept polls=$polls sum=$sum greeting=$hexg"
' tend-greet "$@"
`

// waitRound is one run of a host loop: where it stopped.
type waitRound struct {
	reached bool // exists (or gone), or accepts
	polls   int
	sum     string
	content []byte // nil unless the content changed
}

// runWaitLoop runs one host loop (argv) with a tap for goal's progress.
func runWaitLoop(ctx context.Context, conn transport.Conn, argv []string, goal string, timeout time.Duration, maxOut int, describe func(string) string) (string, error) {
	report(ctx, "waiting for "+goal)
	defer report(ctx, "")
	cmd := transport.Command{Argv: argv, Timeout: timeout + 15*time.Second, MaxOutput: maxOut}
	if tap := newWaitTap(ctx, goal, false, true); tap != nil {
		tap.describe = describe
		cmd.StderrTap = tap
	}
	res, err := conn.Run(ctx, cmd)
	if err != nil {
		return "", fmt.Errorf("wait for %s: %w", goal, err)
	}
	return string(res.Stdout), nil
}

// parseWaitRound reads the first line's key=value words, and the content.
func parseWaitRound(out, key string) waitRound {
	head, content, hasContent := strings.Cut(out, "\ncontent\n")
	line, _, _ := strings.Cut(head, "\n")
	var r waitRound
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case key:
			r.reached = v == "1"
		case "polls":
			r.polls, _ = strconv.Atoi(v)
		case "sum":
			r.sum = v
		case "greeting":
			if b, err := hex.DecodeString(v); err == nil && r.reached {
				r.content = b
			}
		}
	}
	if hasContent {
		r.content = []byte(content)
	}
	return r
}

// checkPath waits for the file, and for its content to match search_regex.
func (m *waitForModule) checkPath(ctx context.Context, conn transport.Conn, start, deadline time.Time) (plan.Change, error) {
	goal := m.path + map[bool]string{true: " to exist", false: " to be gone"}[m.state == "present"]
	if m.search != nil {
		goal = m.path + " to match " + strconv.Quote(m.searchSource())
	}
	describe := func(rest string) string {
		if strings.Contains(rest, "exists=1") {
			return map[bool]string{true: "exists, no match yet", false: "still exists"}[m.state == "present"]
		}
		return "does not exist"
	}
	return m.loop(ctx, start, deadline, map[string]any{"path": m.path}, goal, func(last string) (waitRound, error) {
		out, err := runWaitLoop(ctx, conn, []string{"/bin/sh", "-c", waitPathScript, "tend-wait", m.path, m.state,
			strconv.FormatInt(max(time.Until(deadline), 0).Milliseconds(), 10), strconv.FormatFloat(m.sleep.Seconds(), 'f', 3, 64),
			map[bool]string{true: "1", false: "0"}[m.search != nil], last, strconv.Itoa(waitMaxContent)},
			goal, max(time.Until(deadline), 0), waitMaxContent+4096, describe)
		r := parseWaitRound(out, "exists")
		if m.state == "absent" {
			r.reached = !r.reached && err == nil && strings.Contains(out, "polls=")
		}
		return r, err
	})
}

// checkGreeting waits for the port to send a greeting search_regex matches.
func (m *waitForModule) checkGreeting(ctx context.Context, conn transport.Conn, start, deadline time.Time) (plan.Change, error) {
	target := portTarget(m.host, m.port)
	goal := target + " greeting to match " + strconv.Quote(m.searchSource())
	describe := func(rest string) string {
		return map[bool]string{true: "accepts, no match yet", false: "does not accept"}[strings.Contains(rest, "accept=1")]
	}
	return m.loop(ctx, start, deadline, map[string]any{"port": m.port, "host": m.host}, goal, func(last string) (waitRound, error) {
		out, err := runWaitLoop(ctx, conn, []string{"/bin/sh", "-c", waitGreetScript, "tend-greet", m.host, strconv.Itoa(m.port),
			strconv.FormatInt(max(time.Until(deadline), 0).Milliseconds(), 10), strconv.FormatFloat(m.sleep.Seconds(), 'f', 3, 64),
			last, strconv.Itoa(waitMaxGreeting)}, goal, max(time.Until(deadline), 0), 4*waitMaxGreeting, describe)
		if err == nil && strings.Contains(out, "nobash=1") {
			err = fmt.Errorf("wait_for: search_regex on a port needs bash on the host")
		}
		return parseWaitRound(out, "accept"), err
	})
}

// searchSource is search_regex as the user wrote it (Python syntax).
func (m *waitForModule) searchSource() string { return m.searchSrc }

// loop runs host loops (round) until the goal is reached, the content
// matches search_regex, or the deadline passes; a timeout is a failed
// result. data gains state, polls (over all rounds), matched and elapsed.
func (m *waitForModule) loop(ctx context.Context, start, deadline time.Time, data map[string]any, goal string, round func(last string) (waitRound, error)) (plan.Change, error) {
	data["state"] = m.state
	polls, last := 0, ""
	for {
		r, err := round(last)
		if err != nil {
			return plan.Change{}, err
		}
		polls += r.polls
		if r.sum == last && last != "" {
			r.content = nil // the same content as before: no news
		}
		data["polls"], data["elapsed"] = polls, time.Since(start).Round(time.Millisecond).Seconds()
		done := r.reached && m.search == nil
		if r.reached && m.search != nil && r.content != nil {
			if loc := m.search.re.FindIndex(r.content); loc != nil {
				done = true
				data["match"] = string(r.content[loc[0]:loc[1]])
			}
			last = r.sum
		}
		if done {
			return plan.Change{Action: plan.Read, Data: data, Summary: fmt.Sprintf("done waiting for %s after %s (%d polls)",
				goal, time.Since(start).Round(100*time.Millisecond), polls)}, nil
		}
		if !time.Now().Before(deadline) || r.content == nil {
			// The host loop gave up (its deadline) without new content.
			msg := m.msg
			if msg == "" {
				msg = fmt.Sprintf("timeout: waited %s for %s (%d polls)", m.timeout, goal, polls)
			}
			return plan.Change{Action: plan.Read, Failed: true, Msg: msg, Data: data}, nil
		}
		// New content that does not match: wait for the next change.
		if err := sleepCtx(ctx, min(m.sleep, time.Until(deadline))); err != nil {
			return plan.Change{}, err
		}
	}
}
