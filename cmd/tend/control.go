package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"tend/runner"
	"tend/views"
)

// controlFlags are the execution-control flags of `tend run`: which tasks
// run (--tags, --skip-tags) and where the hosts to retry are written.
type controlFlags struct {
	tags      []string
	skipTags  []string
	retryFile string
}

func addControlFlags(fs *pflag.FlagSet, c *controlFlags) {
	fs.StringSliceVarP(&c.tags, "tags", "t", nil, "run only tasks with these tags (comma list; repeatable; special: all, tagged, untagged; always-tagged tasks run anyway)")
	fs.StringSliceVar(&c.skipTags, "skip-tags", nil, "skip tasks with these tags (comma list; repeatable); never-tagged tasks run only when --tags names them")
	fs.StringVar(&c.retryFile, "retry-file", "", "after the run, write the hosts that failed, were unreachable or were stopped to this file, one per line (empty when none), for --limit @FILE")
}

// apply copies the flags into the run's options.
func (c *controlFlags) apply(o *runner.Options) {
	o.Tags, o.SkipTags, o.RetryFile = nonEmpty(c.tags), nonEmpty(c.skipTags), c.retryFile
}

func nonEmpty(l []string) []string {
	var out []string
	for _, s := range l {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// humanOnTerminal gives the human view stderr for warnings, and live
// progress there when stderr is a terminal (never on a pipe or a file).
func humanOnTerminal(h *views.Human, stderr io.Writer) {
	h.Stderr = stderr
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		h.Progress = true
	}
}

// warner returns the connection warning sink: through the human view
// (so a warning never lands inside its progress line), else on stderr.
func warner(obs runner.Observer, stderr io.Writer) func(string) {
	if h, ok := obs.(*views.Human); ok && h.Stderr != nil {
		return h.Warning
	}
	return func(s string) { fmt.Fprintln(stderr, "tend: warning:", s) }
}
