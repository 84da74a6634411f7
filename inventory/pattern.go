package inventory

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode"
)

// Select returns the hosts a play's hosts: pattern names, deduplicated and
// in inventory order (Hosts order; Ansible instead keeps the order in which
// the terms matched).
//
// The pattern is a list of terms separated by commas or, when it holds no
// comma, by colons (a lone IPv6 address is one term). A term is a host
// name, a group name (its hosts and its descendants' hosts), "all", or a
// glob with * and ?; "!term" removes hosts and "&term" keeps only hosts also
// in term. As in Ansible, plain terms are applied first, then & terms, then
// ! terms, and a pattern of only & and ! terms starts from "all". An exact
// host name wins over a group of the same name; a term with a glob or a dot
// is tried against host names as well as group names. "localhost",
// "127.0.0.1" and "::1" reach an implicit local host when the inventory has
// no "localhost" (see Host).
//
// A term that matches no host is not an error (Ansible warns and ignores
// it): it is returned in unmatched, as written, for the caller to warn
// about. err reports only a malformed pattern: empty, or using Ansible
// syntax tend does not support (~regex, [subscripts], @file).
func (inv *Inventory) Select(pattern string) (hosts []*Host, unmatched []string, err error) {
	terms, err := splitPattern(pattern)
	if err != nil {
		return nil, nil, err
	}
	var plain, and, not []string
	for _, t := range terms {
		switch t[0] {
		case '&':
			and = append(and, t)
		case '!':
			not = append(not, t)
		default:
			plain = append(plain, t)
		}
	}
	if len(plain) == 0 {
		plain = []string{"all"}
	}
	set := map[*Host]bool{}
	for _, t := range plain {
		m := inv.match(t, true)
		if len(m) == 0 {
			unmatched = append(unmatched, t)
		}
		for h := range m {
			set[h] = true
		}
	}
	for _, t := range and {
		m := inv.match(t[1:], false)
		if len(m) == 0 {
			unmatched = append(unmatched, t)
		}
		for h := range set {
			if !m[h] {
				delete(set, h)
			}
		}
	}
	for _, t := range not {
		m := inv.match(t[1:], false)
		if len(m) == 0 {
			unmatched = append(unmatched, t)
		}
		for h := range m {
			delete(set, h)
		}
	}
	return inv.ordered(set), unmatched, nil
}

// Limit narrows hosts, a play's selection, to those the --limit pattern
// selects, keeping the order of hosts. The pattern has Select's syntax;
// terms that match nothing are ignored (call Select with the same pattern
// to learn which, for a warning).
func (inv *Inventory) Limit(hosts []*Host, pattern string) ([]*Host, error) {
	sel, _, err := inv.Select(pattern)
	if err != nil {
		return nil, err
	}
	keep := make(map[*Host]bool, len(sel))
	for _, h := range sel {
		keep[h] = true
	}
	return slices.DeleteFunc(slices.Clone(hosts), func(h *Host) bool { return !keep[h] }), nil
}

// splitPattern splits and checks a pattern's terms.
func splitPattern(pattern string) ([]string, error) {
	p := strings.TrimSpace(pattern)
	var parts []string
	switch {
	case strings.Contains(p, ","):
		parts = strings.Split(p, ",")
	case isIPv6(p):
		parts = []string{p}
	default:
		parts = strings.Split(p, ":")
	}
	var terms []string
	for _, t := range parts {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		body := t
		if t[0] == '!' || t[0] == '&' {
			body = t[1:]
		}
		var why string
		switch {
		case body == "":
			why = "nothing follows " + t
		case strings.ContainsFunc(body, unicode.IsSpace):
			why = "a term may not contain whitespace"
		case body[0] == '~':
			why = "regular expressions (~) are not supported"
		case body[0] == '@':
			why = "host lists from files (@file) are not supported"
		case strings.ContainsAny(body, "[]"):
			why = "subscripts and ranges ([...]) are not supported"
		case strings.ContainsAny(body, "!&"):
			why = "! and & may only start a term"
		}
		if why != "" {
			return nil, fmt.Errorf("inventory: host pattern %q: %s", pattern, why)
		}
		terms = append(terms, t)
	}
	if len(terms) == 0 {
		return nil, fmt.Errorf("inventory: empty host pattern %q", pattern)
	}
	return terms, nil
}

// isIPv6 reports whether s is one IPv6 address (colons not separators).
func isIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6()
}

// match returns the hosts one term (without its ! or & prefix) names.
// exactHost gives an exact host name precedence over groups, which Ansible
// does only for plain terms.
func (inv *Inventory) match(term string, exactHost bool) map[*Host]bool {
	out := map[*Host]bool{}
	if h, ok := inv.byName[term]; ok && exactHost {
		out[h] = true
		return out
	}
	glob := strings.ContainsAny(term, "*?")
	groupMatched := false
	for _, g := range inv.groups {
		if g == term || glob && globMatch(term, g) {
			groupMatched = true
			for _, h := range inv.members[g] {
				out[h] = true
			}
		}
	}
	if !groupMatched || glob || strings.Contains(term, ".") {
		for _, h := range inv.hosts {
			if h.Name == term || glob && globMatch(term, h.Name) {
				out[h] = true
			}
		}
	}
	if len(out) == 0 && inv.implicit != nil && slices.Contains(localhostNames, term) {
		out[inv.implicit] = true
	}
	return out
}

// ordered returns the hosts of set in inventory order, the implicit
// localhost last.
func (inv *Inventory) ordered(set map[*Host]bool) []*Host {
	out := make([]*Host, 0, len(set))
	for _, h := range inv.hosts {
		if set[h] {
			out = append(out, h)
		}
	}
	if inv.implicit != nil && set[inv.implicit] {
		out = append(out, inv.implicit)
	}
	return out
}

// globMatch matches name against a shell-style pattern of literal
// characters, * (any run) and ? (any one character), like Python's fnmatch
// without brackets.
func globMatch(pattern, name string) bool {
	p, n := []rune(pattern), []rune(name)
	pi, ni, star, mark := 0, 0, -1, 0
	for ni < len(n) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == n[ni]):
			pi++
			ni++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ni
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ni = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
