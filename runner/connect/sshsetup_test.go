package connect

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"tend/inventory"
	"tend/runner/connect/sshconfig"
	"tend/runner/transport"
)

// setupWith parses conf (with $DIR replaced) into an SSH connector; HOME is an
// empty directory so no default identity is found.
func setupWith(t *testing.T, o SSHOptions, conf string) (*SSH, string, *[]string) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", "")
	for _, k := range []string{"cfgkey", "bastionkey"} {
		if err := os.WriteFile(filepath.Join(dir, k), []byte("key"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var warns []string
	o.Warn = func(s string) { warns = append(warns, s) }
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(conf, "$DIR", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	o.SSHConfig = path
	s, err := NewSSH(o)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir, &warns
}

const precedenceConfig = `Host web
  HostName 10.1.1.1
  Port 2222
  User cfguser
  IdentityFile $DIR/cfgkey
  UserKnownHostsFile $DIR/kh_%h
  ConnectTimeout 3
  ServerAliveInterval 5
  ServerAliveCountMax 2
Host strict
  StrictHostKeyChecking yes
Host lax
  StrictHostKeyChecking no
Host jumped
  ProxyJump ops@bastion:2200
Host pc
  ProxyCommand nc %h %p
Host missingkey
  IdentityFile $DIR/nope
Host bastion
  HostName 10.0.0.1
  User jumpcfg
  IdentityFile $DIR/bastionkey
`

// got is the part of a resolved SSHConfig the precedence rules decide.
type got struct {
	Host, User, KnownHosts, Jump string
	Port                         int
	Keys                         []string
	AcceptNew                    bool
	Timeout, Keepalive           time.Duration
	KeepaliveMax                 int
}

func summarize(c transport.SSHConfig, jump string) got {
	return got{Host: c.Host, User: c.User, KnownHosts: c.KnownHostsFile, Jump: jump, Port: c.Port,
		Keys: c.KeyFiles, AcceptNew: c.AcceptNewHostKeys, Timeout: c.DialTimeout,
		Keepalive: c.KeepaliveInterval, KeepaliveMax: c.KeepaliveCountMax}
}

func TestSSHPrecedence(t *testing.T) {
	inv := map[string]any{"ansible_host": "10.2.2.2", "ansible_port": 22, "ansible_user": "invuser",
		"ansible_ssh_private_key_file": "/inv/key"}
	cli := SSHOptions{User: "cliuser", PrivateKey: "/cli/key", KnownHosts: "/cli/kh", Timeout: 9 * time.Second}
	for _, tc := range []struct {
		name string
		host string
		vars map[string]any
		o    SSHOptions
		want func(dir string) got
	}{
		{"ssh_config over defaults", "web", nil, SSHOptions{}, func(d string) got {
			return got{Host: "10.1.1.1", Port: 2222, User: "cfguser", Keys: []string{d + "/cfgkey"},
				KnownHosts: d + "/kh_10.1.1.1", Timeout: 3 * time.Second, Keepalive: 5 * time.Second, KeepaliveMax: 2}
		}},
		{"inventory over ssh_config", "web", inv, SSHOptions{}, func(d string) got {
			// ansible_host is dialed: the block for the inventory name gives
			// no HostName, only what the inventory does not set.
			return got{Host: "10.2.2.2", Port: 22, User: "invuser", Keys: []string{"/inv/key"},
				KnownHosts: d + "/kh_10.2.2.2", Timeout: 3 * time.Second, Keepalive: 5 * time.Second, KeepaliveMax: 2}
		}},
		{"command line over ssh_config", "web", nil, cli, func(d string) got {
			return got{Host: "10.1.1.1", Port: 2222, User: "cliuser", Keys: []string{"/cli/key"},
				KnownHosts: "/cli/kh", Timeout: 9 * time.Second, Keepalive: 5 * time.Second, KeepaliveMax: 2}
		}},
		{"inventory over command line", "web", inv, cli, func(d string) got {
			return got{Host: "10.2.2.2", Port: 22, User: "invuser", Keys: []string{"/inv/key"},
				KnownHosts: "/cli/kh", Timeout: 9 * time.Second, Keepalive: 5 * time.Second, KeepaliveMax: 2}
		}},
		{"defaults", "other", nil, SSHOptions{}, func(d string) got {
			return got{Host: "other", Port: 22, User: "root"}
		}},
		{"ansible_host is the name looked up", "alias1", map[string]any{"ansible_host": "web"}, SSHOptions{}, func(d string) got {
			return got{Host: "10.1.1.1", Port: 2222, User: "cfguser", Keys: []string{d + "/cfgkey"},
				KnownHosts: d + "/kh_10.1.1.1", Timeout: 3 * time.Second, Keepalive: 5 * time.Second, KeepaliveMax: 2}
		}},
		{"StrictHostKeyChecking yes", "strict", nil, SSHOptions{}, func(d string) got {
			return got{Host: "strict", Port: 22, User: "root"}
		}},
		{"--accept-new-host-keys over StrictHostKeyChecking yes", "strict", nil, SSHOptions{AcceptNewHostKeys: true}, func(d string) got {
			return got{Host: "strict", Port: 22, User: "root", AcceptNew: true}
		}},
		{"StrictHostKeyChecking no is accept-new", "lax", nil, SSHOptions{}, func(d string) got {
			return got{Host: "lax", Port: 22, User: "root", AcceptNew: true}
		}},
		{"ProxyJump", "jumped", nil, SSHOptions{}, func(d string) got {
			return got{Host: "jumped", Port: 22, User: "root", Jump: "ops@bastion:2200"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, dir, warns := setupWith(t, tc.o, precedenceConfig)
			cfg, jump, err := s.target(&inventory.Host{Name: tc.host, Vars: tc.vars})
			if err != nil {
				t.Fatal(err)
			}
			if g, w := summarize(cfg, jump), tc.want(dir); !reflect.DeepEqual(g, w) {
				t.Errorf("got  %+v\nwant %+v", g, w)
			}
			if tc.host == "lax" && (len(*warns) != 1 || !strings.Contains((*warns)[0], "treated as accept-new")) {
				t.Errorf("StrictHostKeyChecking no: warnings %q", *warns)
			}
			if tc.host != "lax" && len(*warns) > 0 {
				t.Errorf("unexpected warnings %q", *warns)
			}
		})
	}
}

func TestSSHTargetErrors(t *testing.T) {
	s, _, _ := setupWith(t, SSHOptions{}, precedenceConfig)
	for host, want := range map[string]string{
		"pc":         "ProxyCommand is not supported",
		"missingkey": "no IdentityFile exists",
	} {
		_, _, err := s.target(&inventory.Host{Name: host})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", host, err, want)
		}
	}
	// The inventory's key wins, so a missing ssh_config key does not matter.
	if _, _, err := s.target(&inventory.Host{Name: "missingkey", Vars: map[string]any{"ansible_ssh_private_key_file": "/k"}}); err != nil {
		t.Errorf("inventory key given: %v", err)
	}
}

func TestSSHJumpHop(t *testing.T) {
	// -u and --private-key are the target's: a jump host gets its
	// ProxyJump entry, its own ssh_config, then tend's defaults.
	s, dir, _ := setupWith(t, SSHOptions{User: "cliuser", PrivateKey: "/cli/key", KnownHosts: "/cli/kh"}, precedenceConfig)
	for _, tc := range []struct {
		hop  sshconfig.Hop
		want got
	}{
		{sshconfig.Hop{User: "ops", Host: "bastion", Port: 2200},
			got{Host: "10.0.0.1", Port: 2200, User: "ops", Keys: []string{dir + "/bastionkey"}, KnownHosts: "/cli/kh"}},
		{sshconfig.Hop{Host: "bastion"},
			got{Host: "10.0.0.1", Port: 22, User: "jumpcfg", Keys: []string{dir + "/bastionkey"}, KnownHosts: "/cli/kh"}},
		{sshconfig.Hop{Host: "plain"},
			got{Host: "plain", Port: 22, User: "root", KnownHosts: "/cli/kh"}},
		{sshconfig.Hop{Host: "jumped"},
			got{Host: "jumped", Port: 22, User: "root", KnownHosts: "/cli/kh", Jump: "ops@bastion:2200"}},
	} {
		cfg, own, err := s.hop(tc.hop)
		if err != nil {
			t.Fatal(err)
		}
		if g := summarize(cfg, own); !reflect.DeepEqual(g, tc.want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", tc.hop, g, tc.want)
		}
	}
}

func TestInventoryJump(t *testing.T) {
	for _, tc := range []struct {
		host, args, extra, want, err, warn string
	}{
		{host: "other", args: "-o ProxyJump=ops@b1:2200", want: "ops@b1:2200"},
		{host: "other", args: "-J b1,b2", want: "b1,b2"},
		{host: "other", args: "-Jb1", want: "b1"},
		{host: "other", args: `-o "ProxyJump b1"`, want: "b1"},
		{host: "other", args: "-oProxyJump=b1 -o ProxyJump=b2", want: "b1"},
		{host: "other", args: "", extra: "-J b3", want: "b3"},
		// On Ansible's command line, so over ssh_config.
		{host: "jumped", args: "-J b1", want: "b1"},
		{host: "jumped", args: "-o ProxyJump=none", want: ""},
		{host: "jumped", args: "", want: "ops@bastion:2200"},
		{host: "pc", args: "-J b1", want: "b1"},
		{host: "other", args: "-o ProxyCommand='ssh -W %h:%p b'", err: "ProxyCommand is not supported"},
		{host: "other", args: "-o StrictHostKeyChecking=no -C -J b1", want: "b1",
			warn: "ansible_ssh_common_args: only ProxyJump (-J, -o ProxyJump=) is honoured; ignoring -o StrictHostKeyChecking=no -C"},
		{host: "other", args: "-o 'unterminated", err: "ansible_ssh_common_args"},
	} {
		s, _, warns := setupWith(t, SSHOptions{}, precedenceConfig)
		vars := map[string]any{"ansible_ssh_common_args": tc.args, "ansible_ssh_extra_args": tc.extra}
		_, jump, err := s.target(&inventory.Host{Name: tc.host, Vars: vars})
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %q: error %v, want %q", tc.host, tc.args, err, tc.err)
			}
			continue
		case err != nil:
			t.Errorf("%s %q: %v", tc.host, tc.args, err)
			continue
		}
		if jump != tc.want {
			t.Errorf("%s %q: jump %q, want %q", tc.host, tc.args, jump, tc.want)
		}
		if got := strings.Join(*warns, "\n"); got != tc.warn {
			t.Errorf("%s %q: warnings %q, want %q", tc.host, tc.args, got, tc.warn)
		}
	}
}
