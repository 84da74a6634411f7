package sysctlconf

import (
	"errors"
	"fmt"
	"strings"
)

// ProcSys is where the kernel exposes sysctl keys.
const ProcSys = "/proc/sys/"

// relPath turns a key into its path below /proc/sys the way procps does
// (setting_new + slashdot): one leading '-' is dropped; when the first
// separator is '.', every '.' becomes '/' and every '/' becomes '.'; when it
// is '/', the key already is a path.
func relPath(key string) string {
	key = strings.TrimPrefix(key, "-")
	i := strings.IndexAny(key, "./")
	if i < 0 || key[i] == '/' {
		return key
	}
	return swapSeparators(key)
}

// swapSeparators exchanges '.' and '/'.
func swapSeparators(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch c {
		case '.':
			b[i] = '/'
		case '/':
			b[i] = '.'
		}
	}
	return string(b)
}

// KeyToProcPath returns the file sysctl reads and writes for key, e.g.
// net.ipv4.tcp_fin_timeout → /proc/sys/net/ipv4/tcp_fin_timeout and
// net.ipv4.conf.eth0/100.rp_filter → /proc/sys/net/ipv4/conf/eth0.100/rp_filter.
// Validate untrusted keys with [ValidateKey] first.
func KeyToProcPath(key string) string {
	return ProcSys + relPath(key)
}

// Canonical returns the spelling sysctl prints for key (dots between path
// components, '/' for a dot inside a name). Two keys are the same setting
// exactly when their Canonical forms are equal: repeated separators, which
// the kernel's path lookup ignores, are collapsed.
func Canonical(key string) string {
	parts := strings.Split(relPath(key), "/")
	kept := parts[:0]
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return swapSeparators(strings.Join(kept, "/"))
}

// ValidateKey rejects keys that are not a plain path below /proc/sys: empty,
// glob or shell characters, white space, a leading '-' (sysctl.conf's
// "ignore errors" marker), empty, "." or ".." components.
func ValidateKey(key string) error {
	if key == "" {
		return errors.New("empty key")
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '.' || c == '/' || c == '-' || c == ':' || c == '@' || c == '+'
		if !ok {
			return fmt.Errorf("key %q: character %q is not allowed in a sysctl key", key, c)
		}
	}
	if key[0] == '-' {
		return fmt.Errorf("key %q must not start with '-'", key)
	}
	for _, p := range strings.Split(relPath(key), "/") {
		switch p {
		case "", ".", "..":
			return fmt.Errorf("key %q: empty, '.' or '..' path component (path %s)", key, KeyToProcPath(key))
		}
	}
	return nil
}

// ValidateValue rejects values a sysctl.conf line cannot hold: line breaks
// and NUL bytes. Leading and trailing white space is legal but dropped by
// sysctl.
func ValidateValue(v string) error {
	if i := strings.IndexAny(v, "\n\r\x00"); i >= 0 {
		return fmt.Errorf("value %q: line breaks and NUL bytes cannot be written to sysctl.conf", v)
	}
	return nil
}

// NormalizeValue collapses white space runs to one space and trims the ends:
// the kernel prints tcp_rmem as "4096\t131072\t6291456", a file may hold
// "4096 131072 6291456"; both are the same value.
func NormalizeValue(v string) string {
	return strings.Join(strings.FieldsFunc(v, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }), " ")
}

// trimValue drops the white space sysctl strips from a value (C isspace,
// ASCII only).
func trimValue(v string) string {
	i, j := 0, len(v)
	for i < j && isSpace(v[i]) {
		i++
	}
	for j > i && isSpace(v[j-1]) {
		j--
	}
	return v[i:j]
}

// ValuesEqual reports whether a and b are the same value after
// [NormalizeValue].
func ValuesEqual(a, b string) bool {
	return NormalizeValue(a) == NormalizeValue(b)
}
