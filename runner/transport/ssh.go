package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHConfig says how to reach one host over SSH. Package runner/connect
// builds it from the inventory, the command line and ssh_config; this
// package never reads inventories or ssh_config.
type SSHConfig struct {
	// Host is the address to dial and the name checked in known_hosts
	// ([Host]:Port form when Port is not 22).
	Host string
	// Port defaults to 22.
	Port int
	// User to log in as. Required.
	User string
	// KeyFiles are identity files. When set, ONLY these keys are offered (like
	// IdentitiesOnly): an encrypted key is used through the agent if the agent
	// holds it, other agent keys are never offered.
	KeyFiles []string
	// UseAgent offers the keys of the agent at SSH_AUTH_SOCK when KeyFiles is empty.
	UseAgent bool
	// KnownHostsFile defaults to ~/.ssh/known_hosts.
	KnownHostsFile string
	// AcceptNewHostKeys appends the key of a host absent from KnownHostsFile
	// (one line, under a file lock). A changed key is refused regardless.
	AcceptNewHostKeys bool
	// DialTimeout bounds the TCP connect (default 10s). HandshakeTimeout
	// (default 10s) bounds the host's silence during the SSH handshake,
	// authentication included: a server that accepts and then stalls cannot
	// hang the run, while a loaded one that keeps answering gets up to
	// handshakeTotal times as long in all (handshakeguard.go).
	DialTimeout, HandshakeTimeout time.Duration
	// KeepaliveInterval (default 15s) is how often a keepalive@openssh.com
	// request is sent; after KeepaliveCountMax (default 3) unanswered ones the
	// connection is closed and running commands fail with UnreachableError.
	// A negative interval disables keepalives.
	KeepaliveInterval time.Duration
	KeepaliveCountMax int
	// MaxSessions caps concurrent commands on the connection (default 8,
	// below OpenSSH's MaxSessions of 10); further Run calls wait their turn.
	MaxSessions int
	// Dial, when set, opens the transport stream instead of a TCP dial: a
	// bastion hop is just another dialer (for example an ssh.Client's
	// DialContext). The target's host key is still checked under Host.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Warn receives warnings and notable events as one-line messages:
	// malformed known_hosts lines (with file:line; the file is never
	// rewritten) and host keys added under AcceptNewHostKeys. Nil drops them.
	Warn func(msg string)
}

func (cfg *SSHConfig) withDefaults() (SSHConfig, error) {
	c := *cfg
	if c.Host == "" {
		return c, errors.New("transport: ssh: empty host")
	}
	if c.User == "" {
		return c, fmt.Errorf("transport: ssh: host %s: empty user", c.Host)
	}
	if c.Port == 0 {
		c.Port = 22
	}
	if c.Port < 0 || c.Port > 65535 {
		return c, fmt.Errorf("transport: ssh: host %s: bad port %d", c.Host, c.Port)
	}
	if c.KnownHostsFile == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return c, fmt.Errorf("transport: ssh: known_hosts: %w", err)
		}
		c.KnownHostsFile = filepath.Join(home, ".ssh", "known_hosts")
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.KeepaliveInterval == 0 {
		c.KeepaliveInterval = 15 * time.Second
	}
	if c.KeepaliveCountMax <= 0 {
		c.KeepaliveCountMax = 3
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 8
	}
	return c, nil
}

// DialSSH connects and authenticates to cfg.Host and returns a Conn that
// carries every later command over that one connection.
//
// Errors: *UnreachableError when the host cannot be dialed, stalls in the
// handshake or drops the connection; *HostKeyError when its key is unknown
// (and not accepted), changed or revoked — before any credential is sent;
// a plain error when authentication fails (tried once, never in a loop).
func DialSSH(ctx context.Context, cfg SSHConfig) (Conn, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	hostport := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))

	kh, err := loadKnownHostsCached(c.KnownHostsFile, c.Warn)
	if err != nil {
		return nil, err
	}
	auth, closeAgent, err := authMethods(c)
	if err != nil {
		return nil, err
	}
	defer closeAgent()

	var keyErr error    // set by the host key callback
	var keyChecked bool // the key exchange got as far as the host key
	algos, known := kh.hostKeyAlgorithms(hostport)
	conf := &ssh.ClientConfig{
		User:              c.User,
		Auth:              auth,
		HostKeyAlgorithms: algos,
		HostKeyCallback: func(_ string, remote net.Addr, key ssh.PublicKey) error {
			keyChecked = true
			keyErr = checkHostKey(kh, c, hostport, remote, key)
			return keyErr
		},
		Timeout: c.HandshakeTimeout,
	}

	dial := c.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	dctx, cancel := context.WithTimeout(ctx, c.DialTimeout)
	nc, err := dial(dctx, "tcp", hostport)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("transport: dial %s: %w", hostport, ctx.Err())
		}
		return nil, &UnreachableError{Host: hostport, Err: err}
	}

	guard, gc := guardHandshake(ctx, nc, c.HandshakeTimeout, handshakeTotal*c.HandshakeTimeout) // handshakeguard.go
	sc, chans, reqs, err := ssh.NewClientConn(gc, hostport, conf)
	if afterHandshake != nil {
		afterHandshake()
	}
	cut := guard.finish()
	if err == nil && cut != nil {
		// It finished, but the cut may already have ended its read loop:
		// the connection is not trustworthy. Reported (and retried) as the
		// timeout it was.
		sc.Close()
		err = cut
	}
	if err != nil {
		nc.Close()
		return nil, handshakeError(ctx, hostport, c, algos, known, keyErr, err, cut, keyChecked)
	}

	conn := &sshConn{
		host:   hostport,
		client: ssh.NewClient(sc, chans, reqs),
		sem:    make(chan struct{}, c.MaxSessions),
		done:   make(chan struct{}),
	}
	if c.KeepaliveInterval > 0 {
		conn.wg.Add(1)
		go conn.keepalive(c.KeepaliveInterval, c.KeepaliveCountMax)
	}
	return conn, nil
}

