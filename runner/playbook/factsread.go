package playbook

import (
	"regexp"
	"strings"
)

// Facts cost each host a dozen programs and a third of a short run's remote
// work, so a play that gathers them by default (no gather_facts: true written)
// gathers them only when something could read them (runner: factsuse.go).
// MentionsFacts is that test for one text: conservative, it says yes on
// any name a fact could be read through, also in comments.

// nameRE matches a Jinja2 name, with what follows it (a YAML key's colon).
var nameRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*(\s*:)?`)

// notFacts are the ansible_ names that are magic or connection variables,
// never facts (Ansible's special variables and connection variables).
var notFacts = map[string]bool{
	"ansible_check_mode": true, "ansible_diff_mode": true, "ansible_forks": true, "ansible_verbosity": true,
	"ansible_play_hosts": true, "ansible_play_hosts_all": true, "ansible_play_batch": true, "ansible_play_name": true,
	"ansible_play_role_names": true, "ansible_role_names": true, "ansible_role_name": true, "ansible_collection_name": true,
	"ansible_parent_role_names": true, "ansible_parent_role_paths": true, "ansible_dependent_role_names": true,
	"ansible_limit": true, "ansible_run_tags": true, "ansible_skip_tags": true, "ansible_version": true,
	"ansible_loop": true, "ansible_loop_var": true, "ansible_index_var": true,
	"ansible_failed_task": true, "ansible_failed_result": true, "ansible_inventory_sources": true,
	"ansible_playbook_python": true, "ansible_config_file": true, "ansible_search_path": true,
	"ansible_host": true, "ansible_port": true, "ansible_user": true, "ansible_password": true,
	"ansible_connection": true, "ansible_private_key_file": true, "ansible_timeout": true,
	"ansible_ssh_host": true, "ansible_ssh_port": true, "ansible_ssh_user": true, "ansible_ssh_pass": true,
	"ansible_ssh_private_key_file": true, "ansible_ssh_common_args": true, "ansible_ssh_extra_args": true,
	"ansible_become": true, "ansible_become_user": true, "ansible_become_method": true,
	"ansible_become_password": true, "ansible_become_pass": true, "ansible_become_flags": true,
	"ansible_python_interpreter": true, "ansible_shell_type": true, "ansible_shell_executable": true,
	"ansible_group_priority": true,
}

// plainFactRE matches what follows ansible_facts when it reads a fact no
// gathering sets: package_facts' packages and service_facts' services
// (ansible_facts.packages, ansible_facts['services']).
var plainFactRE = regexp.MustCompile(`^\s*(\.\s*(packages|services)\b|\[\s*(['"])(packages|services)['"]\s*\])`)

// MentionsFacts reports whether text could read a fact: a name starting
// ansible_ other than a magic or connection variable (ansible_hostname,
// ansible_facts), hostvars, vars other than as a YAML key (vars['x'],
// vars.x), or a lookup or query (lookup('vars', ...) reads by a computed
// name; a template lookup renders a file).
func MentionsFacts(text string) bool {
	for _, loc := range nameRE.FindAllStringSubmatchIndex(text, -1) {
		if loc[0] > 0 && text[loc[0]-1] == '.' {
			continue // an attribute (x.vars, ansible.posix), not a variable
		}
		name, key := text[loc[0]:loc[1]], loc[2] >= 0
		if key {
			name = strings.TrimRight(name[:len(name)-1], " \t")
		}
		switch {
		case name == "ansible_facts" && !key && plainFactRE.MatchString(text[loc[1]:]):
			continue
		case strings.HasPrefix(name, "ansible_") && !notFacts[name]:
			return true
		case name == "hostvars", name == "lookup", name == "query", name == "q" && !key:
			return true
		case name == "vars" && !key:
			return true
		}
	}
	return false
}
