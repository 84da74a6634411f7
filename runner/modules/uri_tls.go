package modules

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"sync"

	"tend/runner/transport"
)

// uriTLSPaths are uri's TLS files: paths on the host, as Ansible's uri
// runs there. They are read over the host's connection (with become when
// the task has it: the same wrapped connection every module command uses)
// into memory for the one request; the key is never logged nor put on a
// command line (the read command names only the path).
type uriTLSPaths struct {
	caPath     string // a PEM CA bundle that replaces the trust store
	clientCert string // a PEM certificate chain, possibly with its key
	clientKey  string // the PEM key, when client_cert does not hold it
}

// uriFailed is a request failure found before the request is sent (a
// missing file, a bad bundle): the task fails with it, status -1.
type uriFailed struct{ msg string }

func (e *uriFailed) Error() string { return e.msg }

// tlsConfig builds the request's TLS settings. As Ansible 2.14 does:
//   - ca_path is read whatever the URL's scheme and validate_certs (a
//     missing file fails the task even for http), and it replaces the trust
//     store: Python's create_default_context(cafile=) loads that file only;
//   - the client certificate is read for an https URL before connecting,
//     and sent whenever the server asks, whatever CAs it names (OpenSSL
//     sends the one it has); an http URL redirected to https reads it then.
//
// A missing or bad file is a *uriFailed; any other error (the connection to
// the host lost) is returned as is.
func (m *uriModule) tlsConfig(ctx context.Context, conn transport.Conn) (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: !m.validateCerts} //nolint:gosec // validate_certs: false asks for it
	if m.tls.caPath != "" {
		b, err := readTLSFile(ctx, conn, "ca_path", m.tls.caPath)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, &uriFailed{fmt.Sprintf("Connection failure: [X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found (ca_path %s holds no PEM certificate)", m.tls.caPath)}
		}
		if m.validateCerts {
			cfg.RootCAs = pool
		}
	}
	if m.tls.clientCert == "" && m.tls.clientKey == "" {
		return cfg, nil
	}
	var (
		once    sync.Once
		cert    *tls.Certificate
		loadErr error
	)
	load := func(ctx context.Context) (*tls.Certificate, error) {
		once.Do(func() { cert, loadErr = m.clientCertificate(ctx, conn) })
		return cert, loadErr
	}
	if m.url.Scheme == "https" {
		if _, err := load(ctx); err != nil {
			return nil, err
		}
	}
	cfg.GetClientCertificate = func(info *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return load(info.Context())
	}
	return cfg, nil
}

// clientCertificate reads client_cert and client_key on the host and pairs
// them; without client_key the key is looked for in client_cert's file.
func (m *uriModule) clientCertificate(ctx context.Context, conn transport.Conn) (*tls.Certificate, error) {
	p := m.tls
	if p.clientCert == "" {
		// Python's load_cert_chain(None, keyfile), in Ansible's words.
		return nil, &uriFailed{"An unknown error occurred: certfile should be a valid filesystem path (client_key is set without client_cert)"}
	}
	certPEM, err := readTLSFile(ctx, conn, "client_cert", p.clientCert)
	if err != nil {
		return nil, err
	}
	keyPEM := certPEM
	if p.clientKey != "" {
		if keyPEM, err = readTLSFile(ctx, conn, "client_key", p.clientKey); err != nil {
			return nil, err
		}
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The tls errors are fixed texts: they never quote the key.
		why := strings.TrimPrefix(err.Error(), "tls: ")
		switch {
		case strings.Contains(why, "does not match"):
			return nil, &uriFailed{fmt.Sprintf("Connection failure: [X509: KEY_VALUES_MISMATCH] key values mismatch (client_key %s is not the key of client_cert %s)", p.clientKey, p.clientCert)}
		case p.clientKey == "" && strings.Contains(why, "key"):
			return nil, &uriFailed{fmt.Sprintf("Connection failure: [SSL] PEM lib (client_cert %s holds no private key, and client_key is not set)", p.clientCert)}
		case strings.Contains(why, "certificate input"):
			return nil, &uriFailed{fmt.Sprintf("Connection failure: [SSL] PEM lib (client_cert %s holds no PEM certificate)", p.clientCert)}
		}
		return nil, &uriFailed{fmt.Sprintf("Connection failure: [SSL] PEM lib (client_cert %s, client_key %s: %s)", p.clientCert, orDash(p.clientKey), why)}
	}
	return &pair, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readTLSFile reads one of uri's files on the host. A missing or
// unreadable file is a *uriFailed worded as Ansible's (its Python errno),
// naming the argument.
func readTLSFile(ctx context.Context, conn transport.Conn, key, p string) ([]byte, error) {
	b, err := transport.ReadFile(ctx, conn, p)
	if err == nil {
		return b, nil
	}
	var fe *transport.FileError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &uriFailed{fmt.Sprintf("Connection failure: [Errno 2] No such file or directory: '%s' (%s)", p, key)}
	case errors.As(err, &fe) && fe.ExitCode == 82:
		return nil, &uriFailed{fmt.Sprintf("Connection failure: [Errno 21] Is a directory: '%s' (%s)", p, key)}
	case errors.As(err, &fe):
		why := fe.Stderr
		if why == "" {
			why = fe.Step + " failed"
		}
		return nil, &uriFailed{fmt.Sprintf("Connection failure: cannot read %s %s on the host: %s", key, p, why)}
	}
	return nil, err
}

// uriSocketProbe tells what is at a path on the host: 0 a socket, 3 nothing, 4 something else.
const uriSocketProbe = `[ -S "$1" ] && exit 0; [ -e "$1" ] || [ -L "$1" ] || exit 3; exit 4`

// dialFunc is how the HTTP client opens its streams: from the host to the
// URL's address, or with unix_socket to that socket on the host (an SSH
// direct-streamlocal channel, as `ssh -W /path`), whatever the URL's host
// and port (which still name the Host header and the TLS server name).
func (m *uriModule) dialFunc(d Dialer, conn transport.Conn) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if m.unixSocket == "" {
		return d.DialContext
	}
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		nc, err := d.DialContext(ctx, "unix", m.unixSocket)
		if err == nil {
			return nc, nil
		}
		var u *transport.UnreachableError
		if errors.As(err, &u) || ctx.Err() != nil {
			return nil, err
		}
		return nil, m.socketError(ctx, conn, err)
	}
}

// socketError words a failed socket dial as Ansible's "Invalid Socket
// File", asking the host what is at the path: the SSH server's refusal
// does not say whether the socket is missing, refuses connections, or
// stream forwarding is off.
func (m *uriModule) socketError(ctx context.Context, conn transport.Conn, dialErr error) error {
	prefix := fmt.Sprintf("Invalid Socket File (%s): ", m.unixSocket)
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", uriSocketProbe, "sh", m.unixSocket}})
	if err == nil {
		switch res.ExitCode {
		case 3:
			return errors.New(prefix + "[Errno 2] No such file or directory")
		case 4:
			return errors.New(prefix + "not a socket")
		}
	}
	why := dialErr.Error()
	if i := strings.LastIndex(why, ": ssh: "); i >= 0 {
		why = why[i+2:]
	}
	return fmt.Errorf("%s%s (the socket exists: it refused the connection, the login user may not open it, or the host's sshd forbids stream forwarding: AllowStreamLocalForwarding, or no-port-forwarding on the key)", prefix, why)
}
