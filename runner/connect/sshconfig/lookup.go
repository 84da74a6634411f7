package sshconfig

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kevinburke/ssh_config"
)

// Settings are the values ssh_config gives one host. Zero values mean "not
// set": the caller applies its own precedence and defaults.
type Settings struct {
	// HostName is the real host to connect to, %h already replaced; "" when
	// not set (the caller dials the name it looked up).
	HostName string
	User     string
	Port     int
	// IdentityFiles are in the order found, tokens and ~ NOT expanded (they
	// depend on the final user and port: see [Expand]).
	IdentityFiles  []string
	IdentitiesOnly bool
	// ProxyJump is the raw jump list ("" when unset or "none"): see [ParseJump].
	ProxyJump string
	// ProxyCommand is set (and not "none"); tend does not run it.
	ProxyCommand string
	// UserKnownHostsFiles are unexpanded; "none" is kept as is.
	UserKnownHostsFiles []string
	// StrictHostKeyChecking is lowercased: yes, no, off, accept-new, ask, or "".
	StrictHostKeyChecking string
	ConnectTimeout        time.Duration
	// ServerAliveInterval is valid when HasServerAliveInterval; 0 disables.
	ServerAliveInterval    time.Duration
	HasServerAliveInterval bool
	ServerAliveCountMax    int
	// Where records file:line of each keyword found (lowercase keys), for messages.
	Where map[string]string
}

// value is one keyword's value and where it was found.
type value struct{ v, at string }

// values collects keyword values for a set of names, first one winning
// (IdentityFile accumulating).
type values map[string][]value

var multi = map[string]bool{"identityfile": true, "certificatefile": true}

// lookup walks the files as OpenSSH would for names.
func (c *Config) lookup(names []string) values {
	vals := values{}
	for _, f := range c.files {
		f.walk(names, vals)
	}
	return vals
}

func (f *file) walk(names []string, vals values) {
	for _, h := range f.cfg.Hosts {
		if !hostMatches(h, names) {
			continue
		}
		for _, n := range h.Nodes {
			kv, ok := n.(*ssh_config.KV)
			if !ok {
				continue
			}
			key := strings.ToLower(kv.Key)
			if key == strings.ToLower(includeKey) {
				if i, err := strconv.Atoi(kv.Value); err == nil && i < len(f.includes) {
					for _, inc := range f.includes[i] {
						inc.walk(names, vals)
					}
				}
				continue
			}
			if len(vals[key]) > 0 && !multi[key] {
				continue
			}
			vals[key] = append(vals[key], value{kv.Value, fmt.Sprintf("%s:%d", f.name, kv.Pos().Line)})
		}
	}
}

// hostMatches applies a Host block's patterns to names with OpenSSH's rules.
func hostMatches(h *ssh_config.Host, names []string) bool {
	var pats []string
	for _, p := range h.Patterns {
		pats = append(pats, strings.Fields(p.String())...)
	}
	return matchList(pats, names)
}

// matchList: some positive pattern matches some name and no negated
// pattern matches any name.
func matchList(pats, names []string) bool {
	found := false
	for _, p := range pats {
		neg := strings.HasPrefix(p, "!")
		p = strings.ToLower(strings.TrimPrefix(p, "!"))
		for _, n := range names {
			if !wildMatch(p, strings.ToLower(n)) {
				continue
			}
			if neg {
				return false
			}
			found = true
		}
	}
	return found
}

// wildMatch matches s against a pattern of literal bytes, '*' (any run)
// and '?' (exactly one byte), as OpenSSH's match_pattern.
func wildMatch(p, s string) bool {
	star, mark := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(p) && (p[i] == '?' || p[i] == s[j]):
			i++
			j++
		case i < len(p) && p[i] == '*':
			star, mark = i, j
			i++
		case star >= 0:
			mark++
			i, j = star+1, mark
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}

