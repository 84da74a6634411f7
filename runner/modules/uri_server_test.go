package modules

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// uriServerEnv, set in its environment, makes the test binary the HTTP
// server of the uri lab tests instead of running tests: the lab starts it
// inside a host's network namespace, listening on that host's 127.0.0.1.
const uriServerEnv = "TEND_URI_TEST_SERVER"

// uriServerFilesEnv names a directory the test server serves under
// /files/ (get_url's tests); uriServerSecretEnv is the password /basic
// wants from user deploy.
const (
	uriServerFilesEnv  = "TEND_URI_TEST_FILES"
	uriServerSecretEnv = "TEND_URI_TEST_SECRET"
)

// uriServerTLSEnv names a directory holding ca.crt, server.crt and
// server.key (uri's TLS tests): the server then also serves HTTPS on a
// port that requires a client certificate signed by ca.crt, printed first
// as "mtls PORT". uriServerSocketEnv names a unix socket path it serves
// plain HTTP on (and, with uriServerTLSEnv, the same client-certificate
// HTTPS on PATH.tls).
const (
	uriServerTLSEnv    = "TEND_URI_TEST_TLS"
	uriServerSocketEnv = "TEND_URI_TEST_SOCKET"
)

func TestMain(m *testing.M) {
	if os.Getenv(uriServerEnv) != "" {
		if err := uriTestServer(); err != nil {
			fmt.Fprintln(os.Stderr, "uri test server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// uriRequest is one request the test server received.
type uriRequest struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Body   string `json:"body"`
}

// uriTestServer serves plain HTTP and HTTPS (a self-signed certificate made
// here) on ephemeral ports of 127.0.0.1, prints "ports HTTP HTTPS", and
// serves until killed:
//
//	/json          a JSON body
//	/status/N      status N
//	/loop          redirects to itself
//	/hang          never answers
//	/files/...     the files of $TEND_URI_TEST_FILES (If-Modified-Since honoured)
//	/attach        a body with Content-Disposition: attachment; filename="../report.txt"
//	/basic         200 with basic auth deploy:$TEND_URI_TEST_SECRET, else a 401 challenge
//	/requests      the requests received so far (JSON), itself not recorded
func uriTestServer() error {
	var mu sync.Mutex
	var seen []uriRequest
	mux := http.NewServeMux()
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		io.WriteString(w, `{"state": "green", "brokers": 3}`)
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	if dir := os.Getenv(uriServerFilesEnv); dir != "" { // get_url's tests
		mux.Handle("/files/", http.StripPrefix("/files/", http.FileServer(http.Dir(dir))))
	}
	mux.HandleFunc("/attach", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="../report.txt"`)
		io.WriteString(w, "attached\n")
	})
	mux.HandleFunc("/basic", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "deploy" || p != os.Getenv(uriServerSecretEnv) {
			w.Header().Set("WWW-Authenticate", `Basic realm="t"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "welcome\n")
	})
	mux.HandleFunc("/requests", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		json.NewEncoder(w).Encode(seen)
	})
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/requests" {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			seen = append(seen, uriRequest{r.Method, r.URL.Path, string(b)})
			mu.Unlock()
		}
		mux.ServeHTTP(w, r)
	})
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	cert, err := selfSignedCert()
	if err != nil {
		return err
	}
	secure, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		return err
	}
	errc := make(chan error, 5)
	var mtls *tls.Config
	if dir := os.Getenv(uriServerTLSEnv); dir != "" {
		if mtls, err = uriMTLSConfig(dir); err != nil {
			return err
		}
		l, err := tls.Listen("tcp", "127.0.0.1:0", mtls)
		if err != nil {
			return err
		}
		fmt.Printf("mtls %d\n", l.Addr().(*net.TCPAddr).Port)
		go func() { errc <- http.Serve(l, record) }()
	}
	if sock := os.Getenv(uriServerSocketEnv); sock != "" {
		l, err := net.Listen("unix", sock)
		if err != nil {
			return err
		}
		go func() { errc <- http.Serve(l, record) }()
		if mtls != nil {
			l, err := tls.Listen("unix", sock+".tls", mtls)
			if err != nil {
				return err
			}
			go func() { errc <- http.Serve(l, record) }()
		}
	}
	fmt.Printf("ports %d %d\n", plain.Addr().(*net.TCPAddr).Port, secure.Addr().(*net.TCPAddr).Port)
	go func() { errc <- http.Serve(plain, record) }()
	go func() { errc <- http.Serve(secure, record) }()
	return <-errc
}

// selfSignedCert makes a certificate for 127.0.0.1 that no CA signed.
func selfSignedCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tend-uri-test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// uriMTLSConfig is the server side of the client-certificate tests: dir's
// server.crt and server.key, and only clients whose certificate ca.crt
// signed.
func uriMTLSConfig(dir string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%s/ca.crt: no certificate", dir)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}, nil
}
