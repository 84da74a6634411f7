// Package inventory reads Ansible inventories unchanged (YAML, INI,
// executable scripts, directories of them, group_vars/ and host_vars/) and
// resolves them into hosts, groups and merged variables, as
// ansible-inventory does; the tests compare with it. It knows the names of
// the Ansible connection variables (ansible_host, ansible_port, ...) but
// nothing of SSH: the runner turns a Host into a transport target.
//
// # Sources
//
// LoadContext takes files, directories and "a,b," host lists. A file is a
// dynamic inventory when it is executable and starts with #! (script.go),
// a YAML inventory when it parses as a YAML mapping, and an INI inventory
// otherwise (ini.go). A directory loads its files in lexical order,
// skipping what Ansible skips (including *.ini and *.retry). group_vars/
// and host_vars/ beside each source are read last (vardirs.go); vars
// directories beside a playbook are not.
//
// # Format
//
// In YAML the top-level keys are groups, usually just "all". A group holds
// only hosts, children and vars; children nest to any depth and a group may
// have several parents; a host may be listed in several groups, as
// "web1:" (no vars) or "web1: {vars}", optionally with a port ("web1:2222").
// Host keys in YAML and INI may hold ranges: "mq[01:20].lan",
// "rack-[a:f]", "h[1:10:2]" (ranges.go). Hosts listed in no group but
// "all" belong to "ungrouped". Groups without a parent become children of
// "all". Inventory plugins (plugin: aws_ec2) are not supported.
//
// # Variables
//
// A host's variables merge as Ansible's do (see Host.Vars): inventory vars
// of "all", then of the other groups ordered by depth (longest path from
// "all"), then ansible_group_priority, then name, later overriding
// earlier; then group_vars/all, then the other groups' group_vars/ in the
// same order; then the host's inventory vars; then host_vars/. Merging is
// shallow.
//
// YAML values keep their types where YAML 1.1 (Ansible's loader) and YAML
// 1.2 agree: quoted strings, decimal and 0x integers, floats such as 1.5,
// true/false, null, lists and mappings. A plain scalar the two read
// differently (0755, 0o17, 1_000, 1e3, 1:30, yes/no/on/off, dates) stays the
// string as written, so tend never silently coerces a mode or a flag;
// inline vault (!vault) and !unsafe values are rejected. INI values are
// Python literals as in Ansible (pyliteral.go), except that the few whose
// reading differs from their text (1e3, 1_000, complex, bytes, sets) are
// refused rather than coerced.
//
// # Errors
//
// Every input error is an *Error located as "inventory: FILE:LINE:COL:
// FIELD: message": malformed YAML or INI, duplicate keys (both positions
// named), unknown group keys (with a suggestion), wrong types, group
// cycles, undeclared INI groups, bad ranges, variable names that are not
// identifiers, and unsafe connection values: a host name, ansible_host or
// ansible_user that starts with "-" or holds whitespace, control
// characters, shell or pattern syntax, an ansible_port outside 1..65535,
// or an ansible_connection that is not a name (which connection types
// exist is for package runner/connect to say). A failing inventory
// script is named with its exit status, stderr, or the line and column of
// its bad JSON.
//
// # Patterns
//
// Select resolves a play's hosts: pattern, and Limit and SelectLimit apply
// --limit, in Ansible's syntax (hosts, groups, globs, ~regex, !exclusion,
// &intersection, subscripts, @retry-file); see Select. Group exposes the
// groups as ansible-inventory --list shows them. Implicit is the
// inventory used when none is given.
package inventory