// afterHandshake, when set by a test, runs between the handshake's return
// and the guard's finish: the window in which a deadline armed up front
// could expire.
var afterHandshake func()

// checkHostKey turns the knownhosts verdict into a *HostKeyError, appending
// an unknown key under AcceptNewHostKeys.
func checkHostKey(kh *knownHosts, c SSHConfig, hostport string, remote net.Addr, key ssh.PublicKey) error {
	err := kh.verify(hostport, remote, key)
	if err == nil {
		return nil
	}
	if isUnknownKey(err) && c.AcceptNewHostKeys {
		err = appendKnownHost(c.KnownHostsFile, hostport, key, c.Warn)
		if err == nil {
			return nil
		}
	}
	return hostKeyError(err, c.KnownHostsFile, hostport, key)
}

// ErrHandshakeTimeout is the cause of an UnreachableError whose host
// accepted the TCP connection but did not finish the SSH handshake in time:
// its sshd is alive but slow (load, MaxStartups), unlike a host that refuses
// or never answers the connection. Connectors may try such a host again.
var ErrHandshakeTimeout = errors.New("ssh handshake timed out")

// ErrHandshakeDropped is the cause of an UnreachableError whose host
// accepted the TCP connection and then closed or reset it before the key
// exchange reached its host key: an sshd shedding load (MaxStartups, a
// failed fork), not a refusal of this client's key or credentials, which
// come later. Connectors may try such a host again.
var ErrHandshakeDropped = errors.New("connection closed by the host during the ssh handshake")

// handshakeTotal bounds a whole handshake, in multiples of its silence
// limit (HandshakeTimeout): a host that keeps answering gets this long.
const handshakeTotal = 4

// handshakeError classifies a failed NewClientConn; cut is why the guard
// ended it, if it did, and keyChecked whether the key exchange got as far
// as the host key.
func handshakeError(ctx context.Context, hostport string, c SSHConfig, algos []string, known bool, keyErr, err, cut error, keyChecked bool) error {
	if keyErr != nil {
		return keyErr
	}
	var timeout *handshakeTimeout
	if cut != nil && !errors.As(cut, &timeout) && ctx.Err() != nil {
		return fmt.Errorf("transport: ssh handshake with %s: %w", hostport, ctx.Err())
	}
	if timeout != nil {
		return &UnreachableError{Host: hostport, Err: fmt.Errorf("%w: %s", ErrHandshakeTimeout, timeout.msg)}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &UnreachableError{Host: hostport, Err: fmt.Errorf("%w: %v", ErrHandshakeTimeout, err)}
	}
	if !keyChecked && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
		return &UnreachableError{Host: hostport, Err: fmt.Errorf("%w: %v", ErrHandshakeDropped, err)}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unable to authenticate"):
		return fmt.Errorf("transport: host %s: authentication as %q failed (no retry): %w", hostport, c.User, err)
	case known && strings.Contains(msg, "no common algorithm for host key"):
		// We asked only for the key types known_hosts holds for this host:
		// the server no longer has any of them, so its key has changed.
		return &HostKeyError{Host: hostport, Mismatch: true, KnownHosts: c.KnownHostsFile,
			KeyType: "none of " + strings.Join(algos, ",")}
	case strings.Contains(msg, "no common algorithm"):
		return fmt.Errorf("transport: host %s: %w", hostport, err)
	}
	return &UnreachableError{Host: hostport, Err: err}
}
