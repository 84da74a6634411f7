package template

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// containsArgs is `x is in(list)` and `list is contains(x)`.
func containsArgs(test string, args []any, needle int) (any, error) {
	if err := arity(test, args, 1, 1); err != nil {
		return nil, err
	}
	if needle == 1 {
		return contains(args[0], args[1])
	}
	return contains(args[1], args[0])
}

// subset is `a is subset(b)` (or superset).
func subset(args []any, super bool) (any, error) {
	if err := arity("subset", args, 1, 1); err != nil {
		return nil, err
	}
	a, b := args[0], args[1]
	if super {
		a, b = b, a
	}
	la, err := items("subset", a)
	if err != nil {
		return nil, err
	}
	lb, err := items("subset", b)
	if err != nil {
		return nil, err
	}
	for _, x := range la {
		if indexOf(lb, x) < 0 {
			return false, nil
		}
	}
	return true, nil
}

func intTest(name string, fn func(i, n int) bool) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		i, ok := toIndex(args[0])
		if !ok {
			return nil, fmt.Errorf("'is %s' needs an integer, not %s", name, show(args[0]))
		}
		n := 0
		if len(args) > 1 {
			if n, ok = toIndex(args[1]); !ok {
				return nil, fmt.Errorf("%s: the divisor must be an integer", name)
			}
		}
		return fn(i, n), nil
	}
}

func cmpTest(name string, fn func(c int) bool) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		if err := arity(name, args, 1, 1); err != nil {
			return nil, err
		}
		if name == "eq" || name == "ne" {
			return equal(args[0], args[1]) == (name == "eq"), nil
		}
		c, err := compare(args[0], args[1], false)
		if err != nil {
			return nil, fmt.Errorf("'is %s': %w", name, err)
		}
		return fn(c), nil
	}
}

// versionOps maps Ansible's version test operators to a comparison.
var versionOps = map[string]func(c int) bool{
	"<": func(c int) bool { return c < 0 }, "lt": func(c int) bool { return c < 0 },
	"<=": func(c int) bool { return c <= 0 }, "le": func(c int) bool { return c <= 0 },
	">": func(c int) bool { return c > 0 }, "gt": func(c int) bool { return c > 0 },
	">=": func(c int) bool { return c >= 0 }, "ge": func(c int) bool { return c >= 0 },
	"==": func(c int) bool { return c == 0 }, "=": func(c int) bool { return c == 0 }, "eq": func(c int) bool { return c == 0 },
	"!=": func(c int) bool { return c != 0 }, "<>": func(c int) bool { return c != 0 }, "ne": func(c int) bool { return c != 0 },
}

// testVersion is `v is version('1.2', '>=')`: Ansible's loose version
// comparison (numbers numerically, words as text), operator '==' by
// default.
func testVersion(args ...any) (any, error) {
	pos, kw := splitKwargs(args)
	if err := arity("version", pos, 1, 2); err != nil {
		return nil, err
	}
	op := "=="
	if len(pos) > 2 {
		op = format(pos[2])
	} else if o, ok := kw["operator"]; ok {
		op = format(o)
	}
	fn, ok := versionOps[op]
	if !ok {
		return nil, fmt.Errorf("version: unknown operator %q", op)
	}
	return fn(compareVersions(format(pos[0]), format(pos[1]))), nil
}

var versionPart = regexp.MustCompile(`\d+|[a-zA-Z]+`)

func compareVersions(a, b string) int {
	pa, pb := versionPart.FindAllString(a, -1), versionPart.FindAllString(b, -1)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, errA := strconv.Atoi(pa[i])
		nb, errB := strconv.Atoi(pb[i])
		switch {
		case errA == nil && errB == nil:
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
		case errA == nil: // a number sorts after a word, as LooseVersion
			return 1
		case errB == nil:
			return -1
		default:
			if c := strings.Compare(pa[i], pb[i]); c != 0 {
				return c
			}
		}
	}
	switch {
	case len(pa) < len(pb):
		return -1
	case len(pa) > len(pb):
		return 1
	}
	return 0
}
