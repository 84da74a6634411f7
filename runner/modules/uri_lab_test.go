package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"tend/internal/lab"
	"tend/runner/plan"
	"tend/runner/transport"
)

// uriLab is a lab host running the uri test server on its own loopback,
// and tend's SSH connection to it.
type uriLab struct {
	conn              transport.Conn
	cfg               transport.SSHConfig
	httpPort, tlsPort int
}

func newURILab(t *testing.T) *uriLab {
	t.Helper()
	l := lab.New(t, 1)
	h := l.Hosts[0]
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := h.Start(t, "env", uriServerEnv+"=1", exe)
	t.Cleanup(func() { p.Stop() })
	u := &uriLab{}
	eventually(t, "the test server prints its ports", func() bool {
		_, err := fmt.Sscanf(p.Output(), "ports %d %d", &u.httpPort, &u.tlsPort)
		return err == nil
	})
	u.cfg = labSSHConfig(l, h, "root")
	c, err := transport.DialSSH(context.Background(), u.cfg)
	if err != nil {
		t.Fatalf("dial lab host: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	u.conn = c
	return u
}

// requests asks the server what it received, through the module itself.
func (u *uriLab) requests(t *testing.T) []uriRequest {
	t.Helper()
	m := newURIT(t, fmt.Sprintf("url: http://127.0.0.1:%d/requests\nreturn_content: true", u.httpPort))
	c, err := m.Check(context.Background(), u.conn)
	if err != nil || c.Failed {
		t.Fatalf("requests: %v %+v", err, c)
	}
	var out []uriRequest
	if err := json.Unmarshal([]byte(c.Data["content"].(string)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLabURI: requests leave from the host (its loopback, not the
// controller's), status codes decide failure, a JSON body is registered,
// a POST is not sent in check mode, and a hanging server, a redirect loop
// and an untrusted certificate each end in a failed result.
func TestLabURI(t *testing.T) {
	u := newURILab(t)
	ctx := context.Background()
	// The controller's loopback has nothing on that port: whatever answers
	// below answers on the host's.
	if nc, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", u.httpPort), 2*time.Second); err == nil {
		nc.Close()
		t.Fatalf("port %d also listens on the controller: the test proves nothing", u.httpPort)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", u.httpPort)
	tlsBase := fmt.Sprintf("https://127.0.0.1:%d", u.tlsPort)
	for _, tc := range []struct {
		name, args string
		failed     bool
		status     int
		msg        string // in Msg
	}{
		{"JSON", "url: " + base + "/json", false, 200, "OK (32 bytes)"},
		{"StatusMismatch", "url: " + base + "/status/500", true, 500, "Status code was 500 and not [200]: HTTP Error 500"},
		{"StatusInList", "url: " + base + "/status/503\nstatus_code: [200, 503]", false, 503, ""},
		{"StatusOne", "url: " + base + "/status/204\nstatus_code: 204", false, 204, ""},
		{"Hang", "url: " + base + "/hang\ntimeout: 1", true, -1, "Request failed: timed out after 1s"},
		{"RedirectLoop", "url: " + base + "/loop", true, -1, "Request failed: stopped after 10 redirects"},
		{"RedirectNotFollowed", "url: " + base + "/loop\nfollow_redirects: none\nstatus_code: 302", false, 302, ""},
		{"SelfSignedRefused", "url: " + tlsBase + "/json", true, -1, "certificate"},
		{"SelfSignedAccepted", "url: " + tlsBase + "/json\nvalidate_certs: false", false, 200, ""},
		{"NothingListening", "url: http://127.0.0.1:1/\ntimeout: 5", true, -1, "Request failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newURIT(t, tc.args).Check(ctx, u.conn)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("summary %q msg %q", c.Summary, c.Msg)
			if c.Action != plan.Read || c.Failed != tc.failed || c.Data["status"] != tc.status || !strings.Contains(c.Msg, tc.msg) {
				t.Errorf("got %s failed=%v status=%v msg=%q, want failed=%v status=%d msg~%q",
					c.Action, c.Failed, c.Data["status"], c.Msg, tc.failed, tc.status, tc.msg)
			}
			if strings.Contains(tc.name, "JSON") || strings.HasPrefix(tc.name, "SelfSignedAccepted") {
				if js, _ := c.Data["json"].(map[string]any); js["state"] != "green" {
					t.Errorf("json not registered: %+v", c.Data)
				}
			}
		})
	}
	t.Run("RedirectsBounded", func(t *testing.T) {
		loops := 0
		for _, r := range u.requests(t) {
			if r.Path == "/loop" {
				loops++
			}
		}
		// RedirectNotFollowed's one, RedirectLoop's chain of 10 redirects.
		if loops != 1+(1+uriMaxRedirects) {
			t.Errorf("the server saw %d requests to /loop, want %d (run with the table's subtests)", loops, 2+uriMaxRedirects)
		}
	})

	t.Run("POSTCheckModeNotSent", func(t *testing.T) {
		m := newURIT(t, "url: "+base+"/status/201\nmethod: POST\nbody_format: json\nbody: {restart: true}\nstatus_code: 201")
		c, err := m.Check(ctx, u.conn)
		if err != nil || c.Action != plan.Run || c.Summary != "would send POST "+base+"/status/201 with a 16-byte body" {
			t.Fatalf("check: %v %+v", err, c)
		}
		for _, r := range u.requests(t) {
			if r.Method == "POST" {
				t.Fatalf("check mode sent %+v", r)
			}
		}
		got, err := m.Apply(ctx, u.conn, c)
		if err != nil || got.Failed || got.Data["status"] != 201 || got.Changed() {
			t.Fatalf("apply: %v %+v", err, got)
		}
		var posts []uriRequest
		for _, r := range u.requests(t) {
			if r.Method == "POST" {
				posts = append(posts, r)
			}
		}
		if len(posts) != 1 || posts[0].Body != `{"restart":true}` {
			t.Errorf("server saw POSTs %+v, want one with the JSON body", posts)
		}
	})
	t.Run("ForwardingForbidden", func(t *testing.T) {
		// The key may only open streams to port 9: sshd refuses the rest.
		c := dialRestricted(ctx, t, u.conn, u.cfg, `permitopen="127.0.0.1:9"`)
		got, err := newURIT(t, "url: "+base+"/json").Check(ctx, c)
		if err != nil || !got.Failed || !strings.Contains(got.Msg, "forbids TCP forwarding") {
			t.Errorf("got %v %+v, want a failure naming the forwarding restriction", err, got)
		}
	})
}

// dialRestricted puts option (an authorized_keys option such as
// no-port-forwarding) before every key of conn's login user, restores the
// file when t ends, and returns a new connection with cfg, whose key now
// carries the option (closed when t ends).
func dialRestricted(ctx context.Context, t *testing.T, conn transport.Conn, cfg transport.SSHConfig, option string) transport.Conn {
	t.Helper()
	restrict := `f=$HOME/.ssh/authorized_keys; cp "$f" "$f.orig" && sed -i "s/^/$1 /" "$f"`
	if res, err := conn.Run(ctx, transport.Command{Argv: []string{"sh", "-c", restrict, "restrict", option}}); err != nil || res.ExitCode != 0 {
		t.Fatalf("restrict the key: %v %s", err, res.Stderr)
	}
	t.Cleanup(func() {
		conn.Run(ctx, transport.Command{Argv: []string{"sh", "-c", `mv "$HOME/.ssh/authorized_keys.orig" "$HOME/.ssh/authorized_keys"`}})
	})
	c, err := transport.DialSSH(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
