package inventory

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"tend/internal/omap"
)

// unsafeChars may not appear in a host name, ansible_host or ansible_user:
// shell syntax, quotes and template braces, plus pattern characters that
// would make a host unselectable. Whitespace, control characters and a
// leading "-" (an ssh option) are refused as well.
const unsafeChars = ";|&$`'\"<>()\\{}*?[]!~,"

// checkSafe refuses a name that could turn into an ssh option or shell
// syntax if it ever reached a command line (faults row 22).
func checkSafe(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s is empty", what)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s %q is not valid UTF-8", what, s)
	case strings.HasPrefix(s, "-"):
		return fmt.Errorf("%s %q must not start with \"-\" (it could be read as an ssh option)", what, s)
	case strings.Contains(s, "{{") || strings.Contains(s, "{%"):
		return fmt.Errorf("%s %q is a template; templates are not supported here", what, s)
	}
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			return fmt.Errorf("%s %q contains whitespace or a line break", what, s)
		case unicode.IsControl(r):
			return fmt.Errorf("%s %q contains control character %U", what, s, r)
		case strings.ContainsRune(unsafeChars, r):
			return fmt.Errorf("%s %q contains %q, which is not allowed", what, s, r)
		}
	}
	return nil
}

// groupNameOK is what a group name may hold.
func groupNameOK(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '.'
}

// checkGroupName refuses group names that patterns could not select.
func checkGroupName(name string) error {
	if name == "" || strings.HasPrefix(name, "-") || strings.IndexFunc(name, func(r rune) bool { return !groupNameOK(r) }) >= 0 {
		return fmt.Errorf(`group name %q may hold only letters, digits, "_", "-" and "." and may not start with "-"`, name)
	}
	return nil
}

// connectionVars are the Ansible variables this package interprets, offered
// as suggestions for a misspelt variable name.
var connectionVars = []string{
	"ansible_host", "ansible_port", "ansible_user", "ansible_connection",
	"ansible_ssh_host", "ansible_ssh_port", "ansible_ssh_user",
	"ansible_private_key_file", "ansible_ssh_private_key_file", "ansible_group_priority",
}

var connNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

var varNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkVarName refuses variable names a template could never reach
// (ansible-port is a typo, not a variable).
func checkVarName(name string) error {
	if !varNameRE.MatchString(name) {
		return fmt.Errorf("variable name %q is not an identifier (letters, digits and \"_\")%s", name, suggest(name, connectionVars...))
	}
	return nil
}

// checkVar validates the connection variables wherever they are set, so the
// error points at the line that set the bad value.
func checkVar(name string, v any) error {
	switch name {
	case "ansible_host", "ansible_ssh_host", "ansible_user", "ansible_ssh_user":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s must be a string, not %s", name, typeName(v))
		}
		return checkSafe(name, s)
	case "ansible_port", "ansible_ssh_port":
		_, err := portValue(v)
		return err
	case "ansible_connection":
		// Which connection types exist is the connector's to say; here only
		// that the value is a name (ssh, local, community.docker.docker).
		if s, ok := v.(string); !ok || !connNameRE.MatchString(s) {
			return fmt.Errorf(`ansible_connection %v must be a connection name (letters, digits, "_", "-" and ".")`, quoteAny(v))
		}
	case "ansible_private_key_file", "ansible_ssh_private_key_file":
		s, ok := v.(string)
		if !ok || s == "" || strings.ContainsFunc(s, unicode.IsControl) {
			return fmt.Errorf("%s must be a file path without control characters, not %v", name, quoteAny(v))
		}
	case "ansible_group_priority":
		if _, ok := toInt(v); !ok {
			return fmt.Errorf("ansible_group_priority must be an integer, not %v", quoteAny(v))
		}
	}
	return nil
}

// portValue reads a port: an integer or decimal string from 1 to 65535.
func portValue(v any) (int, error) {
	n, ok := toInt(v)
	if !ok || n < 1 || n > 65535 {
		msg := fmt.Sprintf("port %v must be a number from 1 to 65535", quoteAny(v))
		if s, isStr := v.(string); isStr && len(s) > 1 && s[0] == '0' {
			msg += " (a leading zero reads as octal in YAML 1.1; drop it)"
		}
		return 0, errors.New(msg)
	}
	return n, nil
}

// toInt accepts an int or a decimal string, as Ansible's int(value) does.
func toInt(v any) (int, bool) {
	switch v := v.(type) {
	case int:
		return v, true
	case string:
		if decimalRE.MatchString(v) {
			n, err := strconv.Atoi(v)
			return n, err == nil
		}
	}
	return 0, false
}

// quoteAny quotes strings and prints other values plainly.
func quoteAny(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// typeName names a variable value's type for messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case int, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any, *omap.Map:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}
