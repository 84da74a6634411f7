package modules

import (
	"regexp"
	"strconv"
	"strings"
)

// pipReq is one requirement of pip's name: a distribution name with its
// version specifiers, as Ansible's pip reads it (setuptools' Requirement).
// A name that is no requirement (a URL, a path, a VCS link) is not plain:
// Ansible's check mode then never finds it installed.
type pipReq struct {
	// text is the requirement as given to pip.
	text string
	// plain: text parsed as a requirement; name and specs are set.
	plain bool
	// name is the canonical name (lower case, runs of -_. as one -).
	name  string
	specs []pipSpec
}

// pipSpec is one version specifier: op (==, !=, <=, >=, <, >, ~=, ===)
// and a version (for == and !=, maybe ending .*).
type pipSpec struct{ op, version string }

var (
	pipNameRE    = regexp.MustCompile(`^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[A-Za-z0-9._,\s-]*\])?\s*`)
	pipSpecRE    = regexp.MustCompile(`^\s*(~=|===|==|!=|<=|>=|<|>)\s*([A-Za-z0-9_.*+!-]+)\s*$`)
	pipCanonRE   = regexp.MustCompile(`[-_.]+`)
	pipVCSRE     = regexp.MustCompile(`^(svn|git|hg|bzr)\+`)
	pipVersionRE = regexp.MustCompile(`^v?(?:(\d+)!)?(\d+(?:\.\d+)*)` +
		`(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?` +
		`(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?` +
		`(?:[-_.]?(dev)[-_.]?(\d+)?)?` +
		`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$`)
)

// pipCanonical is a distribution name as pip compares names.
func pipCanonical(name string) string { return strings.ToLower(pipCanonRE.ReplaceAllString(name, "-")) }

// pipOpPrefixes are the operators Ansible's _is_package_name looks for.
var pipOpPrefixes = []string{">=", "<=", ">", "<", "==", "!=", "~="}

// pipRecoverNames is Ansible's _recover_package_name: every entry is split
// on commas, and a piece that starts with an operator (or sits inside an
// extras bracket) joins the name before it: ["a>1", "<2", "b"] is
// ["a>1,<2", "b"].
func pipRecoverNames(names []string) []string {
	var pieces []string
	for _, n := range names {
		pieces = append(pieces, strings.Split(n, ",")...)
	}
	var out, parts []string
	inBrackets := false
	for _, p := range pieces {
		isName := true
		for _, op := range pipOpPrefixes {
			if strings.HasPrefix(strings.TrimLeft(p, " \t"), op) {
				isName = false
			}
		}
		if isName && !inBrackets && len(parts) > 0 {
			out = append(out, strings.Join(parts, ","))
			parts = nil
		}
		if strings.Contains(p, "[") {
			inBrackets = true
		}
		if inBrackets && strings.Contains(p, "]") {
			inBrackets = false
		}
		parts = append(parts, p)
	}
	return append(out, strings.Join(parts, ","))
}

// parsePipReq reads a requirement: name[extras] spec, spec ; marker (the
// marker is ignored), or name @ url. Anything else is kept, not plain.
func parsePipReq(s string) pipReq {
	r := pipReq{text: s}
	body := s
	if i := strings.Index(body, ";"); i >= 0 {
		body = body[:i]
	}
	m := pipNameRE.FindStringSubmatchIndex(body)
	if m == nil || strings.Contains(s, "://") && !strings.Contains(body, "@") {
		return r
	}
	rest := strings.TrimSpace(body[m[1]:])
	name := body[m[2]:m[3]]
	if strings.HasPrefix(rest, "@") {
		return pipReq{text: s, plain: true, name: pipCanonical(name)}
	}
	if strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") {
		rest = rest[1 : len(rest)-1]
	}
	var specs []pipSpec
	if strings.TrimSpace(rest) != "" {
		for _, part := range strings.Split(rest, ",") {
			sm := pipSpecRE.FindStringSubmatch(part)
			if sm == nil {
				return r
			}
			specs = append(specs, pipSpec{op: sm[1], version: sm[2]})
		}
	}
	return pipReq{text: s, plain: true, name: pipCanonical(name), specs: specs}
}

// satisfiedBy reports whether an installed version satisfies every
// specifier (prereleases allowed, as Ansible asks).
func (r pipReq) satisfiedBy(version string) bool {
	if !r.plain {
		return false
	}
	v, ok := parsePipVersion(version)
	for _, s := range r.specs {
		if s.op == "===" {
			if !strings.EqualFold(s.version, version) {
				return false
			}
			continue
		}
		if !ok || !s.contains(v) {
			return false
		}
	}
	return true
}

// pipVersion is a PEP 440 version, reduced to what ordering needs.
type pipVersion struct {
	epoch   int
	release []int
	// pre is the prerelease (kind a, b, rc, number); preKind "" when none.
	preKind string
	pre     int
	// post is -1 when none; dev is -1 when none.
	post, dev int
	local     string
}

