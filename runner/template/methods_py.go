package template

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// More of Python's str and list methods, with Python's semantics: offsets
// count characters, find returns -1 where index fails, split and replace
// take their optional counts, startswith takes a tuple.
func init() {
	for name, fn := range map[string]func(args ...any) (any, error){
		"find":       strFind(false, false),
		"rfind":      strFind(true, false),
		"index":      methodIndex(false),
		"rindex":     methodIndex(true),
		"count":      methodCount,
		"split":      methodSplit(false),
		"rsplit":     methodSplit(true),
		"replace":    methodReplace,
		"startswith": methodAffix(strings.HasPrefix),
		"endswith":   methodAffix(strings.HasSuffix),
		"format":     methodFormat,
		"zfill":      methodZfill,
		"isalpha":    strClass(unicode.IsLetter),
		"isalnum":    strClass(func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }),
		"isspace":    strClass(unicode.IsSpace),
		"islower":    strCase(unicode.IsLower, unicode.IsUpper),
		"isupper":    strCase(unicode.IsUpper, unicode.IsLower),
		"swapcase":   strMethod(func(s string, _ []string) any { return swapcase(s) }),
	} {
		methodFuncs["_m_"+name] = fn
	}
}

// methodArgs checks a method's receiver is a string and its argument count.
func methodArgs(name string, args []any, minArgs, maxArgs int) (string, error) {
	s, ok := args[0].(string)
	if !ok {
		return "", fmt.Errorf("%s() is a string method; called on %s", name, show(args[0]))
	}
	if n := len(args) - 1; n < minArgs || n > maxArgs {
		return "", fmt.Errorf("%s() takes %d to %d arguments, got %d", name, minArgs, maxArgs, n)
	}
	return s, nil
}

// strArg is the i-th argument as a string.
func strArg(name string, args []any, i int) (string, error) {
	s, ok := args[i].(string)
	if !ok {
		return "", fmt.Errorf("%s(): argument %d must be a string, not %s", name, i, show(args[i]))
	}
	return s, nil
}

// window applies Python's optional start and end arguments (character
// offsets, negative from the end) to s: the substring and its offset.
func window(name string, s string, args []any) (string, int, error) {
	runes := []rune(s)
	lo, hi := 0, len(runes)
	for i, dst := range []*int{&lo, &hi} {
		if len(args) <= i || args[i] == nil {
			continue
		}
		n, ok := toIndex(args[i])
		if !ok {
			return "", 0, fmt.Errorf("%s(): slice indices must be integers, not %s", name, show(args[i]))
		}
		if n < 0 {
			n += len(runes)
		}
		*dst = min(max(n, 0), len(runes))
	}
	if lo > hi {
		return "", -1, nil
	}
	return string(runes[lo:hi]), lo, nil
}

// strFind is str.find/rfind (fail: index/rindex, which raise instead).
func strFind(right, fail bool) func(args ...any) (any, error) {
	name := map[[2]bool]string{{false, false}: "find", {true, false}: "rfind", {false, true}: "index", {true, true}: "rindex"}[[2]bool{right, fail}]
	return func(args ...any) (any, error) {
		s, err := methodArgs(name, args, 1, 3)
		if err != nil {
			return nil, err
		}
		sub, err := strArg(name, args, 1)
		if err != nil {
			return nil, err
		}
		part, off, err := window(name, s, args[2:])
		if err != nil {
			return nil, err
		}
		i := -1
		if off >= 0 {
			if right {
				i = strings.LastIndex(part, sub)
			} else {
				i = strings.Index(part, sub)
			}
		}
		if i < 0 {
			if fail {
				return nil, fmt.Errorf("%s(): substring %q not found", name, sub)
			}
			return -1, nil
		}
		return off + utf8.RuneCountInString(part[:i]), nil
	}
}

// methodIndex is str.index/rindex, and list.index (its first position of
// an equal item).
func methodIndex(right bool) func(args ...any) (any, error) {
	str := strFind(right, true)
	return func(args ...any) (any, error) {
		if _, ok := args[0].(string); ok || right {
			return str(args...)
		}
		l, err := items("index()", args[0])
		if err != nil || len(args) != 2 {
			return nil, fmt.Errorf("index() takes one value and is a string or list method; called on %s", show(args[0]))
		}
		if i := indexOf(l, args[1]); i >= 0 {
			return i, nil
		}
		return nil, fmt.Errorf("index(): %s is not in the list", pyRepr(args[1]))
	}
}

