package modules

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"tend/runner/transport"
)

// aptQueryScript reads, in one command, what apt's Check needs of the
// package names given as its arguments: each one's dpkg status and
// version (dpkg-query), its installed and candidate versions (apt-cache
// policy), and the apt cache's age (the mtime Ansible reads, and the
// host's clock). It only reads. A name dpkg or apt does not know prints
// nothing in its section.
const aptQueryScript = `LC_ALL=C; export LC_ALL
printf '@@tend:dpkg\n'
[ $# -gt 0 ] && dpkg-query -W -f='${Package}\t${Architecture}\t${db:Status-Abbrev}\t${Version}\n' "$@" 2>/dev/null
printf '@@tend:policy\n'
[ $# -gt 0 ] && apt-cache policy "$@" 2>/dev/null
printf '@@tend:cache\n'
stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null || stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0
date +%s
`

// aptDebScript reads each .deb file given as an argument (its Package,
// Version and Architecture fields) and the dpkg status of the package it
// holds, then the apt cache's age as aptQueryScript does.
const aptDebScript = `LC_ALL=C; export LC_ALL
for d do
	printf '@@tend:deb\n'
	f=$(dpkg-deb -f "$d" Package Version Architecture 2>&1) || { printf '@@tend:error %s\n' "$(printf '%s' "$f" | tr '\n' ' ')"; continue; }
	printf '%s\n' "$f"
	p=$(dpkg-deb -f "$d" Package)
	printf '@@tend:status\n'
	dpkg-query -W -f='${Package}\t${Architecture}\t${db:Status-Abbrev}\t${Version}\n' "$p" 2>/dev/null
done
printf '@@tend:cache\n'
stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null || stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0
date +%s
`

// aptQueryCommand is the read Check runs first for the task's names (or
// debs).
func (m *aptModule) queryCommand() transport.Command {
	if len(m.debs) > 0 {
		return transport.Command{Argv: append([]string{"/bin/sh", "-c", aptDebScript, "tend-apt"}, m.debs...), MaxOutput: 1 << 20}
	}
	argv := []string{"/bin/sh", "-c", aptQueryScript, "tend-apt"}
	seen := map[string]bool{}
	for _, s := range m.specs {
		if !seen[s.name] {
			seen[s.name] = true
			argv = append(argv, s.name)
		}
	}
	return transport.Command{Argv: argv, MaxOutput: 4 << 20}
}

// aptDpkgEntry is one line of dpkg-query: one architecture of a package.
type aptDpkgEntry struct {
	arch, status, version string
}

// installed: dpkg's current state is "installed" (Ansible's test).
func (e aptDpkgEntry) installed() bool { return len(e.status) >= 2 && e.status[1] == 'i' }

// hasFiles: not installed, but files remain (config-files and the like):
// a purge still has work.
func (e aptDpkgEntry) hasFiles() bool {
	return len(e.status) >= 2 && e.status[1] != 'n' && e.status[1] != 'i'
}

// aptPolicy is one package's apt-cache policy block.
type aptPolicy struct {
	installed, candidate string
}

// aptDeb is one .deb file's fields.
type aptDeb struct {
	path, pkg, version, arch string
	// err is dpkg-deb's complaint when the file could not be read.
	err string
}

// aptHostState is what the query read on the host.
type aptHostState struct {
	dpkg   map[string][]aptDpkgEntry
	policy map[string]aptPolicy
	debs   []aptDeb
	// cacheTime is the apt cache's mtime (0 unknown); now the host's clock.
	cacheTime, now int64
}

// parseAptQuery parses aptQueryScript's or aptDebScript's output; debs
// are the paths given, in order.
func parseAptQuery(out string, debs []string) (*aptHostState, error) {
	st := &aptHostState{dpkg: map[string][]aptDpkgEntry{}, policy: map[string]aptPolicy{}}
	section, block := "", ""
	var cache []string
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "@@tend:"); ok {
			section = rest
			switch {
			case section == "deb":
				if len(st.debs) >= len(debs) {
					return nil, fmt.Errorf("apt: more .deb answers than files asked")
				}
				st.debs = append(st.debs, aptDeb{path: debs[len(st.debs)]})
			case strings.HasPrefix(section, "error "):
				if len(st.debs) > 0 {
					st.debs[len(st.debs)-1].err = strings.TrimSpace(strings.TrimPrefix(section, "error "))
				}
			}
			continue
		}
		switch section {
		case "dpkg", "status":
			f := strings.Split(line, "\t")
			if len(f) == 4 {
				st.dpkg[f[0]] = append(st.dpkg[f[0]], aptDpkgEntry{arch: f[1], status: f[2], version: f[3]})
			}
		case "policy":
			if line != "" && line[0] != ' ' && strings.HasSuffix(line, ":") {
				block = strings.TrimSuffix(line, ":")
				st.policy[block] = aptPolicy{}
				continue
			}
			t := strings.TrimSpace(line)
			p := st.policy[block]
			if v, ok := strings.CutPrefix(t, "Installed: "); ok && block != "" {
				p.installed = v
			} else if v, ok := strings.CutPrefix(t, "Candidate: "); ok && block != "" {
				p.candidate = v
			}
			if block != "" {
				st.policy[block] = p
			}
		case "deb":
			d := &st.debs[len(st.debs)-1]
			if v, ok := strings.CutPrefix(line, "Package: "); ok {
				d.pkg = strings.TrimSpace(v)
			} else if v, ok := strings.CutPrefix(line, "Version: "); ok {
				d.version = strings.TrimSpace(v)
			} else if v, ok := strings.CutPrefix(line, "Architecture: "); ok {
				d.arch = strings.TrimSpace(v)
			}
		case "cache":
			if t := strings.TrimSpace(line); t != "" {
				cache = append(cache, t)
			}
		}
	}
	if len(cache) != 2 {
		return nil, fmt.Errorf("apt: unexpected answer from the host (no apt cache time): %q", firstLines(out, 3))
	}
	st.cacheTime, _ = strconv.ParseInt(cache[0], 10, 64)
	st.now, _ = strconv.ParseInt(cache[1], 10, 64)
	return st, nil
}

// firstLines is s's first n lines, for error messages.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// entry is the dpkg state of spec's package: its installed entry (of the
// :arch asked, if any), else any entry left with files.
func (st *aptHostState) entry(s aptSpecName) (aptDpkgEntry, bool) {
	var found aptDpkgEntry
	ok := false
	for _, e := range st.dpkg[s.base()] {
		if a := s.arch(); a != "" && e.arch != a && e.arch != "all" {
			continue
		}
		if e.installed() {
			return e, true
		}
		if !ok || e.hasFiles() {
			found, ok = e, true
		}
	}
	return found, ok
}

// candidate is apt-cache policy's answer for spec: ok false when apt does
// not know the package at all.
func (st *aptHostState) candidate(s aptSpecName) (aptPolicy, bool) {
	if p, ok := st.policy[s.name]; ok {
		return p, true
	}
	for k, p := range st.policy {
		if b, _, _ := strings.Cut(k, ":"); b == s.name {
			return p, true
		}
	}
	return aptPolicy{}, false
}

// pinMatches reports whether version v satisfies a pin (Ansible matches
// the pin as a glob; tend's pins hold no wildcard, so equality).
func pinMatches(pin, v string) bool { return pin == "" || pin == v }

// baseName is a deb path's file name, for summaries.
func baseName(p string) string { return path.Base(p) }
