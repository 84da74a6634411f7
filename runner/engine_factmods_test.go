package runner

import (
	"context"
	"testing"

	"tend/internal/memhost"
	"tend/runner/modules"
	"tend/runner/transport"
)

// factModsAPT is package_facts' command output for one package, coreutils.
const factModsAPT = "@@tend apt amd64\ninstalled\tcoreutils\t9.1-1\tamd64\tutils\n@@tend policy\nPackage files:\n" +
	" 100 /var/lib/dpkg/status\n     release a=now\n@@tend installed\ncoreutils:\n  Installed: 9.1-1\n" +
	"  Candidate: 9.1-1\n  Version table:\n *** 9.1-1 100\n        100 /var/lib/dpkg/status\n"

// factModsFleet is a fleet whose hosts answer package_facts and
// service_facts (ssh running under SysV).
func factModsFleet(names ...string) *fleet {
	f := newFleet(names...)
	f.handle(memhost.Script(modules.PackageFactsScript), func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
		return memhost.OK(factModsAPT), nil
	})
	f.handle(memhost.Script(modules.ServiceFactsScript), func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
		return memhost.OK("@@tend sysv 0 1\n [ + ]  ssh\n [ - ]  cron\n"), nil
	})
	return f
}

// TestEngineFactModules: package_facts' and service_facts' facts are
// ansible_facts.packages / .services and the variables packages and
// services (never ansible_packages, as Ansible injects a fact under the
// name its module gave it), registered too, in check mode as without,
// visible through hostvars, given to the delegate with delegate_facts; reading them does not make the play's
// default fact gathering run (no gathering sets them).
func TestEngineFactModules(t *testing.T) {
	src := `- hosts: all
  tasks:
    - package_facts:
        manager: auto
    - ansible.builtin.service_facts:
      register: sf
    - assert:
        that:
          - ansible_facts.packages['coreutils'][0].version == '9.1-1'
          - packages.coreutils[0].source == 'apt'
          - services.ssh.state == 'running'
          - ansible_facts['services'].cron.state == 'stopped'
          - sf.ansible_facts.services.ssh.source == 'sysv'
`
	for _, check := range []bool{false, true} {
		f := factModsFleet("h1", "h2")
		sum, rec := runOn(t, f, src, Options{Check: check})
		if len(sum.Failed)+len(sum.Unreachable) > 0 {
			t.Fatalf("check %v: failed %v unreachable %v", check, sum.Failed, sum.Unreachable)
		}
		for _, n := range f.names {
			if f.hosts[n].Ran(memhost.Script(modules.FactsScript)) > 0 {
				t.Errorf("check %v: %s: facts gathered, though only package_facts' and service_facts' are read", check, n)
			}
			for _, task := range []string{"package_facts", "service_facts", "assert"} {
				if r := rec.result(t, n, task, PhaseTask); r.Status != StatusOK {
					t.Errorf("check %v: %s: %s %s, want ok", check, n, task, r.Status)
				}
			}
		}
	}

	hv := `- hosts: all
  gather_facts: false
  tasks:
    - package_facts:
      when: inventory_hostname == 'h1'
    - assert:
        that:
          - hostvars['h1'].packages.coreutils[0].version == '9.1-1'
          - hostvars['h1'].ansible_facts.packages | length == 1
          - hostvars['h2'].packages is not defined
          - ansible_packages is not defined
`
	f := factModsFleet("h1", "h2")
	if sum, _ := runOn(t, f, hv, Options{}); len(sum.Failed)+len(sum.Unreachable) > 0 {
		t.Fatalf("hostvars: failed %v", sum.Failed)
	}

	delegated := `- hosts: h1
  gather_facts: false
  tasks:
    - service_facts:
      delegate_to: h2
      delegate_facts: true
    - assert:
        that:
          - services is not defined
          - hostvars['h2'].services.ssh.state == 'running'
`
	f = factModsFleet("h1", "h2")
	if sum, _ := runOn(t, f, delegated, Options{}); len(sum.Failed)+len(sum.Unreachable) > 0 {
		t.Fatalf("delegate_facts: failed %v", sum.Failed)
	}
	if f.hosts["h1"].Ran(memhost.Script(modules.ServiceFactsScript)) != 0 || f.hosts["h2"].Ran(memhost.Script(modules.ServiceFactsScript)) != 1 {
		t.Errorf("delegate_facts: service_facts ran on h1 %d times, on h2 %d, want 0 and 1",
			f.hosts["h1"].Ran(memhost.Script(modules.ServiceFactsScript)), f.hosts["h2"].Ran(memhost.Script(modules.ServiceFactsScript)))
	}
}