// Settings returns the settings for the host reached as addr (the name
// tend dials, as given to ssh). When also names other names of the host
// (the inventory name), blocks matching them apply too, except for
// HostName, which only blocks matching addr may set: see the package doc.
func (c *Config) Settings(addr string, also ...string) (Settings, error) {
	names := []string{addr}
	for _, a := range also {
		if a != "" && a != addr {
			names = append(names, a)
		}
	}
	s := Settings{Where: map[string]string{}}
	if c == nil {
		return s, nil
	}
	own := c.lookup([]string{addr})
	vals := own
	if len(names) > 1 {
		vals = c.lookup(names)
	}
	if v, ok := own.first("hostname"); ok {
		s.HostName = strings.ReplaceAll(strings.ReplaceAll(v.v, "%h", addr), "%%", "%")
		s.Where["hostname"] = v.at
	}
	str := func(key string, dst *string) {
		if v, ok := vals.first(key); ok {
			*dst = v.v
			s.Where[key] = v.at
		}
	}
	str("user", &s.User)
	str("proxycommand", &s.ProxyCommand)
	str("proxyjump", &s.ProxyJump)
	str("stricthostkeychecking", &s.StrictHostKeyChecking)
	s.StrictHostKeyChecking = strings.ToLower(s.StrictHostKeyChecking)
	if strings.EqualFold(s.ProxyJump, "none") {
		s.ProxyJump = ""
	}
	if strings.EqualFold(s.ProxyCommand, "none") {
		s.ProxyCommand = ""
	}
	for _, v := range vals["identityfile"] {
		s.IdentityFiles = append(s.IdentityFiles, v.v)
		s.Where["identityfile"] = v.at
	}
	if v, ok := vals.first("userknownhostsfile"); ok {
		files, err := splitArgs(v.v)
		if err != nil {
			return s, fmt.Errorf("sshconfig: %s: UserKnownHostsFile: %v", v.at, err)
		}
		s.UserKnownHostsFiles = files
		s.Where["userknownhostsfile"] = v.at
	}
	var err error
	if v, ok := vals.first("port"); ok {
		if s.Port, err = strconv.Atoi(v.v); err != nil || s.Port < 1 || s.Port > 65535 {
			return s, fmt.Errorf("sshconfig: %s: bad Port %q", v.at, v.v)
		}
		s.Where["port"] = v.at
	}
	if v, ok := vals.first("identitiesonly"); ok {
		if s.IdentitiesOnly, err = parseBool(v.v); err != nil {
			return s, fmt.Errorf("sshconfig: %s: IdentitiesOnly: %v", v.at, err)
		}
		s.Where["identitiesonly"] = v.at
	}
	if v, ok := vals.first("connecttimeout"); ok && !strings.EqualFold(v.v, "none") {
		if s.ConnectTimeout, err = parseTime(v.v); err != nil {
			return s, fmt.Errorf("sshconfig: %s: ConnectTimeout: %v", v.at, err)
		}
		s.Where["connecttimeout"] = v.at
	}
	if v, ok := vals.first("serveraliveinterval"); ok {
		if s.ServerAliveInterval, err = parseTime(v.v); err != nil {
			return s, fmt.Errorf("sshconfig: %s: ServerAliveInterval: %v", v.at, err)
		}
		s.HasServerAliveInterval = true
		s.Where["serveraliveinterval"] = v.at
	}
	if v, ok := vals.first("serveralivecountmax"); ok {
		if s.ServerAliveCountMax, err = strconv.Atoi(v.v); err != nil || s.ServerAliveCountMax < 0 {
			return s, fmt.Errorf("sshconfig: %s: bad ServerAliveCountMax %q", v.at, v.v)
		}
	}
	switch s.StrictHostKeyChecking {
	case "", "yes", "no", "off", "ask", "accept-new":
	default:
		return s, fmt.Errorf("sshconfig: %s: bad StrictHostKeyChecking %q (want yes, accept-new, no, off or ask)",
			s.Where["stricthostkeychecking"], s.StrictHostKeyChecking)
	}
	return s, nil
}

func (v values) first(key string) (value, bool) {
	if len(v[key]) == 0 {
		return value{}, false
	}
	return v[key][0], true
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "true":
		return true, nil
	case "no", "false":
		return false, nil
	}
	return false, fmt.Errorf("want yes or no, not %q", s)
}
