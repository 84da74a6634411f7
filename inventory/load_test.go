package inventory

import (
	"reflect"
	"slices"
	"testing"

	"tend/internal/omap"
)

func TestLoadSiteStructure(t *testing.T) {
	inv, err := Load("testdata/site.yml")
	if err != nil {
		t.Fatal(err)
	}
	wantHosts := []string{"bastion.example.com", "web1.example.com", "web2.example.com", "db1.example.com", "stage1.example.com"}
	if got := names(inv.Hosts()); !reflect.DeepEqual(got, wantHosts) {
		t.Errorf("Hosts() = %v, want file order %v", got, wantHosts)
	}
	wantGroups := []string{"all", "ungrouped", "web", "db", "prod", "eu", "staging"}
	if got := inv.GroupNames(); !reflect.DeepEqual(got, wantGroups) {
		t.Errorf("GroupNames() = %v, want %v", got, wantGroups)
	}
	// Groups are in precedence order: depth (eu 1, prod 2, db/web 3), then name.
	for _, tc := range []struct {
		host   string
		groups []string
	}{
		{"bastion.example.com", []string{"all", "ungrouped"}},
		{"web1.example.com", []string{"all", "eu", "prod", "web"}},
		{"web2.example.com", []string{"all", "eu", "prod", "db", "web"}},
		{"db1.example.com", []string{"all", "eu", "prod", "db"}},
		{"stage1.example.com", []string{"all", "staging"}},
	} {
		h, ok := inv.Host(tc.host)
		if !ok {
			t.Errorf("Host(%q) not found", tc.host)
			continue
		}
		if !reflect.DeepEqual(h.Groups, tc.groups) {
			t.Errorf("%s.Groups = %v, want %v", tc.host, h.Groups, tc.groups)
		}
	}
	h, _ := inv.Host("web2.example.com")
	if got, want := h.GroupNames(), []string{"db", "eu", "prod", "web"}; !reflect.DeepEqual(got, want) {
		t.Errorf("GroupNames() = %v, want %v", got, want)
	}
	if _, ok := inv.Host("nosuch"); ok {
		t.Error("Host(nosuch) found")
	}
}

func TestLoadForms(t *testing.T) {
	inv := mustLoad(t, `
web:                  # top-level group without all: becomes a child of all
  hosts: solo         # a single host as a string, as Ansible allows
other:
  children: web       # a single child as a string
  hosts:
    h2:2222:
    "[2001:db8::1]:2200":
    2001:db8::2:
    10.0.0.9:
      ansible_port: 2022   # host vars override the port in the key
`)
	if got, want := names(inv.Hosts()), []string{"solo", "h2", "2001:db8::1", "2001:db8::2", "10.0.0.9"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("hosts = %v, want %v", got, want)
	}
	solo, _ := inv.Host("solo")
	if want := []string{"all", "other", "web"}; !reflect.DeepEqual(solo.Groups, want) {
		t.Errorf("solo.Groups = %v, want %v", solo.Groups, want)
	}
	for name, port := range map[string]int{"solo": 0, "h2": 2222, "2001:db8::1": 2200, "2001:db8::2": 0, "10.0.0.9": 2022} {
		h, _ := inv.Host(name)
		if h.Port() != port {
			t.Errorf("%s.Port() = %d, want %d", name, h.Port(), port)
		}
	}
}

func TestUngrouped(t *testing.T) {
	inv := mustLoad(t, `
all:
  hosts:
    a:
    b:
  children:
    ungrouped:
      hosts:
        c:
        b:
    g:
      hosts:
        c:
`)
	want := map[string][]string{
		"a": {"all", "ungrouped"},
		"b": {"all", "ungrouped"},
		"c": {"all", "g"}, // listed under ungrouped and g: leaves ungrouped
	}
	for name, groups := range want {
		h, _ := inv.Host(name)
		if !reflect.DeepEqual(h.Groups, groups) {
			t.Errorf("%s.Groups = %v, want %v", name, h.Groups, groups)
		}
	}
}

