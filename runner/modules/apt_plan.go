package modules

import (
	"fmt"
	"strconv"
	"strings"

	"tend/runner/plan"
	"tend/runner/transport"
)

// aptStep is one package apt-get would install, upgrade or remove.
type aptStep struct {
	// arg is what apt-get is given: name=version, name, or a .deb path.
	arg string
	// pkg is the package's name (with :arch when asked).
	pkg string
	// action is install, upgrade, remove or purge.
	action   string
	from, to string
}

// describe is the step as a dry run says it.
func (s aptStep) describe() string {
	switch s.action {
	case "upgrade":
		return fmt.Sprintf("upgrade %s %s -> %s", s.pkg, s.from, s.to)
	case "remove", "purge":
		if s.from == "" {
			return fmt.Sprintf("%s %s (configuration files left)", s.action, s.pkg)
		}
		return fmt.Sprintf("%s %s %s", s.action, s.pkg, s.from)
	}
	if s.from != "" {
		return fmt.Sprintf("install %s %s (now %s)", s.pkg, s.to, s.from)
	}
	if strings.HasPrefix(s.arg, "/") {
		return fmt.Sprintf("install %s %s from %s", s.pkg, s.to, s.arg)
	}
	return fmt.Sprintf("install %s (candidate %s)", s.pkg, s.to)
}

// aptPlan is what Check found, for Apply.
type aptPlan struct {
	st    *aptHostState
	steps []aptStep
	// ok lists the packages already as asked ("coreutils 9.1-1").
	ok []string
	// cacheDue: apt-get update would run.
	cacheDue bool
	// fail is why the task fails before changing anything (as Ansible
	// does: "No package matching 'x' is available").
	fail string
	// cleanup lists what autoremove/autoclean alone would remove.
	cleanup []string
}

// plan computes, from what the host holds, what the task would do.
func (m *aptModule) plan(st *aptHostState) *aptPlan {
	p := &aptPlan{st: st}
	if m.updateCache {
		p.cacheDue = m.cacheValidTime == 0 || st.cacheTime+int64(m.cacheValidTime) < st.now
	}
	for _, d := range st.debs {
		if d.err != "" || d.pkg == "" {
			p.fail = "Unable to install package: " + firstNonEmptyStr(d.err, "no Package field in "+d.path)
			return p
		}
		e, known := st.entry(aptSpecName{name: d.pkg})
		if known && e.installed() && e.version == d.version {
			p.ok = append(p.ok, d.pkg+" "+d.version)
			continue
		}
		s := aptStep{arg: d.path, pkg: d.pkg, action: "install", to: d.version}
		if known && e.installed() {
			s.from = e.version
		}
		p.steps = append(p.steps, s)
	}
	for _, s := range m.specs {
		e, known := st.entry(s)
		installed := known && e.installed()
		if m.state == "absent" {
			if installed || (known && e.hasFiles() && m.purge) {
				step := aptStep{arg: s.name, pkg: s.name, action: "remove"}
				if m.purge {
					step.action = "purge"
				}
				if installed {
					step.from = e.version
				}
				p.steps = append(p.steps, step)
			} else {
				p.ok = append(p.ok, s.name+" absent")
			}
			continue
		}
		if !installed && m.onlyUpgrade {
			p.ok = append(p.ok, s.name+" not installed (only_upgrade)")
			continue
		}
		pol, inApt := st.candidate(s)
		if !inApt && !installed {
			p.fail = fmt.Sprintf("No package matching '%s' is available", s.name)
			return p
		}
		cand := pol.candidate
		if cand == "(none)" {
			cand = ""
		}
		switch {
		case installed && pinMatches(s.version, e.version) && (m.state != "latest" || cand == "" || cand == e.version || s.version != ""):
			p.ok = append(p.ok, s.name+" "+e.version)
		case s.version != "":
			step := aptStep{arg: s.String(), pkg: s.name, action: "install", to: s.version}
			if installed {
				step.from = e.version
			}
			p.steps = append(p.steps, step)
		case cand == "":
			p.fail = "no available installation candidate for " + s.String()
			return p
		case installed:
			p.steps = append(p.steps, aptStep{arg: s.name + "=" + cand, pkg: s.name, action: "upgrade", from: e.version, to: cand})
		default:
			p.steps = append(p.steps, aptStep{arg: s.name + "=" + cand, pkg: s.name, action: "install", to: cand})
		}
	}
	return p
}

