package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"tend/runner/playbook"
	"tend/runner/transport"
)

// DefaultStateDir is where a host remembers handlers that were notified
// but have not run yet (the variable tend_state_dir overrides it). If tend
// dies between a change and its handler — a restart after a config edit —
// the next run finds the marker and runs the handler, although the change
// itself no longer reports "changed".
const DefaultStateDir = "/var/lib/tend/pending"

// The state-dir scripts, run as /bin/sh -c SCRIPT sh ARGS (named so that
// the engine tests' in-memory host can answer them).
const (
	// markPendingScript writes $3 to the marker $1/$2 (mkdir only the first
	// time: a program exec'd costs the host more than the test).
	markPendingScript = `{ [ -d "$1" ] || mkdir -p -- "$1"; } && printf '%s\n' "$3" > "$1/$2"`
	// loadPendingScript prints which of the markers $2... exist in $1.
	loadPendingScript = `cd -- "$1" 2>/dev/null || exit 0; shift; for f; do [ -e "$f" ] && echo "$f"; done; exit 0`
	// clearPendingScript removes the markers $2... from $1: one rm for
	// those that exist, none when none does.
	clearPendingScript = `d=$1; shift; n=$#; for f; do if [ -e "$d/$f" ] || [ -L "$d/$f" ]; then set -- "$@" "$d/$f"; fi; done; shift "$n"; [ "$#" = 0 ] || rm -f -- "$@"`
)

// pendingID names the marker of one notification topic of one play.
func (hp *hostPlay) pendingID(topic string) string {
	h := sha256.Sum256([]byte(filepath.Base(hp.r.pb.File) + "\x00" + hp.play.Name + "\x00" + topic))
	return hex.EncodeToString(h[:8])
}

func (hp *hostPlay) stateDir() string {
	if d, ok := hp.vars(nil)["tend_state_dir"].(string); ok && d != "" {
		return d
	}
	return DefaultStateDir
}

// topics lists every name a handler of the play answers to.
func (hp *hostPlay) topics() []string {
	var out []string
	for _, h := range hp.play.Handlers {
		if h.Name != "" {
			out = append(out, h.Name)
		}
		out = append(out, h.Listen...)
	}
	return out
}

// markPending records on the host that topic was notified, before the
// handler runs. A failure to record is a warning, not a task failure.
func (hp *hostPlay) markPending(ctx context.Context, topic string) error {
	_, err := hp.runState(ctx, markPendingScript,
		hp.stateDir(), hp.pendingID(topic), fmt.Sprintf("%s\t%s\t%s", time.Now().UTC().Format(time.RFC3339), hp.play.Name, topic))
	return err
}

// loadPending notifies the topics a previous run left pending on the host.
func (hp *hostPlay) loadPending(ctx context.Context) ([]string, error) {
	topics := hp.topics()
	if len(topics) == 0 {
		return nil, nil
	}
	byID := map[string]string{}
	args := []string{hp.stateDir()}
	for _, t := range topics {
		id := hp.pendingID(t)
		byID[id] = t
		args = append(args, id)
	}
	out, err := hp.runState(ctx, loadPendingScript, args...)
	if err != nil {
		return nil, err
	}
	var found []string
	for _, id := range strings.Fields(out) {
		if t, ok := byID[id]; ok {
			hp.notified[t] = true
			found = append(found, t)
		}
	}
	return found, nil
}

// clearPending removes the markers of a handler that ran successfully.
func (hp *hostPlay) clearPending(ctx context.Context, h *playbook.Task) error {
	args := []string{hp.stateDir()}
	for _, t := range append([]string{h.Name}, h.Listen...) {
		if t != "" {
			args = append(args, hp.pendingID(t))
		}
	}
	_, err := hp.runState(ctx, clearPendingScript, args...)
	return err
}

func (hp *hostPlay) runState(ctx context.Context, script string, args ...string) (string, error) {
	res, err := hp.playConn().Run(ctx, transport.Command{Argv: append([]string{"/bin/sh", "-c", script, "sh"}, args...), Timeout: 30 * time.Second, NoRemoteTimeout: true})
	if err != nil {
		return "", err
	}
	if res.ExitCode != 0 {
		return "", fmt.Errorf("state dir %s: exit %d: %s", hp.stateDir(), res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return string(res.Stdout), nil
}
