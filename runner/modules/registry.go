package modules

// builtin lists every module tend knows, by the name a task uses. Each
// module file adds its one line here.
func builtin() map[string]Spec {
	return map[string]Spec{
		"command":    commandSpec,
		"shell":      shellSpec,
		"sysctl":     sysctlSpec,
		"tcp_states": tcpStatesSpec,
		"service":    serviceSpec,
		"wait_for":   waitForSpec,
		"assert":     assertSpec,
	}
}
