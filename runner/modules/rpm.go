package modules

import (
	"fmt"
	"regexp"
	"strings"

	"tend/internal/yamlnode"
	"tend/runner/transport"
)

// dnfSpec is Ansible's dnf for names and states: rpm -q reads what is
// installed, `dnf list available` and `dnf check-update` what could be;
// dnf install/upgrade/remove changes it. Untested against a real dnf: no
// rpm-based lab host exists (README says so); unit tests cover the
// commands and the parsing.
var dnfSpec = Spec{New: func(a Args) (Module, error) { return newRPM(a, "dnf") }}

// yumSpec is dnfSpec with yum.
var yumSpec = Spec{New: func(a Args) (Module, error) { return newRPM(a, "yum") }}

// rpmArgs are the YAML arguments dnf and yum take in tend.
type rpmArgs struct {
	Name            []string `yaml:"name"`
	Pkg             []string `yaml:"pkg"`
	State           string   `yaml:"state"`
	UpdateCache     bool     `yaml:"update_cache"`
	ExpireCache     bool     `yaml:"expire-cache"`
	DisableGPGCheck bool     `yaml:"disable_gpg_check"`
	EnableRepo      []string `yaml:"enablerepo"`
	DisableRepo     []string `yaml:"disablerepo"`
	LockTimeout     int      `yaml:"lock_timeout"`
}

// rpmModule is one dnf or yum task.
type rpmModule struct {
	mgr         string
	names       []string
	state       string
	updateCache bool
	nogpg       bool
	enable      []string
	disable     []string
}

var (
	// rpmNameRE is a package name, maybe with a version or arch
	// (name-1.2-3.el9.x86_64); no glob, no leading dash, no path.
	rpmNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+:~-]*$`)
	// repoIDRE is a repository id (globs allowed, as dnf accepts).
	repoIDRE = regexp.MustCompile(`^[A-Za-z0-9_.*?:-]+$`)
)

func newRPM(a Args, mgr string) (Module, error) {
	args := rpmArgs{LockTimeout: 30}
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	bad := func(key, format string, v ...any) error {
		return posErr(a.File, argValueNode(a.Node, key), mgr, format, v...)
	}
	names, key, err := aptOneOf(a, mgr, []string{"name", "pkg"}, [][]string{args.Name, args.Pkg})
	if err != nil {
		return nil, err
	}
	m := &rpmModule{mgr: mgr, state: args.State, updateCache: args.UpdateCache || args.ExpireCache, nogpg: args.DisableGPGCheck}
	for _, n := range names {
		if !hasTemplate(n) && !rpmNameRE.MatchString(n) {
			return nil, bad(key, "not a package name tend's %s accepts: %q (no globs, groups (@), paths or URLs)", mgr, n)
		}
		m.names = append(m.names, n)
	}
	for _, r := range []struct {
		key  string
		in   []string
		into *[]string
	}{{"enablerepo", args.EnableRepo, &m.enable}, {"disablerepo", args.DisableRepo, &m.disable}} {
		for _, v := range r.in {
			for _, id := range strings.Split(v, ",") {
				if id = strings.TrimSpace(id); id == "" {
					continue
				}
				if !hasTemplate(id) && !repoIDRE.MatchString(id) {
					return nil, bad(r.key, "not a repository id: %q", id)
				}
				*r.into = append(*r.into, id)
			}
		}
	}
	switch m.state {
	case "", "present", "installed":
		m.state = "present"
	case "removed", "absent":
		m.state = "absent"
	case "latest":
	default:
		if !hasTemplate(m.state) {
			return nil, bad("state", "state must be present, installed, latest, absent or removed, not %q%s", m.state,
				yamlnode.DidYouMean(m.state, []string{"present", "installed", "latest", "absent", "removed"}))
		}
	}
	if len(m.names) == 0 && !m.updateCache {
		return nil, posErr(a.File, a.Node, mgr, "one of the following is required: name, update_cache")
	}
	return m, nil
}

// rpmQueryScript reads, in one command, each name's installed packages
// (rpm -q, under a "@@tend:q NAME" line) and, for present and latest, what
// the repositories offer (list available, check-update). $1 is the
// manager, $2 how many repository options follow; then the options, then
// the names. It only reads.
const rpmQueryScript = `LC_ALL=C; export LC_ALL
mgr=$1 k=$2; shift 2
i=0
for a do
	i=$((i+1))
	[ "$i" -gt "$k" ] || continue
	printf '@@tend:q %s\n' "$a"
	rpm -q --qf '%{NAME}\t%{EPOCH}:%{VERSION}-%{RELEASE}\t%{ARCH}\n' -- "$a" 2>/dev/null | grep -v '^package .* is not installed$'
done
[ "$mgr" = - ] && exit 0
printf '@@tend:available\n'
"$mgr" -q list available "$@" 2>/dev/null
printf '@@tend:updates\n'
"$mgr" -q check-update "$@" 2>/dev/null
exit 0
`

// queryCommand is the read Check runs first.
func (m *rpmModule) queryCommand() transport.Command {
	mgr, opts := m.mgr, m.repoOpts()
	if m.state == "absent" {
		mgr, opts = "-", nil // nothing to ask the repositories
	}
	argv := append([]string{"/bin/sh", "-c", rpmQueryScript, "tend-" + m.mgr, mgr, fmt.Sprint(len(opts))}, opts...)
	return transport.Command{Argv: append(argv, m.names...), MaxOutput: 4 << 20}
}

// repoOpts are the repository and gpg options every dnf/yum command gets.
func (m *rpmModule) repoOpts() []string {
	var o []string
	if len(m.disable) > 0 {
		o = append(o, "--disablerepo="+strings.Join(m.disable, ","))
	}
	if len(m.enable) > 0 {
		o = append(o, "--enablerepo="+strings.Join(m.enable, ","))
	}
	if m.nogpg {
		o = append(o, "--nogpgcheck")
	}
	return o
}

// rpmState is what the query read.
type rpmState struct {
	// installed maps a name as given to its installed
	// [EPOCH:]VERSION-RELEASE (the first, when several are).
	installed map[string]string
	// available and updates map a name to the newest version offered.
	available, updates map[string]string
}

// parseRPMQuery parses the query's output.
func parseRPMQuery(out string) *rpmState {
	st := &rpmState{installed: map[string]string{}, available: map[string]string{}, updates: map[string]string{}}
	section := ""
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "@@tend:"); ok {
			section = rest
			continue
		}
		if name, ok := strings.CutPrefix(section, "q "); ok {
			if f := strings.Split(line, "\t"); len(f) == 3 && st.installed[name] == "" {
				st.installed[name] = strings.TrimPrefix(f[1], "(none):")
			}
			continue
		}
		switch section {
		case "available", "updates":
			// "name.arch   version   repo"; headers and wrapped lines skipped.
			f := strings.Fields(line)
			if len(f) != 3 || strings.HasSuffix(line, ":") {
				continue
			}
			dot := strings.LastIndexByte(f[0], '.')
			if dot <= 0 {
				continue
			}
			into := st.available
			if section == "updates" {
				into = st.updates
			}
			into[f[0][:dot]] = f[1]
		}
	}
	return st
}
