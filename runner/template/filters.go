package template

import (
	"fmt"
	"math"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"tend/internal/omap"
)

// filters maps each Jinja filter tend supports to the function it becomes:
// x | f(a) is f(x, a). The ones listed here also answer to direct calls
// (int(x)); init adds the _f_ functions of collFilters and dataFilters.
var filters = map[string]string{
	"default": "default", "d": "default", "mandatory": "mandatory",
	"int": "int", "float": "float", "string": "string", "bool": "bool",
	"length": "length", "count": "length", "list": "list",
	"ternary": "ternary", "quote": "quote", "round": "round",
	"regex_search": "regex_search", "regex_replace": "regex_replace",
	"regex_findall": "regex_findall", "basename": "basename", "dirname": "dirname",
	"join": "join",
}

// filterImpls maps each filter's function name to its Go function, for
// map('name'); filled by init, as the tables refer to it.
var filterImpls = map[string]func(...any) (any, error){}

func init() {
	for _, table := range []map[string]func(...any) (any, error){filterFuncs, collFilters, dataFilters, ansibleFilters} {
		for fn, impl := range table {
			filterImpls[fn] = impl
			if strings.HasPrefix(fn, "_f_") {
				filters[strings.TrimPrefix(fn, "_f_")] = fn
			}
		}
	}
}

// filterByName returns the function of a filter, for map('name').
func filterByName(name string) (func(args ...any) (any, error), error) {
	fn, ok := filters[name]
	if !ok {
		return nil, unknownName("filter", name, filters)
	}
	if f, ok := filterImpls[fn]; ok {
		return f, nil
	}
	return nil, unknownName("filter", name, filters)
}

// testByName returns the function of a test, for select('name').
func testByName(name string) (func(args ...any) (any, error), error) {
	if fn, ok := tests[name]; ok {
		return testFuncs[fn], nil
	}
	return nil, unknownName("test", name, tests)
}

// filterFuncs implements the filters expr lacks or has with other
// semantics. They also answer to direct calls: int(x) is x | int.
var filterFuncs = map[string]func(args ...any) (any, error){
	"default":       filterDefault,
	"mandatory":     func(args ...any) (any, error) { return args[0], nil },
	"int":           filterInt,
	"float":         filterFloat,
	"string":        func(args ...any) (any, error) { return format(args[0]), nil },
	"bool":          filterBool,
	"length":        filterLength,
	"list":          filterList,
	"ternary":       filterTernary,
	"quote":         func(args ...any) (any, error) { return shellQuote(format(args[0])), nil },
	"round":         filterRound,
	"regex_search":  filterRegexSearch,
	"regex_replace": filterRegexReplace,
	"regex_findall": filterRegexFindall,
	"join":          filterJoin,
	"basename":      func(args ...any) (any, error) { return path.Base(format(args[0])), nil },
	"dirname":       func(args ...any) (any, error) { return path.Dir(format(args[0])), nil },
}

// arity checks a filter's argument count: the value plus min..max more.
func arity(name string, args []any, minArgs, maxArgs int) error {
	if n := len(args) - 1; n < minArgs || n > maxArgs {
		return fmt.Errorf("%s takes %d to %d arguments, got %d", name, minArgs, maxArgs, n)
	}
	return nil
}

// filterDefault is x | default(d[, boolean]): d when x is undefined, or
// also when x is falsy if boolean is true (Jinja's default(d, true)).
func filterDefault(args ...any) (any, error) {
	if err := arity("default", args, 0, 2); err != nil {
		return nil, err
	}
	var fallback any = ""
	if len(args) > 1 {
		fallback = args[1]
	}
	if _, undef := args[0].(undefined); undef {
		return fallback, nil
	}
	if len(args) > 2 && truthy(args[2]) && !truthy(args[0]) {
		return fallback, nil
	}
	return args[0], nil
}

// filterInt converts numbers, booleans and numeric strings ("42", " 7 ",
// "3.9" → 3) to int. Anything else is an error, or the default given as
// second argument: unlike Jinja, a silent 0 is not assumed.
func filterInt(args ...any) (any, error) {
	if err := arity("int", args, 0, 1); err != nil {
		return nil, err
	}
	if i, ok := toIndex(args[0]); ok {
		return i, nil
	}
	if s, ok := args[0].(string); ok {
		if i, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			return i, nil
		}
	}
	if f, ok := toFloat(args[0]); ok && f >= math.MinInt64 && f < math.MaxInt64 {
		return int(f), nil
	}
	if len(args) > 1 {
		return args[1], nil
	}
	return nil, fmt.Errorf("int: cannot convert %s to an integer", show(args[0]))
}

func filterFloat(args ...any) (any, error) {
	if err := arity("float", args, 0, 1); err != nil {
		return nil, err
	}
	if f, ok := toFloat(args[0]); ok {
		return f, nil
	}
	if len(args) > 1 {
		return args[1], nil
	}
	return nil, fmt.Errorf("float: cannot convert %s to a number", show(args[0]))
}

// toFloat reads a number from a Go number, a bool or a decimal string.
func toFloat(v any) (float64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	case reflect.Bool:
		if rv.Bool() {
			return 1, true
		}
		return 0, true
	case reflect.String:
		s := strings.TrimSpace(rv.String())
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return float64(i), true
		}
		f, err := strconv.ParseFloat(s, 64)
		if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && !strings.ContainsAny(s, "xXpP_") {
			return f, true
		}
	}
	return 0, false
}

// filterBool is Ansible's bool filter (to_bool): null and booleans as they
// are; "yes", "on", "1", "true" (any case) and the number 1 are true;
// anything else ("y", " yes", 2, "foo") is false.
func filterBool(args ...any) (any, error) {
	switch v := args[0].(type) {
	case nil:
		return nil, nil
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(v) {
		case "true", "yes", "on", "1":
			return true, nil
		}
		return false, nil
	}
	if f, ok := toFloat(args[0]); ok {
		return f == 1, nil
	}
	return false, nil
}

