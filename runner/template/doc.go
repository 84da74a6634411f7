// Package template renders Jinja2 templates as Ansible does and evaluates
// the expressions of a playbook: when, changed_when, failed_when and until
// conditions, and the templates in module arguments and variables.
//
// Expressions are translated from Jinja's syntax into expr-lang
// (github.com/expr-lang/expr) and compiled once to its bytecode: filters
// (x | default(5)) and tests (r is failed) become calls of Go functions,
// Python's operators and truthiness (~, //, **, %, and/or yielding an
// operand, a if c else b) become calls too, and Python string and dict
// methods map onto functions. Statements ({% if %}, {% for %}, {% set %},
// {% raw %}) are parsed into a small tree run by an executor. Lookups
// (env, file, vars, first_found) run on the controller, as in Ansible.
//
// Every filter, test, function, method and lookup is resolved when a
// template is parsed (Check, CheckTemplate): an unknown one is an error
// with a did-you-mean before any host is contacted. Templates read data
// only (mapping keys, list items), never Go fields or methods.
//
// Undefined variables are errors (*UndefinedError names the variable)
// unless guarded with `is defined`, `default(...)` or `??`; the check
// happens when the variable is actually read, so `x is defined and x > 5`
// works as it does in Ansible. Map keys missing from a registered result or
// a variable are undefined in the same way.
//
// Templates and expressions are compiled once per distinct text and
// cached; evaluation is safe for concurrent use by many hosts, and never
// writes the caller's variables. templatetest holds the compatibility
// table run against ansible-core's own templating.
package template
