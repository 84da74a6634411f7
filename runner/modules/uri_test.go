package modules

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"tend/runner/plan"
	"tend/runner/transport"
)

func newURIT(t *testing.T, src string) *uriModule {
	t.Helper()
	m, err := newURI(Args{Node: argsNode(t, src), File: "play.yml"})
	if err != nil {
		t.Fatal(err)
	}
	return m.(*uriModule)
}

func TestURIArgs(t *testing.T) {
	m := newURIT(t, "url: http://127.0.0.1:8161/")
	if m.method != "GET" || m.timeout != 30*time.Second || !m.validateCerts || m.followRedirects != "safe" ||
		len(m.statusCodes) != 1 || m.statusCodes[0] != 200 || m.body != nil {
		t.Errorf("defaults: %+v", m)
	}
	m = newURIT(t, "url: http://h/\nmethod: post\nstatus_code: [200, 201]\nbody_format: json\nbody: {a: 1, b: [x]}\nfollow_redirects: none\nvalidate_certs: false\ntimeout: 5")
	if m.method != "POST" || len(m.statusCodes) != 2 || m.headers["Content-Type"] != "application/json" ||
		string(m.body) != `{"a":1,"b":["x"]}` || m.followRedirects != "none" || m.validateCerts || m.timeout != 5*time.Second {
		t.Errorf("post: %+v body %s", m, m.body)
	}
	m = newURIT(t, "url: http://h/\nbody_format: form-urlencoded\nbody: {name: a b, z: '&'}\nheaders: {content-type: text/x}\nstatus_code: 204")
	if string(m.body) != "name=a+b&z=%26" || m.headers["Content-Type"] != "" || m.statusCodes[0] != 204 {
		t.Errorf("form: %+v body %s", m, m.body)
	}
	m = newURIT(t, "url: http://h/\nbody_format: json\nbody: '{\"raw\": true}'\nuser: u\npassword: secret")
	if string(m.body) != `{"raw": true}` || m.username != "u" || m.password != "secret" {
		t.Errorf("json text: %+v", m)
	}
	if m = newURIT(t, "url: http://h/\nstatus_code: 200, 409"); len(m.statusCodes) != 2 || m.statusCodes[1] != 409 {
		t.Errorf("comma list: %v", m.statusCodes) // Ansible's list type splits a string at commas
	}
	newURIT(t, "url: '{{ base }}/x'\nstatus_code: '{{ code }}'\ntimeout: '{{ t }}'") // judged once rendered
	m = newURIT(t, "url: https://h/\nca_path: /etc/ca.pem\nclient_cert: /etc/c.crt\nclient_key: /etc/c.key\nunix_socket: /run/d.sock")
	if m.tls != (uriTLSPaths{caPath: "/etc/ca.pem", clientCert: "/etc/c.crt", clientKey: "/etc/c.key"}) || m.unixSocket != "/run/d.sock" {
		t.Errorf("tls: %+v socket %q", m.tls, m.unixSocket)
	}
	newURIT(t, "url: https://h/\nca_path: '{{ tls_dir }}/ca.pem'\nunix_socket: '{{ sock }}'") // judged once rendered

	for _, tc := range []struct{ src, want string }{
		{"method: GET", "play.yml:1:1: url: missing required key"},
		{"url: ftp://h/", `play.yml:1:6: uri: url must be http:// or https:// with a host, not "ftp://h/"`},
		{"url: http://u:hunter22@h:99999/", "url port must be between 1 and 65535"},
		{"url: 'http://u:hunter22@/'", "http://u:xxxxx@/"},
		{"url: http://h/\nmethod: 'GE T'", `play.yml:2:9: uri: method must be one word, like GET or POST, not "GE T"`},
		{"url: http://h/\nstatus_code: 99", "play.yml:2:14: uri: status_code must be an HTTP status between 100 and 599"},
		{"url: http://h/\nstatus_code: [200, abc]", "play.yml:2:20: uri: status_code"},
		{"url: http://h/\nstatus_code: 200,abc", "play.yml:2:14: uri: status_code"},
		{"url: http://h/\nfollow_redirects: maybe", `play.yml:2:19: uri: follow_redirects must be safe, all or none, not "maybe"`},
		{"url: http://h/\nbody_format: form-multipart", `play.yml:2:14: uri: body_format must be raw, json or form-urlencoded, not "form-multipart"`},
		{"url: http://h/\nbody: {a: 1}", "play.yml:2:7: uri: body: with body_format raw the body must be text"},
		{"url: http://h/\ntimeout: 0", "play.yml:2:10: uri: timeout must be positive"},
		{"url: http://h/\nvalidate_cert: false", `did you mean "validate_certs"`},
		{"url: http://h/\nstatus_codes: 200", `did you mean "status_code"`},
		{"url: http://h/\nheaders: {'X-A': \"a\\nb\"}", "a value cannot hold a line break"},
		{"url: http://h/\nuser: a\nurl_username: b", "play.yml:2:7: uri: give url_username or user, not both"},
		{"url: http://h/\nreturn_content: maybe", "must be true or false"},
		{"url: https://h/\nca_path: certs/ca.pem", `play.yml:2:10: uri: ca_path must be an absolute path on the host, not "certs/ca.pem"`},
		{"url: https://h/\nclient_cert: ~/c.pem", `play.yml:2:14: uri: client_cert must be an absolute path on the host`},
		{"url: https://h/\nclient_key: k.pem", `play.yml:2:13: uri: client_key must be an absolute path on the host`},
		{"url: http://h/\nunix_socket: run/d.sock", `play.yml:2:14: uri: unix_socket must be an absolute path on the host`},
	} {
		_, err := newURI(Args{Node: argsNode(t, tc.src), File: "play.yml"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.src, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter22") {
			t.Errorf("%q: the password is in the error: %v", tc.src, err)
		}
	}
}

// noDialConn is a connection that cannot open streams (a stand-in host).
type noDialConn struct{ transport.Conn }

// TestURILocal: over the local connection, a request dials from this
// machine; the wrapped connection without a dialer is a clear error;
// credentials go out only when challenged unless force_basic_auth.
func TestURILocal(t *testing.T) {
	var mu sync.Mutex
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		if _, _, ok := r.BasicAuth(); !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok": true}`)
	}))
	defer srv.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		name, extra string
		sent        int // requests the server saw
		firstAuth   bool
	}{
		{"Challenged", "url_username: u\nurl_password: p4ssword", 2, false},
		{"Forced", "url_username: u\nurl_password: p4ssword\nforce_basic_auth: true", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auths = nil
			m := newURIT(t, "url: "+srv.URL+"/\n"+tc.extra)
			c, err := m.Check(ctx, transport.Local())
			if err != nil || c.Failed || c.Action != plan.Read {
				t.Fatalf("check: %v %+v", err, c)
			}
			if js, _ := c.Data["json"].(map[string]any); js["ok"] != true {
				t.Errorf("json: %+v", c.Data)
			}
			if len(auths) != tc.sent || (auths[0] != "") != tc.firstAuth {
				t.Errorf("authorization headers sent: %q", auths)
			}
			if strings.Contains(c.Summary+c.Msg, "p4ssword") {
				t.Errorf("password shown: %+v", c)
			}
		})
	}
	m := newURIT(t, "url: "+srv.URL+"/")
	if _, err := m.Check(ctx, noDialConn{transport.Local()}); err == nil || !strings.Contains(err.Error(), "cannot open TCP streams") {
		t.Errorf("no dialer: %v", err)
	}
	post := newURIT(t, "url: "+srv.URL+"/\nmethod: POST")
	if _, err := post.Check(ctx, noDialConn{transport.Local()}); err == nil {
		t.Errorf("no dialer (POST): accepted")
	}
	if _, err := m.Check(ctx, transport.Become(transport.Local(), transport.BecomeOptions{})); err != nil {
		t.Errorf("through become: %v", err)
	}
}

// TestDecodeJSONNumbers: a JSON body's integral numbers are ints, as
// Python's json gives them, so "{{ r.json.count }}" prints 5, not 5.0.
func TestDecodeJSONNumbers(t *testing.T) {
	v, ok := decodeJSON([]byte(`{"count": 5, "ratio": 0.5, "list": [1, 2.5], "big": 1e3}`))
	if !ok {
		t.Fatal("not decoded")
	}
	m := v.(map[string]any)
	for k, want := range map[string]any{"count": 5, "ratio": 0.5, "big": 1000.0} {
		if m[k] != want {
			t.Errorf("%s = %#v, want %#v", k, m[k], want)
		}
	}
	if l := m["list"].([]any); l[0] != 1 || l[1] != 2.5 {
		t.Errorf("list = %#v", l)
	}
	if _, ok := decodeJSON([]byte(`{"a": 1} {"b": 2}`)); ok {
		t.Error("two documents decoded as one")
	}
}
