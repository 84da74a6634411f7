package inventory

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Select returns the hosts a play's hosts: pattern names, deduplicated and
// in inventory order (Hosts order; Ansible instead keeps the order in which
// the terms matched).
//
// The syntax is Ansible's. A pattern is a list of terms separated by
// commas or, when it holds no comma and is not itself one address (an
// IPv6 address, "web[1:3]"), by colons or whitespace. A term is a host
// name, a group name (its hosts and its descendants' hosts), "all", a glob
// (web*, db?.lan, rack[0-3]-*), or ~regex (matched from the start of the
// name); "!term" removes hosts and "&term" keeps only hosts also in term.
// As in Ansible, plain terms are applied first, then & terms, then !
// terms, and a pattern of only & and ! terms starts from "all". A term
// naming a host exactly wins over a group of the same name; other terms
// match group names first and host names only when no group matched or the
// term holds a glob character, a "." or is a regex. A group term may end
// in a subscript, "web[0]", "web[-1]", "web[1:3]", "web[2:]", picking from
// its hosts in Ansible's order (the group's own, then its children's).
// "localhost", "127.0.0.1" and "::1" reach an implicit local host when the
// inventory has no "localhost" (see Host).
//
// A term that matches no host is not an error (Ansible warns and ignores
// it): it is returned in unmatched, as written, for the caller to warn
// about. err reports a malformed pattern (empty, a term with whitespace or
// an inner ! or &, a bad regex, an out-of-range subscript) and "@file",
// which only --limit accepts (see SelectLimit).
func (inv *Inventory) Select(pattern string) (hosts []*Host, unmatched []string, err error) {
	terms, err := splitPattern(pattern)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range terms {
		if t[0] == '@' {
			return nil, nil, fmt.Errorf("inventory: host pattern %q: @file is only accepted by --limit", pattern)
		}
	}
	return inv.evaluate(pattern, terms)
}

// SelectLimit returns the hosts a --limit pattern selects, in inventory
// order, and its terms that matched nothing. The syntax is Select's, plus
// Ansible's "@FILE" terms: FILE (relative to the working directory) holds
// one pattern term per line, such as the failed hosts of an earlier run;
// blank lines are skipped. A missing or empty file is an error (Ansible
// treats an empty one as no limit at all).
func (inv *Inventory) SelectLimit(pattern string) (hosts []*Host, unmatched []string, err error) {
	terms, err := splitPattern(pattern)
	if err != nil {
		return nil, nil, err
	}
	var all []string
	for _, t := range terms {
		if t[0] != '@' {
			all = append(all, t)
			continue
		}
		lines, err := readLimitFile(pattern, t[1:])
		if err != nil {
			return nil, nil, err
		}
		all = append(all, lines...)
	}
	return inv.evaluate(pattern, all)
}

// Limit narrows hosts, a play's selection, to those the --limit pattern
// selects (see SelectLimit), keeping the order of hosts. Terms that match
// nothing are ignored; SelectLimit reports them for a warning.
func (inv *Inventory) Limit(hosts []*Host, pattern string) ([]*Host, error) {
	sel, _, err := inv.SelectLimit(pattern)
	if err != nil {
		return nil, err
	}
	keep := make(map[*Host]bool, len(sel))
	for _, h := range sel {
		keep[h] = true
	}
	return slices.DeleteFunc(slices.Clone(hosts), func(h *Host) bool { return !keep[h] }), nil
}

// readLimitFile reads the terms of a --limit @file.
func readLimitFile(pattern, name string) ([]string, error) {
	if name == "" {
		return nil, fmt.Errorf("inventory: host pattern %q: @ must be followed by a file name", pattern)
	}
	st, err := os.Stat(name)
	if err == nil && st.IsDir() {
		return nil, fmt.Errorf("inventory: --limit @%s: is a directory, not a file", name)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("inventory: --limit @%s: cannot read: %w", name, err)
	}
	var terms []string
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if err := checkTerm(line); err != nil {
			return nil, fmt.Errorf("inventory: --limit @%s:%d: %q: %s", name, i+1, line, err)
		}
		terms = append(terms, line)
	}
	if len(terms) == 0 {
		return nil, fmt.Errorf("inventory: --limit @%s: the file names no hosts", name)
	}
	return terms, nil
}

