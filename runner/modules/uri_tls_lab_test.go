package modules

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner/plan"
	"tend/runner/transport"
)

// uriTLSDir is where the TLS lab test puts the client's files: in the
// host's private /etc, so that only a read on the host finds them.
const uriTLSDir = "/etc/tend-uri-tls"

// uriTLSLab is a lab host (private /etc) running the uri test server with
// a client-certificate HTTPS port and a unix socket, the client's files in
// its /etc, and three connections: root's login, the sudoer deploy's, and
// deploy's with become.
type uriTLSLab struct {
	root, deploy, become transport.Conn
	rootCfg              transport.SSHConfig // to dial root again
	httpPort, mtlsPort   int
	sock                 string // the plain HTTP socket; sock+".tls" the client-certificate one
}

func newURITLSLab(t *testing.T) *uriTLSLab {
	t.Helper()
	p := newTestPKI(t)
	l := lab.New(t, 1, lab.WithOverlayEtc())
	h := l.Hosts[0]
	h.AddUser(t, lab.User{Name: "deploy", Password: labSudoPassword, Sudoers: "deploy ALL=(ALL:ALL) ALL\n"})
	dir := t.TempDir() // the server's side: its certificate and key, its sockets (mode 0700: root's)
	for name, b := range map[string][]byte{"ca.crt": p.CA, "server.crt": p.ServerCert, "server.key": p.ServerKey} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	u := &uriTLSLab{sock: filepath.Join(dir, "http.sock")}
	srv := h.Start(t, "env", uriServerEnv+"=1", uriServerTLSEnv+"="+dir, uriServerSocketEnv+"="+u.sock, exe)
	t.Cleanup(func() { srv.Stop() })
	eventually(t, "the test server prints its ports", func() bool {
		var tlsPort int
		_, err := fmt.Sscanf(srv.Output(), "mtls %d\nports %d %d", &u.mtlsPort, &u.httpPort, &tlsPort)
		return err == nil
	})
	u.rootCfg = labSSHConfig(l, h, "root")
	dial := func(user string) transport.Conn {
		cfg := u.rootCfg
		cfg.User = user
		c, err := transport.DialSSH(context.Background(), cfg)
		if err != nil {
			t.Fatalf("dial %s: %v", user, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	u.root, u.deploy = dial("root"), dial("deploy")
	u.become = transport.Become(u.deploy, transport.BecomeOptions{Password: labSudoPassword})

	ctx := context.Background()
	if res, err := u.root.Run(ctx, transport.Command{Argv: []string{"mkdir", "-p", uriTLSDir}}); err != nil || res.ExitCode != 0 {
		t.Fatalf("mkdir: %v %s", err, res.Stderr)
	}
	for _, f := range []struct {
		name string
		data []byte
		mode fs.FileMode
	}{
		{"ca.crt", p.CA, 0o644}, {"other-ca.crt", p.OtherCA, 0o644}, {"not-pem.txt", []byte("hello\n"), 0o644},
		{"client.crt", p.ClientCert, 0o644}, {"client.key", p.ClientKey, 0o600}, {"other.key", p.OtherKey, 0o600},
		{"client.pem", append(append([]byte{}, p.ClientCert...), p.ClientKey...), 0o600},
	} {
		if _, err := transport.WriteFileAtomic(ctx, u.root, uriTLSDir+"/"+f.name, f.data, transport.WriteOptions{Mode: f.mode}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(uriTLSDir); err == nil {
		t.Fatalf("%s also exists on the controller: the test proves nothing", uriTLSDir)
	}
	return u
}

// TestLabURITLS: client certificates, ca_path and unix_socket, the files
// read on the host (its private /etc): the server refuses a request
// without the client certificate and takes it with one (key apart or in
// the certificate's file), ca_path is the one trust store, missing or bad
// files fail the task as Ansible words them, become reads a root-only key,
// and unix_socket carries the request (plain or TLS) through the host's
// socket.
func TestLabURITLS(t *testing.T) {
	u := newURITLSLab(t)
	ctx := context.Background()
	base := fmt.Sprintf("https://127.0.0.1:%d/json", u.mtlsPort)
	const (
		ca      = "\nca_path: " + uriTLSDir + "/ca.crt"
		certKey = "\nclient_cert: " + uriTLSDir + "/client.crt\nclient_key: " + uriTLSDir + "/client.key"
	)
	for _, tc := range []struct {
		name, args string
		conn       transport.Conn
		status     int    // -1 and failed, or 200
		msg        string // in Msg
	}{
		{"NoClientCert", "url: " + base + ca, u.root, -1, "certificate required"},
		{"ClientCertAndKey", "url: " + base + ca + certKey, u.root, 200, "OK"},
		{"KeyInCertFile", "url: " + base + ca + "\nclient_cert: " + uriTLSDir + "/client.pem", u.root, 200, "OK"},
		{"UntrustedCA", "url: " + base + "\nca_path: " + uriTLSDir + "/other-ca.crt" + certKey, u.root, -1, "certificate signed by unknown authority"},
		{"NoCAPath", "url: " + base + certKey, u.root, -1, "certificate signed by unknown authority"},
		{"UntrustedNotValidated", "url: " + base + "\nca_path: " + uriTLSDir + "/other-ca.crt\nvalidate_certs: false" + certKey, u.root, 200, "OK"},
		{"MissingClientCert", "url: " + base + ca + "\nclient_cert: " + uriTLSDir + "/nope.crt", u.root, -1,
			"Connection failure: [Errno 2] No such file or directory: '" + uriTLSDir + "/nope.crt' (client_cert)"},
		{"MissingCAPathPlainHTTP", fmt.Sprintf("url: http://127.0.0.1:%d/json\nca_path: %s/nope.crt", u.httpPort, uriTLSDir), u.root, -1,
			"Connection failure: [Errno 2] No such file or directory: '" + uriTLSDir + "/nope.crt' (ca_path)"},
		{"CAPathNotPEM", "url: " + base + "\nca_path: " + uriTLSDir + "/not-pem.txt", u.root, -1, "no certificate or crl found"},
		{"CertWithoutKey", "url: " + base + ca + "\nclient_cert: " + uriTLSDir + "/client.crt", u.root, -1, "holds no private key, and client_key is not set"},
		{"KeyWithoutCert", "url: " + base + ca + "\nclient_key: " + uriTLSDir + "/client.key", u.root, -1, "certfile should be a valid filesystem path"},
		{"WrongKey", "url: " + base + ca + "\nclient_cert: " + uriTLSDir + "/client.crt\nclient_key: " + uriTLSDir + "/other.key", u.root, -1, "key values mismatch"},
		{"KeyUnreadableWithoutBecome", "url: " + base + ca + certKey, u.deploy, -1, "cannot read client_key " + uriTLSDir + "/client.key on the host"},
		{"KeyReadWithBecome", "url: " + base + ca + certKey, u.become, 200, "OK"},
		{"Socket", "url: http://localhost/json\nunix_socket: " + u.sock, u.root, 200, "OK"},
		{"SocketTLS", "url: https://localhost/json\nunix_socket: " + u.sock + ".tls" + ca + certKey, u.root, 200, "OK"},
		{"SocketMissing", "url: http://localhost/json\nunix_socket: " + u.sock + ".nope", u.root, -1,
			"Request failed: Invalid Socket File (" + u.sock + ".nope): [Errno 2] No such file or directory"},
		{"SocketNotASocket", "url: http://localhost/json\nunix_socket: " + uriTLSDir + "/ca.crt", u.root, -1, "not a socket"},
		// sshd opens the socket as the login user (deploy), who cannot
		// enter the server's 0700 directory, become or not.
		{"SocketLoginUser", "url: http://localhost/json\nunix_socket: " + u.sock, u.become, -1, "the login user may not open it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newURIT(t, tc.args).Check(ctx, tc.conn)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("summary %q msg %q", c.Summary, c.Msg)
			if c.Action != plan.Read || c.Failed != (tc.status != 200) || c.Data["status"] != tc.status || !strings.Contains(c.Msg, tc.msg) {
				t.Errorf("got %s failed=%v status=%v msg=%q, want status=%d msg~%q", c.Action, c.Failed, c.Data["status"], c.Msg, tc.status, tc.msg)
			}
			if tc.status == 200 {
				if js, _ := c.Data["json"].(map[string]any); js["state"] != "green" {
					t.Errorf("json not registered: %+v", c.Data)
				}
			}
			if strings.Contains(c.Msg, "PRIVATE KEY") || strings.Contains(c.Summary, "PRIVATE KEY") {
				t.Errorf("the key shows: %q", c.Msg)
			}
		})
	}
	t.Run("StreamForwardingForbidden", func(t *testing.T) {
		// root's key may not forward: sshd refuses the socket's channel.
		c := dialRestricted(ctx, t, u.root, u.rootCfg, "no-port-forwarding")
		got, err := newURIT(t, "url: http://localhost/json\nunix_socket: "+u.sock).Check(ctx, c)
		t.Logf("msg %q", got.Msg)
		if err != nil || !got.Failed || got.Data["status"] != -1 || !strings.Contains(got.Msg, "AllowStreamLocalForwarding") {
			t.Errorf("got %v %+v, want a failure naming the forwarding restriction", err, got)
		}
	})
}