// methodCount is str.count (non-overlapping occurrences) and list.count.
func methodCount(args ...any) (any, error) {
	if _, ok := args[0].(string); !ok {
		l, err := items("count()", args[0])
		if err != nil || len(args) != 2 {
			return nil, fmt.Errorf("count() takes one value and is a string or list method; called on %s", show(args[0]))
		}
		n := 0
		for _, x := range l {
			if equal(x, args[1]) {
				n++
			}
		}
		return n, nil
	}
	s, err := methodArgs("count", args, 1, 3)
	if err != nil {
		return nil, err
	}
	sub, err := strArg("count", args, 1)
	if err != nil {
		return nil, err
	}
	part, off, err := window("count", s, args[2:])
	if err != nil || off < 0 {
		return 0, err
	}
	return strings.Count(part, sub), nil
}

// methodSplit is str.split/rsplit(sep=None, maxsplit=-1).
func methodSplit(right bool) func(args ...any) (any, error) {
	name := map[bool]string{false: "split", true: "rsplit"}[right]
	return func(args ...any) (any, error) {
		args, kw := splitKwargs(args)
		s, err := methodArgs(name, args, 0, 2)
		if err != nil {
			return nil, err
		}
		var sep any
		maxsplit := -1
		if len(args) > 1 {
			sep = args[1]
		}
		if v, ok := kw["sep"]; ok {
			sep = v
		}
		var limit any
		if len(args) > 2 {
			limit = args[2]
		}
		if v, ok := kw["maxsplit"]; ok {
			limit = v
		}
		if limit != nil {
			n, ok := toIndex(limit)
			if !ok {
				return nil, fmt.Errorf("%s(): maxsplit must be an integer, not %s", name, show(limit))
			}
			maxsplit = n
		}
		var parts []string
		switch sep := sep.(type) {
		case nil:
			parts = splitSpace(s, maxsplit, right)
		case string:
			if sep == "" {
				return nil, fmt.Errorf("%s(): empty separator", name)
			}
			parts = splitSep(s, sep, maxsplit, right)
		default:
			return nil, fmt.Errorf("%s(): the separator must be a string or None, not %s", name, show(sep))
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	}
}

func splitSep(s, sep string, maxsplit int, right bool) []string {
	if maxsplit < 0 || !right {
		n := -1
		if maxsplit >= 0 {
			n = maxsplit + 1
		}
		return strings.SplitN(s, sep, n)
	}
	var rev []string
	for ; maxsplit > 0; maxsplit-- {
		i := strings.LastIndex(s, sep)
		if i < 0 {
			break
		}
		rev = append(rev, s[i+len(sep):])
		s = s[:i]
	}
	out := []string{s}
	for i := len(rev) - 1; i >= 0; i-- {
		out = append(out, rev[i])
	}
	return out
}

// splitSpace is Python's split() without a separator: runs of whitespace,
// none empty; with maxsplit the rest is kept whole (its leading, or for
// rsplit trailing, whitespace removed).
func splitSpace(s string, maxsplit int, right bool) []string {
	if maxsplit < 0 {
		return strings.Fields(s)
	}
	var out []string
	if !right {
		for s = strings.TrimLeftFunc(s, unicode.IsSpace); s != "" && len(out) < maxsplit; s = strings.TrimLeftFunc(s, unicode.IsSpace) {
			i := strings.IndexFunc(s, unicode.IsSpace)
			if i < 0 {
				break
			}
			out = append(out, s[:i])
			s = s[i:]
		}
		if s != "" {
			out = append(out, s)
		}
		return out
	}
	var rev []string
	for s = strings.TrimRightFunc(s, unicode.IsSpace); s != "" && len(rev) < maxsplit; s = strings.TrimRightFunc(s, unicode.IsSpace) {
		i := strings.LastIndexFunc(s, unicode.IsSpace)
		if i < 0 {
			break
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		rev = append(rev, s[i+w:])
		s = s[:i]
	}
	if s != "" {
		out = append(out, s)
	}
	for i := len(rev) - 1; i >= 0; i-- {
		out = append(out, rev[i])
	}
	return out
}

// methodReplace is str.replace(old, new[, count]).
func methodReplace(args ...any) (any, error) {
	s, err := methodArgs("replace", args, 2, 3)
	if err != nil {
		return nil, err
	}
	old, err := strArg("replace", args, 1)
	if err != nil {
		return nil, err
	}
	repl, err := strArg("replace", args, 2)
	if err != nil {
		return nil, err
	}
	n := -1
	if len(args) > 3 {
		c, ok := toIndex(args[3])
		if !ok {
			return nil, fmt.Errorf("replace(): count must be an integer, not %s", show(args[3]))
		}
		n = c
	}
	return strings.Replace(s, old, repl, n), nil
}

// methodAffix is startswith/endswith: a string or a tuple (list) of them.
func methodAffix(has func(s, affix string) bool) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		s, err := methodArgs("startswith/endswith", args, 1, 3)
		if err != nil {
			return nil, err
		}
		part, off, err := window("startswith/endswith", s, args[2:])
		if err != nil || off < 0 {
			return false, err
		}
		if a, ok := args[1].(string); ok {
			return has(part, a), nil
		}
		l, err := items("startswith/endswith", args[1])
		if err != nil {
			return nil, fmt.Errorf("startswith/endswith take a string or a tuple of strings, not %s", show(args[1]))
		}
		for _, x := range l {
			a, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("startswith/endswith take a string or a tuple of strings, not %s", show(args[1]))
			}
			if has(part, a) {
				return true, nil
			}
		}
		return false, nil
	}
}