// change renders p as a plan.Change (a dry run's view).
func (m *aptModule) change(p *aptPlan) plan.Change {
	c := plan.Change{Action: plan.None, Private: p,
		Data: map[string]any{"cache_updated": p.cacheDue, "cache_update_time": p.st.cacheTime}}
	if len(m.debs) > 0 || m.state == "absent" {
		delete(c.Data, "cache_updated") // as Ansible: deb and absent do not return them
		delete(c.Data, "cache_update_time")
	}
	if p.fail != "" {
		c.Failed, c.Msg = true, p.fail
		return c
	}
	var parts []string
	if p.cacheDue {
		parts = append(parts, "would update the apt cache ("+m.cacheAge(p.st)+")")
		if m.state == "latest" && len(m.specs) > 0 {
			c.Warnings = append(c.Warnings, "the candidates shown are from the cache before apt-get update; Apply reads them again after it")
		}
	}
	for _, s := range p.steps {
		parts = append(parts, "would "+s.describe())
	}
	for _, r := range p.cleanup {
		parts = append(parts, "would "+r)
	}
	if len(parts) > 0 {
		c.Action = plan.Update
		if len(p.ok) > 0 {
			parts = append(parts, "already as asked: "+strings.Join(p.ok, ", "))
		}
		c.Summary = strings.Join(parts, "; ")
		return c
	}
	if len(p.ok) > 0 {
		c.Summary = strings.Join(p.ok, ", ")
	} else {
		c.Summary = "nothing to do"
	}
	return c
}

// cacheAge says how old the apt cache is.
func (m *aptModule) cacheAge(st *aptHostState) string {
	if st.cacheTime == 0 {
		return "never updated"
	}
	age := st.now - st.cacheTime
	if m.cacheValidTime > 0 {
		return fmt.Sprintf("updated %ds ago, cache_valid_time %d", age, m.cacheValidTime)
	}
	return fmt.Sprintf("updated %ds ago; update_cache without cache_valid_time always updates", age)
}

// aptEnv runs apt-get non-interactively, in the C locale Ansible parses.
var aptEnv = []string{"env", "DEBIAN_FRONTEND=noninteractive", "DEBIAN_PRIORITY=critical", "LC_ALL=C", "LANG=C", "LC_MESSAGES=C"}

// aptGet is the apt-get command line for verb with the task's options
// (dpkg options, lock timeout, force, ...) and the packages.
func (m *aptModule) aptGet(verb string, pkgs []string) []string {
	a := []string{"apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=" + strconv.Itoa(m.lockTimeout)}
	for _, o := range m.dpkgOptions {
		a = append(a, "-o", "Dpkg::Options::=--"+o)
	}
	if m.force {
		a = append(a, "--force-yes")
	}
	switch verb {
	case "install":
		if m.autoremove {
			a = append(a, "--auto-remove")
		}
		if m.failOnAutoremove {
			a = append(a, "--no-remove")
		}
		if m.onlyUpgrade {
			a = append(a, "--only-upgrade")
		}
		if m.defaultRelease != "" {
			a = append(a, "-t", m.defaultRelease)
		}
		if r := m.installRecommends; r != nil {
			a = append(a, "-o", "APT::Install-Recommends="+map[bool]string{true: "yes", false: "no"}[*r])
		}
		if m.allowUnauth {
			a = append(a, "--allow-unauthenticated")
		}
		if m.allowDown {
			a = append(a, "--allow-downgrades")
		}
		if m.allowChangeHeld {
			a = append(a, "--allow-change-held-packages")
		}
	case "remove", "autoremove":
		if m.purge {
			a = append(a, "--purge")
		}
		if m.autoremove && verb == "remove" {
			a = append(a, "--auto-remove")
		}
	}
	a = append(a, verb)
	if len(pkgs) > 0 {
		a = append(a, "--")
	}
	return append(append(append([]string{}, aptEnv...), a...), pkgs...)
}

// aptCommandText is an apt-get command line as an error message shows it
// (without the environment).
func aptCommandText(argv []string) string {
	for i, a := range argv {
		if a == "apt-get" {
			return transport.ShellJoin(argv[i:])
		}
	}
	return transport.ShellJoin(argv)
}
