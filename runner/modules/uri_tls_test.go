package modules

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tend/runner/transport"
)

// testPKI is a CA, a server and a client certificate it signed, and an
// unrelated CA, all PEM.
type testPKI struct {
	ca, serverCert, serverKey, clientCert, clientKey, otherCA, otherKey []byte
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	var serial int64
	issue := func(tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	keyPEM := func(k *ecdsa.PrivateKey) []byte { // SEC1, as RKE2's and openssl's EC keys
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	}
	caTmpl := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	}
	var p testPKI
	ca, caKey, caPEM := issue(caTmpl("tend test CA"), nil, nil)
	_, otherKey, otherPEM := issue(caTmpl("another CA"), nil, nil)
	_, sKey, sPEM := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca, caKey)
	_, cKey, cPEM := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "tend client"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca, caKey)
	p.ca, p.otherCA, p.otherKey = caPEM, otherPEM, keyPEM(otherKey)
	p.serverCert, p.serverKey = sPEM, keyPEM(sKey)
	p.clientCert, p.clientKey = cPEM, keyPEM(cKey)
	return p
}

// TestURILocalTLS: over the local connection (the host is this machine),
// a server that wants a client certificate gets one from client_cert and
// client_key, ca_path is the trust store, and unix_socket carries the
// request. The lab test (TestLabURITLS) does the same on a host over SSH.
func TestURILocalTLS(t *testing.T) {
	p := newTestPKI(t)
	dir := t.TempDir()
	for name, b := range map[string][]byte{"ca.crt": p.ca, "other.crt": p.otherCA, "c.crt": p.clientCert, "c.key": p.clientKey} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"state": "green"}`)
	})
	srv := httptest.NewUnstartedServer(hello)
	cert, err := tls.X509KeyPair(p.serverCert, p.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.ca)
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
