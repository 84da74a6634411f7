package sshconfig

import (
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Tokens are the values of the %-tokens [Expand] knows.
type Tokens struct {
	Home       string // %d
	HostName   string // %h: the host actually dialed
	Alias      string // %n: the name looked up
	Port       int    // %p
	RemoteUser string // %r
	LocalUser  string // %u (default: the current user)
	UID        string // %i (default: the current uid)
	LocalHost  string // %l (default: this machine's host name)
}

var envRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Expand replaces a leading ~, ${VAR} and the tokens %%, %d, %h, %i, %l,
// %n, %p, %r and %u in a file name (IdentityFile, UserKnownHostsFile).
// Any other token is an error rather than a wrong file name.
func Expand(s string, t Tokens) (string, error) {
	if t.Home == "" {
		t.Home, _ = os.UserHomeDir()
	}
	if t.LocalUser == "" {
		t.LocalUser = localUser()
	}
	if t.UID == "" {
		t.UID = strconv.Itoa(os.Getuid())
	}
	if t.LocalHost == "" {
		t.LocalHost, _ = os.Hostname()
	}
	var missing error
	s = envRe.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := os.LookupEnv(name)
		if !ok {
			missing = fmt.Errorf("environment variable %s is not set", name)
		}
		return v
	})
	if missing != nil {
		return "", missing
	}
	if s == "~" || strings.HasPrefix(s, "~/") {
		s = t.Home + s[1:]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("%q ends with a lone %%", s)
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case 'd':
			b.WriteString(t.Home)
		case 'h':
			b.WriteString(t.HostName)
		case 'i':
			b.WriteString(t.UID)
		case 'l':
			b.WriteString(t.LocalHost)
		case 'n':
			b.WriteString(t.Alias)
		case 'p':
			b.WriteString(strconv.Itoa(t.Port))
		case 'r':
			b.WriteString(t.RemoteUser)
		case 'u':
			b.WriteString(t.LocalUser)
		default:
			return "", fmt.Errorf("%q: token %%%c is not supported", s, s[i])
		}
	}
	return b.String(), nil
}

// Hop is one jump host of a ProxyJump list. Port and User are zero when
// the list does not give them (ssh_config of Host, then defaults, apply).
type Hop struct {
	User string
	Host string
	Port int
}

// String renders the hop as it would be written in ProxyJump.
func (h Hop) String() string {
	s := h.Host
	if h.Port != 0 {
		s = net.JoinHostPort(h.Host, strconv.Itoa(h.Port))
	}
	if h.User != "" {
		s = h.User + "@" + s
	}
	return s
}

// ParseJump parses a ProxyJump value: comma-separated hops, each
// [user@]host[:port] or ssh://[user@]host[:port], first hop first. "none"
// and "" give no hop.
func ParseJump(spec string) ([]Hop, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || strings.EqualFold(spec, "none") {
		return nil, nil
	}
	var hops []Hop
	for _, part := range strings.Split(spec, ",") {
		h, err := parseHop(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("sshconfig: ProxyJump %q: %v", spec, err)
		}
		hops = append(hops, h)
	}
	return hops, nil
}

func parseHop(s string) (Hop, error) {
	var h Hop
	s = strings.TrimPrefix(s, "ssh://")
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		h.User, s = s[:i], s[i+1:]
		if h.User == "" {
			return h, errors.New("empty user")
		}
	}
	h.Host = s
	if host, port, err := net.SplitHostPort(s); err == nil {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return h, fmt.Errorf("bad port %q", port)
		}
		h.Host, h.Port = host, p
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		h.Host = s[1 : len(s)-1]
	}
	switch {
	case h.Host == "":
		return h, errors.New("empty host")
	case strings.HasPrefix(h.Host, "-") || strings.HasPrefix(h.User, "-"):
		return h, fmt.Errorf("%q: a host or user may not start with '-'", s)
	case strings.ContainsAny(h.Host+h.User, " \t'\";`$/\\"):
		return h, fmt.Errorf("%q: unexpected character in host or user", s)
	}
	return h, nil
}

var timeRe = regexp.MustCompile(`^(?:[0-9]+[sSmMhHdDwW]?)+$`)

// parseTime reads an OpenSSH time value: seconds, or a sequence like 1m30s.
func parseTime(s string) (time.Duration, error) {
	if !timeRe.MatchString(s) {
		return 0, fmt.Errorf("bad time %q", s)
	}
	var total time.Duration
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n = n*10 + int(c-'0')
			if n > 1<<30 {
				return 0, fmt.Errorf("time %q too large", s)
			}
			continue
		}
		unit := map[rune]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour,
			'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[c|0x20]
		total += time.Duration(n) * unit
		n = 0
	}
	return total + time.Duration(n)*time.Second, nil
}
