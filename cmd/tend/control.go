package main

import (
	"io"
	"os"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"tend/runner"
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

// isTerminal reports whether w is a terminal: the text view draws live
// progress there (never on a pipe or a file).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
