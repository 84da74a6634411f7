package transport

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// knownHosts is one snapshot of a known_hosts file: the x/crypto checker
// plus what that package does not expose (which lines are CA entries).
type knownHosts struct {
	path    string
	check   ssh.HostKeyCallback
	markers map[int]string // line -> "@cert-authority" / "@revoked" / ""
}

// knownHostsCache holds the last parsed snapshot of each known_hosts file,
// keyed by path and checked against its size and modification time, so a
// run dialling 500 hosts parses (and holds in memory) the file once, not
// once per host. Appending an accepted key changes the size: the next
// dial parses the file again.
var knownHostsCache sync.Map // path -> *cachedKnownHosts

type cachedKnownHosts struct {
	size  int64
	mtime int64
	kh    *knownHosts
}

// loadKnownHostsCached is loadKnownHosts through knownHostsCache. Warnings
// about malformed lines are given when the file is parsed, once per version.
func loadKnownHostsCached(path string, warn func(string)) (*knownHosts, error) {
	st, err := os.Stat(path)
	if err != nil {
		return loadKnownHosts(path, warn) // missing or unreadable: nothing to cache
	}
	if v, ok := knownHostsCache.Load(path); ok {
		c := v.(*cachedKnownHosts)
		if c.size == st.Size() && c.mtime == st.ModTime().UnixNano() {
			return c.kh, nil
		}
	}
	kh, err := loadKnownHosts(path, warn)
	if err != nil {
		return nil, err
	}
	knownHostsCache.Store(path, &cachedKnownHosts{size: st.Size(), mtime: st.ModTime().UnixNano(), kh: kh})
	return kh, nil
}

// loadKnownHosts reads path. A missing file is an empty one. Lines that
// cannot be parsed are reported through warn with file:line and ignored;
// the file itself is never rewritten.
func loadKnownHosts(path string, warn func(string)) (*knownHosts, error) {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("transport: known_hosts: %w", err)
	}
	kh := &knownHosts{path: path, markers: map[int]string{}}
	valid := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.Trim(sc.Bytes(), " \t\r")
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		marker, err := checkKnownHostsLine(string(line))
		if err != nil {
			if warn != nil {
				warn(fmt.Sprintf("transport: %s:%d: ignoring malformed known_hosts line: %v", path, n, err))
			}
			continue
		}
		kh.markers[n] = marker
		valid++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("transport: known_hosts %s: %w", path, err)
	}
	src := path
	if valid == 0 {
		// knownhosts.New refuses a file with only invalid lines, and a
		// missing one; both mean "no host is known".
		src = os.DevNull
	}
	kh.check, err = knownhosts.New(src)
	if err != nil {
		return nil, fmt.Errorf("transport: known_hosts: %w", err)
	}
	return kh, nil
}

// checkKnownHostsLine mirrors the parser of x/crypto/ssh/knownhosts, which
// silently skips bad lines, so they can be reported instead.
func checkKnownHostsLine(line string) (marker string, err error) {
	f := strings.Fields(line)
	if len(f) > 0 && (f[0] == "@cert-authority" || f[0] == "@revoked") {
		marker, f = f[0], f[1:]
	}
	if len(f) < 3 {
		return "", errors.New("want [marker] hosts keytype base64-key [comment]")
	}
	if strings.HasPrefix(f[0], "@") {
		return "", fmt.Errorf("unexpected marker %q", f[0])
	}
	if strings.HasPrefix(f[0], "|") {
		parts := strings.Split(f[0], "|")
		if len(parts) != 4 || parts[1] != "1" {
			return "", errors.New("bad hashed host")
		}
		for _, p := range parts[2:] {
			if _, err := base64.StdEncoding.DecodeString(p); err != nil {
				return "", fmt.Errorf("bad hashed host: %v", err)
			}
		}
	} else {
		for _, p := range strings.Split(f[0], ",") {
			p = strings.TrimPrefix(p, "!")
			if p == "" {
				continue
			}
			if p[0] == '[' {
				if _, _, err := net.SplitHostPort(p); err != nil {
					return "", err
				}
			}
		}
	}
	blob, err := base64.StdEncoding.DecodeString(f[2])
	if err != nil {
		return "", fmt.Errorf("bad key: %v", err)
	}
	key, err := ssh.ParsePublicKey(blob)
	if err != nil {
		return "", fmt.Errorf("bad key: %v", err)
	}
	if key.Type() != f[1] {
		return "", fmt.Errorf("key type mismatch: found %q, want %q", key.Type(), f[1])
	}
	return marker, nil
}

// probeKey is a key no known_hosts holds: checking it yields a KeyError
// whose Want lists every entry that matches the host, hashed or not.
var probeKey = sync.OnceValue(func() ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return k
})

// fakeRemote stands in for a remote address that is not TCP (a bastion
// channel): the check uses the host name, never this address.
var fakeRemote = &net.TCPAddr{IP: net.IPv4zero, Port: 22}

