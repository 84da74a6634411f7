package inventory

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// compileTerm compiles one pattern term (without ! or & and subscript)
// into the matcher Ansible's _match_list uses: "~regex" is a regular
// expression matched at the start of a name (Python's re.match), anything
// else a shell glob (fnmatch) matched against the whole name.
func compileTerm(expr string) (*regexp.Regexp, error) {
	if strings.HasPrefix(expr, "~") {
		re, err := regexp.Compile(`^(?:` + expr[1:] + `)`)
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression %q (RE2 syntax: no lookarounds or backreferences): %v", expr[1:], err)
		}
		return re, nil
	}
	return regexp.Compile(`^(?s:` + globToRegexp(expr) + `)$`)
}

// globToRegexp translates a glob as Python's fnmatch.translate does: * is
// any run, ? any one character, [seq] and [!seq] a set (with a-z ranges;
// a reversed range is dropped), a [ without its ] a literal.
func globToRegexp(pat string) string {
	var b strings.Builder
	rs := []rune(pat)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '*':
			for i+1 < len(rs) && rs[i+1] == '*' {
				i++
			}
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := i + 1
			if j < len(rs) && rs[j] == '!' {
				j++
			}
			if j < len(rs) && rs[j] == ']' {
				j++
			}
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j >= len(rs) {
				b.WriteString(`\[`)
				continue
			}
			b.WriteString(charClass(rs[i+1 : j]))
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// charClass renders the inside of a glob [...] as an RE2 class.
func charClass(set []rune) string {
	neg := len(set) > 0 && set[0] == '!'
	if neg {
		set = set[1:]
	}
	var b strings.Builder
	for k := 0; k < len(set); k++ {
		if k+2 < len(set) && set[k+1] == '-' {
			if set[k] <= set[k+2] {
				fmt.Fprintf(&b, `\x{%x}-\x{%x}`, set[k], set[k+2])
			}
			k += 2
			continue
		}
		fmt.Fprintf(&b, `\x{%x}`, set[k])
	}
	switch {
	case b.Len() == 0 && neg:
		return "." // [!] matches any character
	case b.Len() == 0:
		return `[^\x00-\x{10FFFF}]` // [] never matches
	case neg:
		return "[^" + b.String() + "]"
	}
	return "[" + b.String() + "]"
}

// globMatch reports whether name matches the glob pattern.
func globMatch(pattern, name string) bool {
	re, err := compileTerm(pattern)
	return err == nil && !strings.HasPrefix(pattern, "~") && re.MatchString(name)
}

// subscriptRE is Ansible's PATTERN_WITH_SUBSCRIPT: "web[0]", "web[-1]",
// "web[1:3]", "web[2:]" (and the old "web[1-3]").
var subscriptRE = regexp.MustCompile(`^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$`)

// subscript selects part of a term's matches; end < 0 means "to the last".
type subscript struct {
	start, end int
	single     bool
}

// splitSubscript splits "expr[sub]" (never for a ~regex).
func splitSubscript(term string) (string, *subscript) {
	if strings.HasPrefix(term, "~") {
		return term, nil
	}
	m := subscriptRE.FindStringSubmatch(term)
	if m == nil {
		return term, nil
	}
	if m[2] != "" {
		n, _ := strconv.Atoi(m[2])
		return m[1], &subscript{start: n, single: true}
	}
	s := &subscript{end: -1}
	s.start, _ = strconv.Atoi(m[3])
	if m[5] != "" {
		s.end, _ = strconv.Atoi(m[5])
	}
	return m[1], s
}

// apply picks the subscripted hosts as Python indexing and slicing would:
// a single index out of range is an error, a slice is clamped.
func (s *subscript) apply(hosts []*Host) ([]*Host, error) {
	if s == nil || len(hosts) == 0 {
		return hosts, nil
	}
	n := len(hosts)
	if s.single || s.end == 0 {
		i := s.start
		if s.single && i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return nil, fmt.Errorf("subscript [%d] is out of range: the term matches %d hosts", s.start, n)
		}
		return hosts[i : i+1], nil
	}
	end := s.end
	if end < 0 {
		end = n - 1
	}
	lo, hi := min(s.start, n), min(end+1, n)
	if lo >= hi {
		return nil, nil
	}
	return hosts[lo:hi], nil
}