func TestImplicit(t *testing.T) {
	inv := Implicit()
	hs := inv.Hosts()
	if len(hs) != 1 || hs[0].Name != "localhost" {
		t.Fatalf("Implicit().Hosts() = %v", names(hs))
	}
	h := hs[0]
	if h.Connection() != "local" || h.Address() != "localhost" || h.Port() != 0 || h.User() != "" {
		t.Errorf("implicit localhost: connection %q address %q port %d user %q", h.Connection(), h.Address(), h.Port(), h.User())
	}
	if !slices.Equal(h.Groups, []string{"all", "ungrouped"}) {
		t.Errorf("groups = %v", h.Groups)
	}
	sel, unmatched, err := inv.Select("all")
	if err != nil || len(sel) != 1 || len(unmatched) != 0 {
		t.Errorf("Select(all) = %v, %v, %v", names(sel), unmatched, err)
	}
}

func TestConnectionFields(t *testing.T) {
	inv := mustLoad(t, `
all:
  vars:
    ansible_user: fleet
  hosts:
    plain:
    full:
      ansible_host: 192.0.2.7
      ansible_port: "2200"
      ansible_user: admin
      ansible_ssh_private_key_file: ~/.ssh/fleet
      ansible_connection: ssh
    legacy:
      ansible_host: new.example.com
      ansible_ssh_host: legacy.example.com
      ansible_ssh_port: 2201
      ansible_ssh_user: old
      ansible_private_key_file: /k
    local:
      ansible_connection: local
    docker:
      ansible_connection: community.docker.docker
`)
	for _, tc := range []struct {
		host, addr, user, key, conn string
		port                        int
	}{
		{"plain", "plain", "fleet", "", "", 0},
		{"full", "192.0.2.7", "admin", "~/.ssh/fleet", "ssh", 2200},
		{"legacy", "legacy.example.com", "old", "/k", "", 2201},
		{"local", "local", "fleet", "", "local", 0},
		// A name tend has no connector for is the connector's to refuse.
		{"docker", "docker", "fleet", "", "community.docker.docker", 0},
	} {
		h, _ := inv.Host(tc.host)
		got := []any{h.Address(), h.User(), h.PrivateKeyFile(), h.Connection(), h.Port()}
		want := []any{tc.addr, tc.user, tc.key, tc.conn, tc.port}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: address, user, key, connection, port = %v, want %v", tc.host, got, want)
		}
	}
}

func TestHostsDoNotShareValues(t *testing.T) {
	inv := mustLoad(t, "all:\n  vars:\n    m: {k: v}\n  hosts:\n    a:\n    b:\n")
	a, _ := inv.Host("a")
	b, _ := inv.Host("b")
	a.Vars["m"].(*omap.Map).Plain()["k"] = "changed" // read-only by contract; a copy anyway
	if v, _ := b.Vars["m"].(*omap.Map).Get("k"); v != "v" {
		t.Error("hosts share nested variable values")
	}
}

// TestVarsKeepOrder: a mapping in inventory variables keeps its written
// order, as Ansible's dicts do (a loop over it writes lines in that order).
func TestVarsKeepOrder(t *testing.T) {
	inv := mustLoad(t, "all:\n  vars:\n    tuning: {z: 1, a: {y: 2, b: 3}, m: 4}\n  hosts:\n    a:\n")
	h, _ := inv.Host("a")
	m, ok := h.Vars["tuning"].(*omap.Map)
	if !ok {
		t.Fatalf("tuning is %T, want *omap.Map", h.Vars["tuning"])
	}
	inner, _ := m.Get("a")
	got := append(slices.Clone(m.Keys()), inner.(*omap.Map).Keys()...)
	if want := []string{"z", "a", "m", "y", "b"}; !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
}
