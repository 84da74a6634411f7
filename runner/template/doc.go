// Package template evaluates the expressions of a playbook: when,
// changed_when, failed_when and until conditions, and the {{ ... }}
// templates in module arguments and variables.
//
// One engine serves both, github.com/expr-lang/expr, behind a thin
// translation of the Jinja idioms Ansible users write: filters
// (x | default(5), x | int, r.stdout | length), tests (x is defined,
// r is failed), True/False/None, Python string methods (s.startswith("a"))
// and the inline if (a if c else b). Jinja statements ({% ... %}) are
// rejected: tend runs expressions, not template programs.
//
// Undefined variables are errors (*UndefinedError names the variable)
// unless guarded with `is defined`, `default(...)` or `??`; the check
// happens when the variable is actually read, so `x is defined and x > 5`
// works as it does in Ansible. Map keys missing from a registered result or
// a variable are undefined in the same way.
//
// Expressions are compiled once per distinct text and cached; evaluation is
// safe for concurrent use by many hosts.
package template