// evaluate applies terms as Ansible's _evaluate_patterns does.
func (inv *Inventory) evaluate(pattern string, terms []string) ([]*Host, []string, error) {
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
	var unmatched []string
	set := map[*Host]bool{}
	for _, group := range [][]string{plain, and, not} {
		for _, t := range group {
			body, isPlain := t, t[0] != '!' && t[0] != '&'
			if !isPlain {
				body = t[1:]
			}
			m, err := inv.match(body, isPlain)
			if err != nil {
				return nil, nil, fmt.Errorf("inventory: host pattern %q: %s: %v", pattern, t, err)
			}
			if len(m) == 0 {
				unmatched = append(unmatched, t)
			}
			in := make(map[*Host]bool, len(m))
			for _, h := range m {
				in[h] = true
			}
			switch t[0] {
			case '&':
				for h := range set {
					if !in[h] {
						delete(set, h)
					}
				}
			case '!':
				for h := range in {
					delete(set, h)
				}
			default:
				for h := range in {
					set[h] = true
				}
			}
		}
	}
	return inv.ordered(set), unmatched, nil
}

// splitPattern splits a pattern into terms as Ansible's
// split_host_pattern does, and checks each.
func splitPattern(pattern string) ([]string, error) {
	var parts []string
	switch {
	case strings.Contains(pattern, ","):
		parts = strings.Split(pattern, ",")
	default:
		if _, _, ok := parseAddress(pattern); ok {
			parts = []string{pattern}
			break
		}
		parts = colonTermRE.FindAllString(pattern, -1)
		if rest := colonTermRE.ReplaceAllString(pattern, ""); strings.Trim(rest, ": \t\r\n") != "" {
			return nil, fmt.Errorf("inventory: host pattern %q: unbalanced [ ]", pattern)
		}
	}
	var terms []string
	for _, t := range parts {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if err := checkTerm(t); err != nil {
			return nil, fmt.Errorf("inventory: host pattern %q: %s", pattern, err)
		}
		terms = append(terms, t)
	}
	if len(terms) == 0 {
		return nil, fmt.Errorf("inventory: empty host pattern %q", pattern)
	}
	return terms, nil
}

// colonTermRE is what split_host_pattern finds between colons: anything
// but whitespace, ":" and brackets, or a whole bracketed expression.
var colonTermRE = regexp.MustCompile(`(?:[^\s:\[\]]|\[[^\]]*\])+`)

// bracketRE matches a glob set or subscript, where ! may appear.
var bracketRE = regexp.MustCompile(`\[[^\]]*\]`)

// checkTerm refuses terms that could never match what was meant.
func checkTerm(t string) error {
	body := t
	if t[0] == '!' || t[0] == '&' {
		body = t[1:]
	}
	switch {
	case body == "":
		return fmt.Errorf("nothing follows %s", t)
	case strings.ContainsFunc(body, unicode.IsSpace):
		return fmt.Errorf("term %q contains whitespace", t)
	case body[0] == '@' && t[0] != '@':
		return fmt.Errorf("@file must be a whole term, not %s", t)
	case body[0] != '~' && strings.ContainsAny(bracketRE.ReplaceAllString(body, ""), "!&"):
		return fmt.Errorf("! and & may only start a term (%s)", t)
	}
	return nil
}

// match returns the hosts one term (without its ! or &) names, in
// Ansible's order. exactHost gives an exact host name precedence over
// everything else, which Ansible does only for plain terms.
func (inv *Inventory) match(term string, exactHost bool) ([]*Host, error) {
	if h, ok := inv.byName[term]; ok && exactHost {
		return []*Host{h}, nil
	}
	expr, sub := splitSubscript(term)
	re, err := compileTerm(expr)
	if err != nil {
		return nil, err
	}
	var out []*Host
	seen := map[*Host]bool{}
	add := func(h *Host) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	groupMatched := false
	for _, g := range inv.groups {
		if re.MatchString(g) {
			groupMatched = true
			for _, h := range inv.groupHosts(g) {
				add(h)
			}
		}
	}
	if !groupMatched || expr[0] == '~' || strings.ContainsAny(expr, ".?*[") {
		for _, h := range inv.hosts {
			if re.MatchString(h.Name) {
				add(h)
			}
		}
	}
	if len(out) == 0 && inv.implicit != nil && slices.Contains(localhostNames, expr) {
		out = append(out, inv.implicit)
	}
	return sub.apply(out)
}

// groupHosts returns a group's hosts in Ansible's get_hosts order: its own
// hosts, then those of its descendants, breadth first in child order.
func (inv *Inventory) groupHosts(name string) []*Host {
	var out []*Host
	seen := map[*Host]bool{}
	order := []*Group{inv.byGroup[name]}
	visited := map[string]bool{name: true}
	for i := 0; i < len(order); i++ {
		for _, h := range order[i].Hosts {
			if !seen[h] {
				seen[h] = true
				out = append(out, h)
			}
		}
		for _, c := range order[i].Children {
			if !visited[c] {
				visited[c] = true
				order = append(order, inv.byGroup[c])
			}
		}
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