func (kh *knownHosts) verify(hostport string, remote net.Addr, key ssh.PublicKey) error {
	if _, ok := remote.(*net.TCPAddr); !ok {
		remote = fakeRemote
	}
	return kh.check(hostport, remote, key)
}

// hostKeyAlgorithms returns the host key algorithms to ask the server for:
// only those of the keys known for hostport (golang/go#29286: otherwise the
// server may pick a type we do not hold and look like a changed key); for an
// unknown host, every plain (non-certificate) algorithm.
// known reports whether known_hosts has entries for the host.
func (kh *knownHosts) hostKeyAlgorithms(hostport string) (algos []string, known bool) {
	var ke *knownhosts.KeyError
	err := kh.verify(hostport, fakeRemote, probeKey())
	if !errors.As(err, &ke) || len(ke.Want) == 0 {
		return plainHostKeyAlgos(), false
	}
	var want []string
	ca := false
	for _, k := range ke.Want {
		if kh.markers[k.Line] == "@cert-authority" {
			ca = true
			continue
		}
		want = append(want, algorithmsForKeyType(k.Key.Type())...)
	}
	var out []string
	for _, a := range hostKeyPreference() {
		if (ca && strings.Contains(a, "-cert-")) || slices.Contains(want, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, true // let x/crypto choose; verification still applies
	}
	return out, true
}

// hostKeyPreference is x/crypto's supported host key algorithms with
// ed25519 first, then ECDSA, as OpenSSH orders them, so that accept-new
// records the key an ssh(1) user would see.
func hostKeyPreference() []string {
	rank := func(a string) int {
		switch {
		case strings.Contains(a, "ed25519"):
			return 0
		case strings.HasPrefix(a, "ecdsa"):
			return 1
		}
		return 2
	}
	algos := ssh.SupportedAlgorithms().HostKeys
	slices.SortStableFunc(algos, func(a, b string) int { return rank(a) - rank(b) })
	return algos
}

func algorithmsForKeyType(t string) []string {
	if t == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	}
	return []string{t}
}

func plainHostKeyAlgos() []string {
	var out []string
	for _, a := range hostKeyPreference() {
		if !strings.Contains(a, "-cert-") {
			out = append(out, a)
		}
	}
	return out
}

// appendKnownHost adds one line for hostport unless, re-read under an
// exclusive lock, the file now knows the host (another dial or process got
// there first). The lock is flock(2) on the file itself, so parallel dials in
// this process and other tend processes serialise and lines never interleave.
// It returns the result of checking key against the file under the lock.
func appendKnownHost(path, hostport string, key ssh.PublicKey, warn func(string)) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("transport: known_hosts: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("transport: known_hosts: %w", err)
	}
	defer f.Close()
	if err := flockRetry(f); err != nil {
		return fmt.Errorf("transport: known_hosts: lock %s: %w", path, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)

	kh, err := loadKnownHosts(path, nil)
	if err != nil {
		return err
	}
	var ke *knownhosts.KeyError
	if err := kh.verify(hostport, fakeRemote, key); !errors.As(err, &ke) || len(ke.Want) > 0 {
		return err // now known (nil), mismatch, or revoked: decided by the file
	}
	if testHookBeforeAppend != nil {
		testHookBeforeAppend()
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(hostport)}, key) + "\n"
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			line = "\n" + line // never glue our line onto an unterminated one
		}
	}
	// One write(2) of the whole line on an O_APPEND file, under the lock.
	if _, err := f.WriteString(line); err != nil {
		return fmt.Errorf("transport: known_hosts: append: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("transport: known_hosts: sync: %w", err)
	}
	if warn != nil {
		warn(fmt.Sprintf("transport: added host key %s %s for %s to %s",
			key.Type(), ssh.FingerprintSHA256(key), knownhosts.Normalize(hostport), path))
	}
	return nil
}

// testHookBeforeAppend, set by tests, widens the window between the check
// and the append so that a missing lock would show.
var testHookBeforeAppend func()

func flockRetry(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

func isUnknownKey(err error) bool {
	var ke *knownhosts.KeyError
	return errors.As(err, &ke) && len(ke.Want) == 0
}

// hostKeyError converts a knownhosts verdict into a *HostKeyError.
func hostKeyError(err error, file, hostport string, key ssh.PublicKey) error {
	he := &HostKeyError{
		Host:        hostport,
		Fingerprint: ssh.FingerprintSHA256(key),
		KeyType:     key.Type(),
		KnownHosts:  file,
	}
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		he.Revoked, he.Line = true, re.Revoked.Line
	case errors.As(err, &ke) && len(ke.Want) > 0:
		he.Mismatch, he.Line = true, ke.Want[0].Line
		for _, w := range ke.Want {
			if w.Key.Type() == key.Type() {
				he.Line = w.Line
				break
			}
		}
	case errors.As(err, &ke):
		// unknown host
	default:
		return fmt.Errorf("transport: host %s: checking host key: %w", hostport, err)
	}
	return he
}
