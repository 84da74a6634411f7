package modules

import (
	"fmt"
	"sync"
)

// builtin lists every module tend knows, by the name a task uses. Each
// module file adds its one line here.
func builtin() map[string]Spec {
	return map[string]Spec{
		"command":             commandSpec,
		"shell":               shellSpec,
		"sysctl":              sysctlSpec,
		"tcp_states":          tcpStatesSpec,
		"ufw":                 ufwSpec,
		"haproxy":             haproxySpec,
		"service":             serviceSpec,
		"wait_for":            waitForSpec,
		"assert":              assertSpec,
		"lineinfile":          lineinfileSpec,
		"blockinfile":         blockinfileSpec,
		"replace":             replaceSpec,
		"file":                fileSpec,
		"stat":                statSpec,
		"find":                findSpec,
		"copy":                copySpec,
		"template":            templateSpec,
		"setup":               setupSpec,
		"debug":               debugSpec,
		"set_fact":            setFactSpec,
		"add_host":            addHostSpec,
		"group_by":            groupBySpec,
		"fail":                failSpec,
		"pause":               pauseSpec,
		"meta":                metaSpec,
		"uri":                 uriSpec,
		"systemd":             systemdSpec,
		"systemd_service":     systemdServiceSpec,
		"reboot":              rebootSpec,
		"apt":                 aptSpec,
		"dnf":                 dnfSpec,
		"yum":                 yumSpec,
		"package":             packageSpec,
		"async_status":        asyncStatusSpec,
		"wait_for_connection": waitConnSpec,
		"get_url":             getURLSpec,
		"tempfile":            tempfileSpec,
		"authorized_key":      authorizedKeySpec,
		"fetch":               fetchSpec,
		"unarchive":           unarchiveSpec,
		"archive":             archiveSpec,
		"slurp":               slurpSpec,
		"package_facts":       packageFactsSpec,
		"service_facts":       serviceFactsSpec,
		"pip":                 pipModuleSpec,
		"pam_limits":          pamLimitsSpec,
	}
}

// registered holds the modules added by Register (tests only).
var registered struct {
	sync.Mutex
	m map[string]Spec
}

// Register adds a module under name, for tests: the engine's own tests run
// playbooks with a small module whose effects they can observe on an
// in-memory host. tend itself registers nothing here; its modules are the
// builtin ones. Register panics if name is already taken.
func Register(name string, s Spec) {
	registered.Lock()
	defer registered.Unlock()
	_, taken := registered.m[name]
	if _, ok := builtin()[name]; ok || taken {
		panic(fmt.Sprintf("modules: Register: %q is already registered", name))
	}
	if registered.m == nil {
		registered.m = map[string]Spec{}
	}
	registered.m[name] = s
}

// all is builtin plus the registered modules.
func all() map[string]Spec {
	m := builtin()
	registered.Lock()
	defer registered.Unlock()
	for n, s := range registered.m {
		m[n] = s
	}
	return m
}
