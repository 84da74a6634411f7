// Package sysctlconf reads and edits sysctl.conf files exactly as procps
// `sysctl -p` (procps-ng 4.x) reads them, without doing any I/O.
//
// The syntax, line by line (a line ends at '\n'; '\r' and other white space
// around keys and values is ignored, so CRLF files work):
//
//	# comment            lines whose first non-blank byte is '#' or ';'
//	key = value          spaces around '=' optional; the value is the rest
//	                     of the line, trimmed (no inline comments: "1 # x"
//	                     is the value "1 # x")
//	-key = value         a failure to set key is ignored
//	-key.with.*.glob     (no '=') excludes keys from glob lines
//	key.*.glob = value   sets every matching key that no explicit line names
//
// Lines shorter than two bytes are skipped; any other line without '=' is
// "invalid syntax" (sysctl warns and continues). When a key is set several
// times the last line wins, because sysctl writes them in order.
//
// Keys use '.' or '/' as separators. procps looks at the FIRST separator: a
// key that starts with a '/' separator is already a /proc/sys path; in a
// dotted key '.' and '/' swap, so a dot inside a name (a VLAN interface
// eth0.100) is written '/': net.ipv4.conf.eth0/100.rp_filter and
// net/ipv4/conf/eth0.100/rp_filter are the same key,
// /proc/sys/net/ipv4/conf/eth0.100/rp_filter. [Canonical] gives the one
// spelling sysctl itself prints.
//
// [Edit] changes a file minimally: every line it does not touch stays
// byte-identical, a key already set is changed where its last (effective)
// line stands, keeping that line's spacing, and missing keys are appended.
package sysctlconf
