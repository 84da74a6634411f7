package modules

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// aptSpec installs, upgrades and removes Debian packages with apt-get:
// Ansible's apt, for the arguments remediation playbooks use. Check reads
// the installed state (dpkg-query) and the candidates (apt-cache policy) of
// every name in one remote command; Apply runs one apt-get command for all
// names of the task and compares the versions before and after.
var aptSpec = Spec{New: newApt}

// aptArgs are the YAML arguments of apt (Ansible 2.14's names and aliases).
type aptArgs struct {
	Name    []string `yaml:"name"`
	Pkg     []string `yaml:"pkg"`
	Package []string `yaml:"package"`
	State   string   `yaml:"state"`
	// UpdateCache is nil when not given (Ansible's default: no update).
	UpdateCache     *bool `yaml:"update_cache"`
	UpdateCacheDash *bool `yaml:"update-cache"`
	CacheValidTime  int   `yaml:"cache_valid_time"`
	Autoremove      bool  `yaml:"autoremove"`
	Autoclean       bool  `yaml:"autoclean"`
	Purge           bool  `yaml:"purge"`
	// Deb is a .deb file on the host (or several, comma-separated).
	Deb string `yaml:"deb"`
	// InstallRecommends is nil for the OS default.
	InstallRecommends     *bool  `yaml:"install_recommends"`
	InstallRecommendsDash *bool  `yaml:"install-recommends"`
	Force                 bool   `yaml:"force"`
	LockTimeout           *int   `yaml:"lock_timeout"`
	DpkgOptions           string `yaml:"dpkg_options"`
	DefaultRelease        string `yaml:"default_release"`
	DefaultReleaseDash    string `yaml:"default-release"`
	OnlyUpgrade           bool   `yaml:"only_upgrade"`
	FailOnAutoremove      bool   `yaml:"fail_on_autoremove"`
	AllowUnauthenticated  bool   `yaml:"allow_unauthenticated"`
	AllowUnauthDash       bool   `yaml:"allow-unauthenticated"`
	AllowDowngrade        bool   `yaml:"allow_downgrade"`
	AllowChangeHeld       bool   `yaml:"allow_change_held_packages"`
	// ForceAptGet is accepted: tend always runs apt-get.
	ForceAptGet bool `yaml:"force_apt_get"`
}

// aptUnsupported are Ansible apt arguments tend refuses, with why.
var aptUnsupported = map[string]string{
	"upgrade":                      "tend's apt does not run upgrade (dist/full/safe); name the packages with state: latest",
	"policy_rc_d":                  "tend's apt does not write /usr/sbin/policy-rc.d",
	"clean":                        "tend's apt does not run apt-get clean; use command: apt-get clean",
	"update_cache_retries":         "tend's apt runs apt-get update once (no retries)",
	"update_cache_retry_max_delay": "tend's apt runs apt-get update once (no retries)",
}

// aptDowngradeAliases are allow_downgrade's other names in Ansible 2.14.
var aptDowngradeAliases = []string{"allow-downgrade", "allow_downgrades", "allow-downgrades"}

// aptDefaultDpkgOptions is Ansible's dpkg_options default.
const aptDefaultDpkgOptions = "force-confdef,force-confold"

// aptModule is one apt task.
type aptModule struct {
	specs []aptSpecName
	debs  []string
	// state is present, latest or absent.
	state                  string
	updateCache            bool
	cacheValidTime         int
	autoremove, autoclean  bool
	purge, force           bool
	installRecommends      *bool
	lockTimeout            int
	dpkgOptions            []string
	defaultRelease         string
	onlyUpgrade            bool
	failOnAutoremove       bool
	allowUnauth, allowDown bool
	allowChangeHeld        bool
}

// aptSpecName is one entry of name: a package, maybe with :arch, maybe
// pinned to a version (name=version).
type aptSpecName struct {
	name, version string
}

// String is the entry as written: name or name=version.
func (s aptSpecName) String() string {
	if s.version != "" {
		return s.name + "=" + s.version
	}
	return s.name
}

// base is the name without its :arch.
func (s aptSpecName) base() string { b, _, _ := strings.Cut(s.name, ":"); return b }

// arch is the :arch suffix, or "".
func (s aptSpecName) arch() string { _, a, _ := strings.Cut(s.name, ":"); return a }