// methodFormat is str.format with replacement fields {}, {0} and {name}
// (keyword arguments), each printed as Python's str() prints it; {{ and }}
// are literal braces. A format spec or conversion (!r, :>5) is refused.
func methodFormat(args ...any) (any, error) {
	args, kw := splitKwargs(args)
	s, err := methodArgs("format", args, 0, 1<<20)
	if err != nil {
		return nil, err
	}
	pos := args[1:]
	var b strings.Builder
	auto := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '}' {
			if i+1 < len(s) && s[i+1] == '}' {
				i++
			} else {
				return nil, fmt.Errorf("format(): single '}' encountered in format string")
			}
			b.WriteByte('}')
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(s) && s[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("format(): single '{' encountered in format string")
		}
		field := s[i+1 : i+end]
		i += end
		if strings.ContainsAny(field, "!:[.") {
			return nil, fmt.Errorf("format(): the field {%s} has a conversion, spec or attribute, which tend does not support; use a filter", field)
		}
		var v any
		switch n, err := strconv.Atoi(field); {
		case field == "":
			if auto >= len(pos) {
				return nil, fmt.Errorf("format(): replacement index %d out of range", auto)
			}
			v = pos[auto]
			auto++
		case err == nil:
			if n < 0 || n >= len(pos) {
				return nil, fmt.Errorf("format(): replacement index %d out of range", n)
			}
			v = pos[n]
		default:
			val, ok := kw[field]
			if !ok {
				return nil, fmt.Errorf("format(): no argument named %q", field)
			}
			v = val
		}
		b.WriteString(format(v))
	}
	return b.String(), nil
}

// methodZfill is str.zfill(width): zeros after any sign.
func methodZfill(args ...any) (any, error) {
	s, err := methodArgs("zfill", args, 1, 1)
	if err != nil {
		return nil, err
	}
	w, ok := toIndex(args[1])
	if !ok {
		return nil, fmt.Errorf("zfill(): the width must be an integer, not %s", show(args[1]))
	}
	n := w - utf8.RuneCountInString(s)
	if n <= 0 {
		return s, nil
	}
	sign := ""
	if s != "" && (s[0] == '+' || s[0] == '-') {
		sign, s = s[:1], s[1:]
	}
	return sign + strings.Repeat("0", n) + s, nil
}

// strClass is isalpha/isalnum/isspace: non-empty, every character in class.
func strClass(in func(rune) bool) func(args ...any) (any, error) {
	return strMethod(func(s string, _ []string) any {
		return s != "" && strings.IndexFunc(s, func(r rune) bool { return !in(r) }) < 0
	})
}

// strCase is islower/isupper: some cased character, none of the other case.
func strCase(is, other func(rune) bool) func(args ...any) (any, error) {
	return strMethod(func(s string, _ []string) any {
		return strings.IndexFunc(s, is) >= 0 && strings.IndexFunc(s, other) < 0
	})
}

func swapcase(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsUpper(r) {
			return unicode.ToLower(r)
		}
		return unicode.ToUpper(r)
	}, s)
}
