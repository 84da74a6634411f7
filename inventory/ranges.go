package inventory

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// maxRangeHosts bounds how many names one host key may expand to, so that
// "h[0:999999999]" fails instead of exhausting memory.
const maxRangeHosts = 100000

// Ansible's parse_address (parsing/utils/addresses.py), translated to RE2:
// a host key is an IPv4 address, an IPv6 address or a host name, any of
// which may hold [x:y] ranges, with an optional :port ([...]:port for IPv6).
var (
	numRange   = `\[[0-9]+:[0-9]+(?::[0-9]+)?\]`
	hexRange   = `\[[0-9a-f]+:[0-9a-f]+(?::[0-9]+)?\]`
	alnumRange = `\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`
	i4         = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|` + numRange + `)`
	i6         = `(?:[0-9a-f]{1,4}|` + hexRange + `)`
	// A label starts and ends with a letter, digit or range (Python's
	// (?<![_-]) lookbehind, which RE2 lacks) and holds "_" and "-" inside.
	lchar     = `(?:[\p{L}\p{N}]|` + alnumRange + `)`
	label     = `(?:` + lchar + `|(?:[\p{L}\p{N}_]|` + alnumRange + `)(?:[\p{L}\p{N}_-]|` + alnumRange + `)*` + lchar + `)`
	hostnameR = regexp.MustCompile(`(?i)^` + label + `(?:\.` + label + `)*$`)
	ipv4R     = regexp.MustCompile(`(?i)^(?:` + i4 + `\.){3}` + i4 + `$`)
	ipv6R     = regexp.MustCompile(`(?i)^(?:` + strings.ReplaceAll(strings.Join([]string{
		`(?:{0}:){7}{0}`, `(?:{0}:){1,6}:`, `(?:{0}:)(?::{0}){1,6}`, `(?:{0}:){2}(?::{0}){1,5}`,
		`(?:{0}:){3}(?::{0}){1,4}`, `(?:{0}:){4}(?::{0}){1,3}`, `(?:{0}:){5}(?::{0}){1,2}`,
		`(?:{0}:){6}(?::{0})`, `:(?::{0}){1,6}`, `{0}?::`, `(?:0:){6}(?:{0}\.){3}{0}`,
		`::(?:ffff:)?(?:{0}\.){3}{0}`, `(?:0:){5}ffff:(?:{0}\.){3}{0}`,
	}, "|"), "{0}", i6) + `)$`)
	bracketedPortR = regexp.MustCompile(`^\[(.+)\]:([0-9]+)$`)
	hostPortR      = regexp.MustCompile(`^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$`)
)

// parseAddress is Ansible's parse_address with ranges allowed: it splits
// an optional port off and reports whether what remains is a valid address
// or host name (possibly with ranges). portText is "" without a port.
func parseAddress(s string) (host, portText string, ok bool) {
	host = s
	for _, re := range []*regexp.Regexp{bracketedPortR, hostPortR} {
		if m := re.FindStringSubmatch(host); m != nil {
			host, portText = m[1], m[2]
		}
	}
	for _, re := range []*regexp.Regexp{ipv4R, ipv6R, hostnameR} {
		if re.MatchString(host) {
			return host, portText, true
		}
	}
	return s, "", false
}

// expandHostKey turns an inventory host key (a YAML key, or the first word
// of an INI host line) into host names and an optional port (0 for none),
// as Ansible's _expand_hostpattern does: "web[01:03].lan:2222" is three
// hosts on port 2222. A key Ansible cannot parse as an address is taken
// whole as the name. Every name is then checked for safety.
func expandHostKey(key string) (names []string, port int, err error) {
	pattern, portText, ok := parseAddress(key)
	if !ok {
		pattern, portText = key, ""
	}
	if portText != "" {
		n, _ := strconv.Atoi(portText) // digits only: int(port) in Ansible
		if port, err = portValue(n); err != nil {
			return nil, 0, fmt.Errorf("host %q: %v", key, err)
		}
	}
	names = []string{pattern}
	if strings.Contains(pattern, "[") {
		if names, err = expandRanges(pattern); err != nil {
			return nil, 0, fmt.Errorf("host %q: %v", key, err)
		}
	}
	for _, n := range names {
		if err := checkHostName(n); err != nil {
			return nil, 0, err
		}
	}
	return names, port, nil
}

// checkHostName refuses a host name that is unsafe (see checkSafe) or
// holds a colon without being an IPv6 address.
func checkHostName(n string) error {
	if strings.Contains(n, ":") {
		if a, err := netip.ParseAddr(n); err != nil || !a.Is6() {
			return fmt.Errorf("host %q is neither a host name nor an IPv6 address (an IPv6 address with a port is written [addr]:port)", n)
		}
	}
	return checkSafe("host name", n)
}

// asciiLetters is Python's string.ascii_letters, the alphabet of [a:z]
// ranges.
const asciiLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// expandRanges is Ansible's expand_hostname_range: "db[01:10:3]-[a:b]"
// expands its first [begin:end(:step)] and recurses on the rest. Numeric
// bounds with a leading zero fix the width; letters range over a-zA-Z.
// Unlike Ansible, an empty range (begin > end) is an error rather than no
// hosts at all.
func expandRanges(s string) ([]string, error) {
	var out []string
	var expand func(string) error
	expand = func(s string) error {
		i := strings.IndexByte(s, '[')
		if i < 0 {
			if len(out) >= maxRangeHosts {
				return fmt.Errorf("ranges expand to more than %d hosts", maxRangeHosts)
			}
			out = append(out, s)
			return nil
		}
		j := strings.IndexByte(s[i:], ']')
		if j < 0 || strings.IndexByte(s[:i], ']') >= 0 {
			return fmt.Errorf("unbalanced [ ] in host range")
		}
		head, spec, tail := s[:i], s[i+1:i+j], s[i+j+1:]
		seq, err := rangeSeq(spec)
		if err != nil {
			return err
		}
		for _, v := range seq {
			if err := expand(head + v + tail); err != nil {
				return err
			}
		}
		return nil
	}
	if err := expand(s); err != nil {
		return nil, err
	}
	return out, nil
}

// rangeSeq expands the inside of one [begin:end(:step)].
func rangeSeq(spec string) ([]string, error) {
	bounds := strings.Split(spec, ":")
	if len(bounds) != 2 && len(bounds) != 3 {
		return nil, fmt.Errorf("host range [%s] must be begin:end or begin:end:step", spec)
	}
	beg, end, step := bounds[0], bounds[1], 1
	if beg == "" {
		beg = "0"
	}
	if end == "" {
		return nil, fmt.Errorf("host range [%s] must specify an end value", spec)
	}
	if len(bounds) == 3 {
		n, err := strconv.Atoi(bounds[2])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("host range [%s]: step %q must be a positive number", spec, bounds[2])
		}
		step = n
	}
	bi, ei := strings.Index(asciiLetters, beg), strings.Index(asciiLetters, end)
	if len(beg) == 1 && len(end) == 1 && bi >= 0 && ei >= 0 {
		if bi > ei {
			return nil, fmt.Errorf("host range [%s] must have begin <= end", spec)
		}
		var seq []string
		for k := bi; k <= ei; k += step {
			seq = append(seq, asciiLetters[k:k+1])
		}
		return seq, nil
	}
	width := 0
	if beg[0] == '0' && len(beg) > 1 {
		if len(beg) != len(end) {
			return nil, fmt.Errorf("host range [%s] must specify equal-length begin and end formats", spec)
		}
		width = len(beg)
	}
	b, err1 := strconv.Atoi(beg)
	e, err2 := strconv.Atoi(end)
	if err1 != nil || err2 != nil || b < 0 || e < 0 || strings.ContainsAny(beg+end, "+-") {
		return nil, fmt.Errorf("host range [%s] must be numbers (01:10) or single letters (a:f)", spec)
	}
	if b > e {
		return nil, fmt.Errorf("host range [%s] is empty (begin > end)", spec)
	}
	if (e-b)/step >= maxRangeHosts {
		return nil, fmt.Errorf("host range [%s] expands to more than %d hosts", spec, maxRangeHosts)
	}
	var seq []string
	for k := b; k <= e; k += step {
		seq = append(seq, fmt.Sprintf("%0*d", width, k))
	}
	return seq, nil
}
