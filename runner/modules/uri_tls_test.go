package modules

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/internal/testpki"
	"tend/runner/transport"
)

// newTestPKI is a fresh test CA with its server and client certificates.
func newTestPKI(t *testing.T) testpki.PKI {
	t.Helper()
	p, err := testpki.New()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestURILocalTLS: over the local connection (the host is this machine),
// a server that wants a client certificate gets one from client_cert and
// client_key, ca_path is the trust store, and unix_socket carries the
// request. The lab test (TestLabURITLS) does the same on a host over SSH.
func TestURILocalTLS(t *testing.T) {
	p := newTestPKI(t)
	dir := t.TempDir()
	for name, b := range map[string][]byte{"ca.crt": p.CA, "other.crt": p.OtherCA, "c.crt": p.ClientCert, "c.key": p.ClientKey} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"state": "green"}`)
	})
	srv := httptest.NewUnstartedServer(hello)
	cert, err := tls.X509KeyPair(p.ServerCert, p.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.CA)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()
	sock := filepath.Join(dir, "h.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go http.Serve(l, hello)

	certKey := "\nclient_cert: " + dir + "/c.crt\nclient_key: " + dir + "/c.key"
	for _, tc := range []struct {
		name, args string
		status     int
		msg        string
	}{
		{"ClientCert", "url: " + srv.URL + "/\nca_path: " + dir + "/ca.crt" + certKey, 200, "OK"},
		{"NoClientCert", "url: " + srv.URL + "/\nca_path: " + dir + "/ca.crt", -1, "certificate required"},
		{"OtherCA", "url: " + srv.URL + "/\nca_path: " + dir + "/other.crt" + certKey, -1, "unknown authority"},
		{"Socket", "url: http://localhost/\nunix_socket: " + sock, 200, "OK"},
		{"SocketMissing", "url: http://localhost/\nunix_socket: " + sock + "-nope", -1, "[Errno 2] No such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newURIT(t, tc.args).Check(context.Background(), transport.Local())
			if err != nil {
				t.Fatal(err)
			}
			if c.Data["status"] != tc.status || c.Failed != (tc.status != 200) || !strings.Contains(c.Msg, tc.msg) {
				t.Errorf("got failed=%v status=%v msg=%q, want %d %q", c.Failed, c.Data["status"], c.Msg, tc.status, tc.msg)
			}
		})
	}
}
