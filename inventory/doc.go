// Package inventory reads Ansible YAML inventories unchanged and resolves
// them into hosts, groups and merged variables. It knows the names of the
// Ansible connection variables (ansible_host, ansible_port, ...) but nothing
// of SSH: the runner turns a Host into a transport target.
//
// # Format
//
// The top-level keys of a file are groups, usually just "all". A group holds
// only hosts, children and vars; children nest to any depth and a group may
// have several parents; a host may be listed in several groups, as
// "web1:" (no vars) or "web1: {vars}", optionally with a port ("web1:2222").
// Hosts listed in no group but "all" belong to "ungrouped". Groups without a
// parent become children of "all". Host ranges (web[01:10]), INI files,
// inventory plugins and directories are not supported.
//
// # Variables
//
// A host's variables merge as Ansible's do: "all" group vars, then the other
// groups ordered by depth (longest path from "all"), then
// ansible_group_priority, then name, later overriding earlier; then the
// host's own vars. Several files merge into one inventory, a later file
// overriding an earlier one at the same level. Merging is shallow.
//
// Values keep their YAML types where YAML 1.1 (Ansible's loader) and YAML
// 1.2 agree: quoted strings, decimal and 0x integers, floats such as 1.5,
// true/false, null, lists and mappings. A plain scalar the two read
// differently (0755, 0o17, 1_000, 1e3, 1:30, yes/no/on/off, dates) stays the
// string as written, so tend never silently coerces a mode or a flag;
// inline vault (!vault) and !unsafe values are rejected.
//
// # Errors
//
// Every input error is an *Error located as "inventory: FILE:LINE:COL:
// FIELD: message": malformed YAML, duplicate keys (both positions named),
// unknown group keys (with a suggestion), wrong types, group cycles,
// variable names that are not identifiers, and unsafe connection values: a
// host name, ansible_host or ansible_user that starts with "-" or holds
// whitespace, control characters, shell or pattern syntax, an ansible_port
// outside 1..65535, or an ansible_connection other than ssh or local.
//
// # Patterns
//
// Select resolves a play's hosts: pattern and Limit applies --limit; see
// Select for the syntax. Implicit is the inventory used when none is given.
package inventory
