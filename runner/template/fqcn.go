package template

import (
	"fmt"
	"sort"
	"strings"
)

// ansibleBuiltinFilters and ansibleBuiltinTests are the names ansible-core
// 2.14 itself ships as filter and test plugins (ansible/plugins/filter and
// test): only these answer to ansible.builtin.NAME (or ansible.legacy.NAME).
// Jinja's own filters and tests (lower, map, odd, ...) have no such name:
// Ansible fails with `Could not load "ansible.builtin.lower"`, and so does
// tend, before any host is contacted.
var ansibleBuiltinFilters = setOf(`b64decode b64encode basename bool checksum combinations combine
	comment dict2items difference dirname expanduser expandvars extract fileglob flatten from_json
	from_yaml from_yaml_all hash human_readable human_to_bytes intersect items2dict log mandatory
	md5 password_hash path_join permutations pow product quote random realpath regex_escape
	regex_findall regex_replace regex_search rekey_on_member relpath root sha1 shuffle split
	splitext strftime subelements symmetric_difference ternary to_datetime to_json to_nice_json
	to_nice_yaml to_uuid to_yaml type_debug union unique unvault urldecode urlsplit vault
	win_basename win_dirname win_splitdrive zip zip_longest`)

var ansibleBuiltinTests = setOf(`abs all any change changed contains directory exists failed
	failure falsy file finished is_abs is_dir is_file is_link is_mount is_same_file isnan issubset
	issuperset link link_exists match mount nan reachable regex same_file search skip skipped
	started subset succeeded success successful superset truthy unreachable uri url urn
	vault_encrypted version version_compare`)

// collectionFilters are the filters of other collections tend has, by
// their fully qualified name; the short name (json_query) is the same
// filter, as Ansible's routing makes it.
var collectionFilters = map[string]string{
	"community.general.json_query": "json_query",
}

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// qualifiedName resolves a dotted filter or test name (ansible.builtin.to_json,
// community.general.json_query) to the short name of tend's table, or
// explains why it is refused.
func qualifiedName(what, name string, table map[string]string) (string, error) {
	if short, ok := strings.CutPrefix(name, "ansible.builtin."); ok {
		return builtinName(what, name, short, table)
	}
	if short, ok := strings.CutPrefix(name, "ansible.legacy."); ok {
		return builtinName(what, name, short, table)
	}
	if what == "filter" {
		if short, ok := collectionFilters[name]; ok {
			return short, nil
		}
	}
	if i := strings.LastIndexByte(name, '.'); i > 0 && strings.Count(name, ".") == 2 {
		var has []string
		for full := range collectionFilters {
			if what == "filter" && strings.HasPrefix(full, name[:i+1]) {
				has = append(has, full)
			}
		}
		if len(has) == 0 {
			return "", fmt.Errorf("unknown %s %q: tend has no %s of the collection %s", what, name, what+"s", name[:i])
		}
		sort.Strings(has)
		return "", fmt.Errorf("unknown %s %q: of the collection %s tend has %s", what, name, name[:i], strings.Join(has, ", "))
	}
	return "", fmt.Errorf("unknown %s %q", what, name)
}

func builtinName(what, name, short string, table map[string]string) (string, error) {
	plugins := ansibleBuiltinFilters
	if what == "test" {
		plugins = ansibleBuiltinTests
	}
	if !plugins[short] {
		if _, ok := table[short]; ok {
			return "", fmt.Errorf("unknown %s %q: %s is Jinja's own %s, not an Ansible plugin (Ansible cannot load %q either); write %s", what, name, short, what, name, short)
		}
		return "", unknownName(what, name, table)
	}
	if _, ok := table[short]; !ok {
		return "", unknownName(what, short, table)
	}
	return short, nil
}
