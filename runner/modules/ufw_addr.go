package modules

import (
	"regexp"
	"strings"
)

// The module's address patterns (community.general.ufw's
// compile_ipv4_regexp and compile_ipv6_regexp): an address starting a
// from/to value selects which rule tuples a dry run is compared on.
const (
	ufwIPv4Pat = `((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])`
	ufwIPv6Pat = `(([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:` +
		`|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}` +
		`(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4})` +
		`{1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]` +
		`{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]` +
		`{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4})` +
		`{0,4}%[0-9a-zA-Z]{1,}|::(ffff(:0{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]` +
		`|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}` +
		`[0-9])|([0-9a-fA-F]{1,4}:){1,4}:((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}` +
		`[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9]))`
)

var (
	// ufwIPv4 and ufwIPv6 find an address anywhere (Python's re.search);
	// ufwIPv4Start and ufwIPv6Start at the start only (re.match).
	ufwIPv4      = regexp.MustCompile(ufwIPv4Pat)
	ufwIPv6      = regexp.MustCompile(ufwIPv6Pat)
	ufwIPv4Start = regexp.MustCompile(`^(?:` + ufwIPv4Pat + `)`)
	ufwIPv6Start = regexp.MustCompile(`^(?:` + ufwIPv6Pat + `)`)
)

// ufwLinesMatching keeps the lines (with their newlines) re finds in.
func ufwLinesMatching(re *regexp.Regexp, s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" && re.MatchString(l) {
			b.WriteString(l)
		}
	}
	return b.String()
}
