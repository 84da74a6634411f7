package sshconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// None is the file name that disables ssh_config, as in `ssh -F none`.
const None = "none"

// SystemFile is read after the user's file when no file is named.
const SystemFile = "/etc/ssh/ssh_config"

// maxDepth bounds nested Include, as OpenSSH's READCONF_MAX_DEPTH.
const maxDepth = 16

// includeKey replaces the Include keyword before the library parses a file,
// so that includes are resolved here (see doc.go).
const includeKey = "TendInclude"

// Config is a parsed ssh_config: the files in the order they are consulted.
type Config struct {
	files []*file
}

// file is one parsed file and the files its Include lines name.
type file struct {
	name     string
	cfg      *ssh_config.Config
	includes [][]*file // indexed by the TendInclude value
}

// Load reads the client configuration as ssh(1) does. An empty path reads
// ~/.ssh/config then /etc/ssh/ssh_config, either of which may be missing;
// [None] reads nothing; any other path reads only that file (like -F),
// which must exist. warn receives notes about parts that are ignored.
func Load(path string, warn func(string)) (*Config, error) {
	if warn == nil {
		warn = func(string) {}
	}
	c := &Config{}
	switch path {
	case None:
		return c, nil
	case "":
		if home, err := os.UserHomeDir(); err == nil {
			if err := c.add(filepath.Join(home, ".ssh", "config"), false, true, warn); err != nil {
				return nil, err
			}
		}
		if err := c.add(SystemFile, true, true, warn); err != nil {
			return nil, err
		}
	default:
		if err := c.add(expandTilde(path), false, false, warn); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Config) add(path string, system, optional bool, warn func(string)) error {
	data, err := os.ReadFile(path)
	if optional && errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sshconfig: %w", err)
	}
	f, err := parse(path, data, system, 0, warn)
	if err != nil {
		return err
	}
	c.files = append(c.files, f)
	return nil
}

// Parse reads one configuration from data; name is used in messages and to
// place relative Include paths (as a user file: relative to ~/.ssh).
func Parse(name string, data []byte, warn func(string)) (*Config, error) {
	if warn == nil {
		warn = func(string) {}
	}
	f, err := parse(name, data, false, 0, warn)
	if err != nil {
		return nil, err
	}
	return &Config{files: []*file{f}}, nil
}

var (
	keywordRe = regexp.MustCompile(`^\s*([A-Za-z]+)(?:\s*=\s*|\s+)(.*)$`)
	libPosRe  = regexp.MustCompile(`^\((\d+), (\d+)\): (.*)$`)
)

func parse(name string, data []byte, system bool, depth int, warn func(string)) (*file, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("sshconfig: %s: Include nested more than %d deep", name, maxDepth)
	}
	f := &file{name: name}
	lines := strings.SplitAfter(string(data), "\n")
	for i, line := range lines {
		m := keywordRe.FindStringSubmatch(strings.TrimRight(line, "\r\n"))
		if m == nil {
			continue
		}
		at := fmt.Sprintf("%s:%d", name, i+1)
		args, err := splitArgs(m[2])
		if err != nil {
			return nil, fmt.Errorf("sshconfig: %s: %v", at, err)
		}
		switch strings.ToLower(m[1]) {
		case "match":
			lines[i] = rewriteMatch(args, at, warn) + "\n"
		case "include":
			var inc []*file
			for _, pat := range args {
				got, err := include(pat, system, depth, at, warn)
				if err != nil {
					return nil, err
				}
				inc = append(inc, got...)
			}
			lines[i] = includeKey + " " + strconv.Itoa(len(f.includes)) + "\n"
			f.includes = append(f.includes, inc)
		}
	}
	cfg, err := ssh_config.DecodeBytes([]byte(strings.Join(lines, "")))
	if err != nil {
		if m := libPosRe.FindStringSubmatch(err.Error()); m != nil {
			return nil, fmt.Errorf("sshconfig: %s:%s:%s: %s", name, m[1], m[2], m[3])
		}
		return nil, fmt.Errorf("sshconfig: %s: %w", name, err)
	}
	f.cfg = cfg
	return f, nil
}

// include parses the files one Include argument names, in glob order.
func include(pat string, system bool, depth int, at string, warn func(string)) ([]*file, error) {
	pat = expandTilde(pat)
	if !filepath.IsAbs(pat) {
		dir := "/etc/ssh"
		if !system {
			home, err := os.UserHomeDir()
			if err != nil {
				return nil, fmt.Errorf("sshconfig: %s: Include %s: %w", at, pat, err)
			}
			dir = filepath.Join(home, ".ssh")
		}
		pat = filepath.Join(dir, pat)
	}
	names, err := filepath.Glob(pat)
	if err != nil {
		return nil, fmt.Errorf("sshconfig: %s: Include %s: %w", at, pat, err)
	}
	slices.Sort(names)
	var out []*file
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			if st, serr := os.Stat(n); serr == nil && st.IsDir() {
				continue
			}
			return nil, fmt.Errorf("sshconfig: %s: Include: %w", at, err)
		}
		f, err := parse(n, data, system, depth+1, warn)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// neverPattern matches no host: a negated "*" excludes every name.
const neverPattern = "Host !*"

// rewriteMatch turns a Match line into the equivalent Host line, or into
// one that never matches (with a warning) when a criterion cannot be
// evaluated here.
func rewriteMatch(args []string, at string, warn func(string)) string {
	var pos, neg []string
	positives := 0
	for i := 0; i < len(args); i++ {
		crit := strings.ToLower(args[i])
		negated := strings.HasPrefix(crit, "!")
		crit = strings.TrimPrefix(crit, "!")
		switch crit {
		case "all":
			if negated {
				return neverPattern
			}
			continue
		case "host", "originalhost", "localuser":
		default:
			warn(fmt.Sprintf("sshconfig: %s: Match %s is not supported: this block is ignored", at, crit))
			return neverPattern
		}
		if i+1 >= len(args) {
			warn(fmt.Sprintf("sshconfig: %s: Match %s needs an argument: this block is ignored", at, crit))
			return neverPattern
		}
		i++
		list := strings.Split(args[i], ",")
		if crit == "localuser" {
			if matchList(list, []string{localUser()}) == negated {
				return neverPattern
			}
			continue
		}
		if negated {
			// !host a,b: none of a, b (a negated pattern inside is an
			// exclusion of an exclusion: not expressible, so refuse).
			for _, p := range list {
				if strings.HasPrefix(p, "!") {
					warn(fmt.Sprintf("sshconfig: %s: Match !%s with a negated pattern is not supported: this block is ignored", at, crit))
					return neverPattern
				}
				neg = append(neg, "!"+p)
			}
			continue
		}
		positives++
		pos = append(pos, list...)
	}
	if positives > 1 {
		warn(fmt.Sprintf("sshconfig: %s: Match with several host criteria is not supported: this block is ignored", at))
		return neverPattern
	}
	if positives == 0 {
		pos = []string{"*"}
	}
	return "Host " + strings.Join(append(pos, neg...), " ")
}

// splitArgs splits a value into words; double quotes group words and a word
// starting with '#' starts a comment.
func splitArgs(s string) ([]string, error) {
	var out []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		switch {
		case s[0] == '#':
			return out, nil
		case s[0] == '"':
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, errors.New("unterminated quote")
			}
			out = append(out, s[1:end+1])
			s = s[end+2:]
		default:
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			out = append(out, s[:end])
			s = s[end:]
		}
	}
	return out, nil
}

func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

// expandTilde expands a leading ~/ (or a lone ~) to the home directory.
func expandTilde(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}