// parsePipVersion parses a PEP 440 version (normalising its spellings).
func parsePipVersion(s string) (pipVersion, bool) {
	m := pipVersionRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return pipVersion{}, false
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	v := pipVersion{epoch: atoi(m[1]), post: -1, dev: -1, local: m[10]}
	for _, p := range strings.Split(m[2], ".") {
		v.release = append(v.release, atoi(p))
	}
	if m[3] != "" {
		v.preKind = map[string]string{"a": "a", "alpha": "a", "b": "b", "beta": "b", "c": "rc", "rc": "rc", "pre": "rc", "preview": "rc"}[m[3]]
		v.pre = atoi(m[4])
	}
	if m[5] != "" {
		v.post = atoi(m[5])
	} else if m[6] != "" {
		v.post = atoi(m[7])
	}
	if m[8] != "" {
		v.dev = atoi(m[9])
	}
	return v, true
}

// isPre: a prerelease or a development release.
func (v pipVersion) isPre() bool { return v.preKind != "" || v.dev >= 0 }

// public is v without its local label.
func (v pipVersion) public() pipVersion { v.local = ""; return v }

// base is v's epoch and release only.
func (v pipVersion) base() pipVersion {
	return pipVersion{epoch: v.epoch, release: v.release, post: -1, dev: -1}
}

// cmpPipVersion orders two versions as PEP 440 does (-1, 0, 1).
func cmpPipVersion(a, b pipVersion) int {
	c := func(x, y int) int {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	if r := c(a.epoch, b.epoch); r != 0 {
		return r
	}
	for i := 0; i < len(a.release) || i < len(b.release); i++ {
		var x, y int
		if i < len(a.release) {
			x = a.release[i]
		}
		if i < len(b.release) {
			y = b.release[i]
		}
		if r := c(x, y); r != 0 {
			return r
		}
	}
	// The prerelease key: a dev release of the plain version sorts before
	// its prereleases; no prerelease sorts after them.
	preKey := func(v pipVersion) (int, int) {
		switch {
		case v.preKind == "" && v.post < 0 && v.dev >= 0:
			return -1, 0
		case v.preKind == "":
			return 9, 0
		}
		return map[string]int{"a": 1, "b": 2, "rc": 3}[v.preKind], v.pre
	}
	ak, an := preKey(a)
	bk, bn := preKey(b)
	if r := c(ak, bk); r != 0 {
		return r
	}
	if r := c(an, bn); r != 0 {
		return r
	}
	if r := c(a.post, b.post); r != 0 {
		return r
	}
	ad, bd := a.dev, b.dev
	if ad < 0 {
		ad = 1 << 30
	}
	if bd < 0 {
		bd = 1 << 30
	}
	if r := c(ad, bd); r != 0 {
		return r
	}
	return strings.Compare(a.local, b.local)
}

// contains is packaging's Specifier.contains with prereleases allowed.
func (s pipSpec) contains(v pipVersion) bool {
	if s.op == "==" || s.op == "!=" {
		eq := s.matchesEqual(v)
		return eq == (s.op == "==")
	}
	sv, ok := parsePipVersion(s.version)
	if !ok {
		return false
	}
	p := v.public()
	switch s.op {
	case "<=":
		return cmpPipVersion(p, sv) <= 0
	case ">=":
		return cmpPipVersion(p, sv) >= 0
	case "<":
		if cmpPipVersion(p, sv) >= 0 {
			return false
		}
		// <V excludes V's own prereleases unless V is one.
		return sv.isPre() || !v.isPre() || cmpPipVersion(v.base(), sv.base()) != 0
	case ">":
		if cmpPipVersion(p, sv) <= 0 {
			return false
		}
		// >V excludes V's post releases unless V is one, and its local ones.
		if sv.post < 0 && v.post >= 0 && cmpPipVersion(v.base(), sv.base()) == 0 {
			return false
		}
		return v.local == "" || cmpPipVersion(v.public(), sv) != 0
	case "~=":
		if len(sv.release) < 2 || cmpPipVersion(p, sv) < 0 {
			return false
		}
		prefix := make([]string, len(sv.release)-1)
		for i, n := range sv.release[:len(sv.release)-1] {
			prefix[i] = strconv.Itoa(n)
		}
		return pipSpec{op: "==", version: strings.Join(prefix, ".") + ".*"}.matchesEqual(v)
	}
	return false
}

// matchesEqual is ==: exact with zero padding (a local label compared only
// when the specifier has one), or a prefix match for V.*.
func (s pipSpec) matchesEqual(v pipVersion) bool {
	if pre, ok := strings.CutSuffix(s.version, ".*"); ok {
		sv, ok := parsePipVersion(pre)
		if !ok || sv.epoch != v.epoch {
			return false
		}
		if sv.preKind == "" && sv.post < 0 && sv.dev < 0 {
			for i, n := range sv.release {
				var x int
				if i < len(v.release) {
					x = v.release[i]
				}
				if x != n {
					return false
				}
			}
			return true
		}
		return strings.HasPrefix(pipVersionText(v)+".", pre+".")
	}
	sv, ok := parsePipVersion(s.version)
	if !ok {
		return false
	}
	if sv.local == "" {
		v = v.public()
	}
	return cmpPipVersion(v, sv) == 0
}

// pipVersionText is v's release and prerelease, normalised (for a .*
// prefix naming a prerelease).
func pipVersionText(v pipVersion) string {
	parts := make([]string, len(v.release))
	for i, n := range v.release {
		parts[i] = strconv.Itoa(n)
	}
	s := strings.Join(parts, ".")
	if v.preKind != "" {
		s += v.preKind + strconv.Itoa(v.pre)
	}
	return s
}

// isVCS: a name pip installs from a version control system.
func pipIsVCS(name string) bool { return pipVCSRE.MatchString(name) }
