// Package playbook reads tend playbooks: the Ansible-compatible subset of
// plays, tasks, handlers and verify steps that tend can run.
//
// Parsing is strict so that a mistake is reported before any host is
// contacted: malformed YAML, duplicate keys, misspelled keywords (with a
// "did you mean"), wrong types, and implicit YAML coercions (0755, yes,
// 1e3) all become an *Error carrying file:line:col. Several
// problems in one file are returned together as Errors, sorted. Error and
// Errors are the shared diag.Error and diag.List.
//
// The package is a leaf: it does not know which modules exist (the caller
// passes their names in ParseOptions) and does not validate module
// arguments itself (ParseOptions.Check lets the caller do it in the same
// pass); each module decodes its own arguments with yamlnode.DecodeStrict,
// which applies the same rules.
package playbook