func filterLength(args ...any) (any, error) {
	if s, ok := args[0].(string); ok {
		return utf8.RuneCountInString(s), nil
	}
	if m, ok := args[0].(*omap.Map); ok {
		return m.Len(), nil
	}
	rv := reflect.ValueOf(args[0])
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len(), nil
	}
	return nil, fmt.Errorf("length: %s has no length", show(args[0]))
}

func filterList(args ...any) (any, error) {
	if s, ok := args[0].(string); ok {
		out := []any{}
		for _, r := range s {
			out = append(out, string(r))
		}
		return out, nil
	}
	rv := reflect.ValueOf(args[0])
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("list: cannot convert %s to a list", show(args[0]))
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, nil
}

// filterJoin is xs | join(sep): the items as text (format), sep between.
func filterJoin(args ...any) (any, error) {
	if err := arity("join", args, 0, 1); err != nil {
		return nil, err
	}
	items, err := filterList(args[0])
	if err != nil {
		return nil, fmt.Errorf("join: %s is not a list", show(args[0]))
	}
	sep := ""
	if len(args) > 1 {
		sep = format(args[1])
	}
	parts := make([]string, 0, len(items.([]any)))
	for _, it := range items.([]any) {
		parts = append(parts, format(it))
	}
	return strings.Join(parts, sep), nil
}

// filterTernary is cond | ternary(a, b[, if_null]).
func filterTernary(args ...any) (any, error) {
	if err := arity("ternary", args, 2, 3); err != nil {
		return nil, err
	}
	if args[0] == nil && len(args) > 3 {
		return args[3], nil
	}
	if truthy(args[0]) {
		return args[1], nil
	}
	return args[2], nil
}

func filterRound(args ...any) (any, error) {
	if err := arity("round", args, 0, 1); err != nil {
		return nil, err
	}
	f, ok := toFloat(args[0])
	if _, isString := args[0].(string); !ok || isString {
		return nil, fmt.Errorf("round: %s is not a number", show(args[0]))
	}
	precision := 0
	if len(args) > 1 {
		if precision, ok = toIndex(args[1]); !ok {
			return nil, fmt.Errorf("round: precision must be an integer")
		}
	}
	scale := math.Pow(10, float64(precision))
	return math.Round(f*scale) / scale, nil
}

// shellQuote quotes s for a POSIX shell, as Python's shlex.quote does.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// regexCache holds compiled patterns; playbooks use few.
var regexCache = newRegexCache()

func regexArg(name string, args []any, minArgs, maxArgs int) (string, *regexp.Regexp, []any, error) {
	args, kw := splitKwargs(args)
	if err := arity(name, args, minArgs, maxArgs); err != nil {
		return "", nil, nil, err
	}
	pat, ok := args[1].(string)
	if !ok {
		return "", nil, nil, fmt.Errorf("%s: the pattern must be a string", name)
	}
	flags := ""
	if truthy(kw["ignorecase"]) {
		flags += "i"
	}
	if truthy(kw["multiline"]) {
		flags += "m"
	}
	if flags != "" {
		pat = "(?" + flags + ")" + pat
	}
	re, err := regexCache.get(pat)
	if err != nil {
		return "", nil, nil, fmt.Errorf("%s: %v", name, err)
	}
	return format(args[0]), re, args[2:], nil
}

// groupRef is a regex_search group argument: '\\1' or '\\g<name>'.
var groupRef = regexp.MustCompile(`^\\(?:(\d+)|g<(\w+)>)$`)

// filterRegexSearch is the first match of a pattern, or null; with group
// arguments ('\\1', '\\g<name>'), the list of those groups of the match.
func filterRegexSearch(args ...any) (any, error) {
	s, re, groups, err := regexArg("regex_search", args, 1, 9)
	if err != nil {
		return nil, err
	}
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return nil, nil
	}
	if len(groups) == 0 {
		return s[m[0]:m[1]], nil
	}
	out := []any{}
	for _, g := range groups {
		ref := groupRef.FindStringSubmatch(format(g))
		if ref == nil {
			return nil, fmt.Errorf("regex_search: unknown group argument %q (use '\\1' or '\\g<name>')", format(g))
		}
		i := re.SubexpIndex(ref[2])
		if ref[1] != "" {
			i, _ = strconv.Atoi(ref[1])
		}
		if i < 0 || 2*i+1 >= len(m) {
			return nil, fmt.Errorf("regex_search: no group %s", format(g))
		}
		if m[2*i] < 0 {
			out = append(out, nil)
			continue
		}
		out = append(out, s[m[2*i]:m[2*i+1]])
	}
	return out, nil
}

// pyBackref turns Python's \1 and \g<name> into Go's ${1} and ${name}.
var pyBackref = regexp.MustCompile(`\\(\d+)|\\g<(\w+)>`)

func filterRegexReplace(args ...any) (any, error) {
	s, re, rest, err := regexArg("regex_replace", args, 1, 2)
	if err != nil {
		return nil, err
	}
	repl := ""
	if len(rest) > 0 {
		repl = strings.ReplaceAll(format(rest[0]), "$", "$$")
		repl = pyBackref.ReplaceAllString(repl, "$${$1$2}")
	}
	return re.ReplaceAllString(s, repl), nil
}

func filterRegexFindall(args ...any) (any, error) {
	s, re, _, err := regexArg("regex_findall", args, 1, 1)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, m := range re.FindAllString(s, -1) {
		out = append(out, m)
	}
	return out, nil
}