var (
	// debNameRE is a Debian package name, with an optional :arch.
	debNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?$`)
	// debVersionRE is a Debian version (epoch:upstream-revision).
	debVersionRE = regexp.MustCompile(`^[0-9A-Za-z.+~:-]+$`)
	// dpkgOptionRE is one dpkg option without its leading dashes.
	dpkgOptionRE = regexp.MustCompile(`^[a-z][a-z0-9-]*(=[A-Za-z0-9_,./-]+)?$`)
)

func newApt(a Args) (Module, error) {
	bad := func(key, format string, v ...any) error {
		return posErr(a.File, argValueNode(a.Node, key), "apt", format, v...)
	}
	if a.Node != nil && a.Node.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(a.Node.Content); i += 2 {
			k := a.Node.Content[i]
			if why, ok := aptUnsupported[k.Value]; ok {
				return nil, posErr(a.File, k, "apt", "%s is not supported: %s", k.Value, why)
			}
		}
	}
	node, downgrade, err := aptStripAliases(a)
	if err != nil {
		return nil, err
	}
	var args aptArgs
	if err := yamlnode.DecodeStrict(a.File, node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	m := &aptModule{state: args.State, cacheValidTime: args.CacheValidTime, autoremove: args.Autoremove,
		autoclean: args.Autoclean, purge: args.Purge, force: args.Force, lockTimeout: 60,
		onlyUpgrade: args.OnlyUpgrade, failOnAutoremove: args.FailOnAutoremove,
		allowUnauth: args.AllowUnauthenticated || args.AllowUnauthDash, allowDown: args.AllowDowngrade || downgrade,
		allowChangeHeld: args.AllowChangeHeld}
	// Aliases: one name each.
	names, nameKey, err := aptOneOf(a, "apt", []string{"name", "pkg", "package"}, [][]string{args.Name, args.Pkg, args.Package})
	if err != nil {
		return nil, err
	}
	uc := args.UpdateCache
	if args.UpdateCacheDash != nil {
		if uc != nil {
			return nil, bad("update-cache", "update_cache and update-cache are the same argument; give one")
		}
		uc = args.UpdateCacheDash
	}
	m.updateCache = uc != nil && *uc
	m.installRecommends = args.InstallRecommends
	if args.InstallRecommendsDash != nil {
		if m.installRecommends != nil {
			return nil, bad("install-recommends", "install_recommends and install-recommends are the same argument; give one")
		}
		m.installRecommends = args.InstallRecommendsDash
	}
	m.defaultRelease = firstNonEmptyStr(args.DefaultRelease, args.DefaultReleaseDash)
	switch m.state {
	case "", "present":
		m.state = "present"
	case "latest", "absent":
	case "build-dep", "fixed":
		return nil, bad("state", "state %s is not supported by tend's apt (present, latest or absent)", m.state)
	default:
		if !hasTemplate(m.state) {
			return nil, bad("state", "state must be present, latest or absent, not %q (Ansible 2.14's apt accepts neither installed nor removed)%s",
				m.state, yamlnode.DidYouMean(m.state, []string{"present", "latest", "absent"}))
		}
	}
	if args.LockTimeout != nil {
		if *args.LockTimeout < 0 {
			return nil, bad("lock_timeout", "lock_timeout must be 0 or more seconds, not %d", *args.LockTimeout)
		}
		m.lockTimeout = *args.LockTimeout
	}
	if args.CacheValidTime < 0 {
		return nil, bad("cache_valid_time", "cache_valid_time must be 0 or more seconds, not %d", args.CacheValidTime)
	}
	if args.CacheValidTime > 0 {
		m.updateCache = true // as Ansible since 2.4: cache_valid_time implies update_cache
	}
	opts := args.DpkgOptions
	if _, given := lookupArg(a.Node, "dpkg_options"); !given {
		opts = aptDefaultDpkgOptions
	}
	for _, o := range strings.Split(opts, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if !hasTemplate(o) && !dpkgOptionRE.MatchString(o) {
			return nil, bad("dpkg_options", "not a dpkg option: %q (dpkg_options is a comma-separated list such as force-confdef,force-confold)", o)
		}
		m.dpkgOptions = append(m.dpkgOptions, o)
	}
	for _, n := range names {
		s, err := aptParseName(n)
		if err != nil {
			return nil, bad(nameKey, "%v", err)
		}
		m.specs = append(m.specs, s)
	}
	if args.Deb != "" {
		if len(m.specs) > 0 {
			return nil, bad("deb", "deb and %s are mutually exclusive", nameKey)
		}
		if m.state != "present" && !hasTemplate(m.state) {
			return nil, bad("state", "deb only supports state=present")
		}
		for _, d := range strings.Split(args.Deb, ",") {
			d = strings.TrimSpace(d)
			switch {
			case hasTemplate(d):
			case strings.Contains(d, "://"):
				return nil, bad("deb", "tend's apt installs a .deb already on the host, not a URL: %q (fetch it first with get_url or copy)", d)
			case !path.IsAbs(d):
				return nil, bad("deb", "deb must be an absolute path on the host, not %q", d)
			}
			m.debs = append(m.debs, d)
		}
	}
	_, ucGiven := lookupArg(a.Node, "update_cache")
	_, ucdGiven := lookupArg(a.Node, "update-cache")
	if len(m.specs) == 0 && len(m.debs) == 0 && !m.autoremove && !m.autoclean && !ucGiven && !ucdGiven &&
		!templatedArg(a.Node, "autoremove") && !templatedArg(a.Node, "autoclean") {
		return nil, posErr(a.File, a.Node, "apt", "one of the following is required: autoclean, autoremove, deb, package (name, pkg), update_cache")
	}
	return m, nil
}

// aptStripAliases drops allow_downgrade's extra aliases from a copy of the
// arguments (DecodeStrict knows one name a field) and returns their value.
func aptStripAliases(a Args) (*yaml.Node, bool, error) {
	if a.Node == nil || a.Node.Kind != yaml.MappingNode {
		return a.Node, false, nil
	}
	cp := *a.Node
	cp.Content = nil
	down := false
	for i := 0; i+1 < len(a.Node.Content); i += 2 {
		k, v := a.Node.Content[i], a.Node.Content[i+1]
		isAlias := false
		for _, al := range aptDowngradeAliases {
			isAlias = isAlias || k.Value == al
		}
		if !isAlias {
			cp.Content = append(cp.Content, k, v)
			continue
		}
		if hasTemplate(v.Value) {
			continue
		}
		b, ok := yamlnode.AnsibleBool(v.Value)
		if !ok {
			return nil, false, posErr(a.File, v, "apt", "%s must be true or false, not %q", k.Value, v.Value)
		}
		down = down || b
	}
	return &cp, down, nil
}

// aptOneOf returns the one list given among aliased keys, its entries
// split on commas and trimmed (Ansible's list type), and the key used.
func aptOneOf(a Args, module string, keys []string, vals [][]string) ([]string, string, error) {
	used := ""
	var out []string
	for i, k := range keys {
		if _, ok := lookupArg(a.Node, k); !ok {
			continue
		}
		if used != "" {
			return nil, "", posErr(a.File, argValueNode(a.Node, k), module, "%s and %s are the same argument; give one", used, k)
		}
		used = k
		for _, v := range vals[i] {
			if hasTemplate(v) { // split once rendered: a filter's arguments hold commas
				out = append(out, v)
				continue
			}
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
		}
	}
	if used == "" {
		used = "name"
	}
	return out, used, nil
}

// aptParseName reads one name entry: pkg, pkg:arch, pkg=version.
func aptParseName(s string) (aptSpecName, error) {
	if hasTemplate(s) {
		return aptSpecName{name: s}, nil
	}
	if strings.Count(s, "=") > 1 {
		return aptSpecName{}, fmt.Errorf("invalid package spec: %s", s)
	}
	if strings.Contains(s, ">=") {
		return aptSpecName{}, fmt.Errorf("%q: version comparisons (>=) are not supported by tend's apt; pin a version with name=version", s)
	}
	name, version, pinned := strings.Cut(s, "=")
	if strings.ContainsAny(name, "*?[]!") {
		return aptSpecName{}, fmt.Errorf("%q: name wildcards are not supported by tend's apt; list the packages", s)
	}
	if !debNameRE.MatchString(name) {
		return aptSpecName{}, fmt.Errorf("not a Debian package name: %q", name)
	}
	if pinned && !debVersionRE.MatchString(version) {
		return aptSpecName{}, fmt.Errorf("not a Debian version: %q in %q (version wildcards are not supported by tend's apt)", version, s)
	}
	return aptSpecName{name: name, version: version}, nil
}
