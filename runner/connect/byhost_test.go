package connect

import (
	"context"
	"strings"
	"testing"

	"tend/inventory"
	"tend/runner/transport"
)

// recorder is a connector that records the hosts it was asked for.
type recorder struct {
	name   string
	hosts  []string
	closed int
}

func (r *recorder) Connect(_ context.Context, h *inventory.Host) (transport.Conn, error) {
	r.hosts = append(r.hosts, h.Name)
	return transport.Local(), nil
}

func (r *recorder) Close() error { r.closed++; return nil }

func host(name, conn string) *inventory.Host {
	h := &inventory.Host{Name: name, Vars: map[string]any{}}
	if conn != "" {
		h.Vars["ansible_connection"] = conn
	}
	return h
}

// TestByHostChoice checks that each host goes to the connector of its
// type: -c for every host, else ansible_connection, else ssh.
func TestByHostChoice(t *testing.T) {
	for _, tc := range []struct {
		name, force      string
		hosts            []*inventory.Host
		wantSSH, wantLoc string
	}{
		{"default is ssh", "", []*inventory.Host{host("a", "")}, "a", ""},
		{"ansible_connection", "", []*inventory.Host{host("a", "local"), host("b", "ssh"), host("c", "")}, "b c", "a"},
		{"-c local wins", "local", []*inventory.Host{host("a", "ssh"), host("b", "")}, "", "a b"},
		{"-c ssh wins", "ssh", []*inventory.Host{host("a", "local")}, "a", ""},
		{"-c wins over an unknown type", "local", []*inventory.Host{host("a", "paramiko")}, "", "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ssh, loc := &recorder{}, &recorder{}
			b := &ByHost{Force: tc.force, By: map[string]Connector{"ssh": ssh, "local": loc}}
			if err := b.Check(tc.hosts); err != nil {
				t.Fatalf("Check: %v", err)
			}
			for _, h := range tc.hosts {
				c, err := b.Connect(context.Background(), h)
				if err != nil {
					t.Fatalf("%s: %v", h.Name, err)
				}
				c.Close()
			}
			if g := strings.Join(ssh.hosts, " "); g != tc.wantSSH {
				t.Errorf("ssh got %q, want %q", g, tc.wantSSH)
			}
			if g := strings.Join(loc.hosts, " "); g != tc.wantLoc {
				t.Errorf("local got %q, want %q", g, tc.wantLoc)
			}
			if err := b.Close(); err != nil || ssh.closed != 1 || loc.closed != 1 {
				t.Errorf("Close: %v; closed ssh %d, local %d times, want once each", err, ssh.closed, loc.closed)
			}
		})
	}
}

// TestByHostUnknownType checks the refusal of a connection type tend does
// not have: Check names every such host (before any is contacted), with a
// did-you-mean when one is close, and Connect refuses it too.
func TestByHostUnknownType(t *testing.T) {
	for _, tc := range []struct {
		name, force string
		hosts       []*inventory.Host
		want        string
	}{
		{"typo", "", []*inventory.Host{host("web1", "lcoal")},
			`connect: host web1: ansible_connection: connection type "lcoal" is not supported (did you mean "local"?)`},
		{"far from any", "", []*inventory.Host{host("web1", "ssh"), host("db1", "paramiko")},
			`connect: host db1: ansible_connection: connection type "paramiko" is not supported (want local or ssh)`},
		{"every host named", "", []*inventory.Host{host("a", "winrm"), host("b", "local"), host("c", "shh")},
			`connect: host a: ansible_connection: connection type "winrm" is not supported (want local or ssh)` + "\n" +
				`connect: host c: ansible_connection: connection type "shh" is not supported (did you mean "ssh"?)`},
		{"-c", "sssh", []*inventory.Host{host("a", "")},
			`connect: --connection: connection type "sssh" is not supported (did you mean "ssh"?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ssh, loc := &recorder{}, &recorder{}
			b := &ByHost{Force: tc.force, By: map[string]Connector{"ssh": ssh, "local": loc}}
			err := b.Check(tc.hosts)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Check error\n got %v\nwant %s", err, tc.want)
			}
			bad := tc.hosts[len(tc.hosts)-1]
			if _, err := b.Connect(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "is not supported") {
				t.Errorf("Connect %s: %v, want a refusal", bad.Name, err)
			}
			if len(ssh.hosts)+len(loc.hosts) > 0 {
				t.Errorf("a refused host was connected: ssh %v, local %v", ssh.hosts, loc.hosts)
			}
		})
	}
}

// TestByHostMissingConnector checks that a host whose type has no
// connector in this run (ssh under -c local is never built) is an error,
// not a panic.
func TestByHostMissingConnector(t *testing.T) {
	b := &ByHost{By: map[string]Connector{"local": Local{}}}
	_, err := b.Connect(context.Background(), host("web1", ""))
	if err == nil || err.Error() != "connect: host web1: no ssh connector in this run" {
		t.Errorf("got %v", err)
	}
}

// TestLocal checks the local connector runs commands here.
func TestLocal(t *testing.T) {
	c, err := Local{}.Connect(context.Background(), host("x", "local"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Run(context.Background(), transport.Command{Argv: []string{"echo", "here"}})
	if err != nil || strings.TrimSpace(string(res.Stdout)) != "here" {
		t.Errorf("got %q, %v", res.Stdout, err)
	}
	if err := (Local{}).Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
