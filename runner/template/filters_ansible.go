package template

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// ansibleFilters are more of Ansible's core filters (ansible.builtin),
// with its semantics and output formats.
var ansibleFilters = map[string]func(args ...any) (any, error){
	"_f_human_readable": filterHumanReadable,
	"_f_human_to_bytes": filterHumanToBytes,
	"_f_hash":           filterHash,
	"_f_checksum":       hashFilter("checksum", "sha1"),
	"_f_sha1":           hashFilter("sha1", "sha1"),
	"_f_md5":            hashFilter("md5", "md5"),
	"_f_random":         filterRandom,
	"_f_shuffle":        filterShuffle,
	"_f_splitext":       filterSplitext,
	"_f_expanduser":     filterExpanduser,
	"_f_realpath":       filterRealpath,
	"_f_comment":        filterComment,
	"_f_extract":        filterExtract,
	"_f_subelements":    filterSubelements,
	"_f_product":        filterProduct,
	"_f_permutations":   func(args ...any) (any, error) { return arrangements("permutations", args, false) },
	"_f_combinations":   func(args ...any) (any, error) { return arrangements("combinations", args, true) },
	"_f_to_uuid":        filterToUUID,
}

// refusedFilters are Ansible filters tend knows and refuses when the
// playbook is read, with why.
var refusedFilters = map[string]string{
	"password_hash": "tend has no crypt(3) implementation; hash the password beforehand and pass the hash",
	"to_datetime":   "tend has no Python datetime values; compare timestamps as numbers or strings",
	"strftime":      "tend has no Python time formatting; use a fact (ansible_date_time) or the date command",
}

// sizeRanges are Ansible's SIZE_RANGES, largest first.
var sizeRanges = []struct {
	suffix string
	limit  float64
}{{"Y", 1 << 80}, {"Z", 1 << 70}, {"E", 1 << 60}, {"P", 1 << 50}, {"T", 1 << 40},
	{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}

// filterHumanReadable is human_readable(isbits=False, unit=None): "1.00 KB",
// "512.00 Bytes", "2.00 Mb" for bits.
func filterHumanReadable(args ...any) (any, error) {
	args, kw := splitKwargs(args)
	if err := arity("human_readable", args, 0, 2); err != nil {
		return nil, err
	}
	size, ok := toFloat(args[0])
	if !ok {
		return nil, fmt.Errorf("human_readable() failed on bad input: %s is not a number", show(args[0]))
	}
	isbits := len(args) > 1 && truthy(args[1])
	if v, ok := kw["isbits"]; ok {
		isbits = truthy(v)
	}
	var unit any
	if len(args) > 2 {
		unit = args[2]
	}
	if v, ok := kw["unit"]; ok {
		unit = v
	}
	base := "Bytes"
	if isbits {
		base = "bits"
	}
	var suffix string
	var limit float64
	for _, r := range sizeRanges {
		suffix, limit = r.suffix, r.limit
		u, isStr := unit.(string)
		if unit == nil && size >= limit || isStr && u != "" && strings.ToUpper(u)[0] == suffix[0] {
			break
		}
	}
	if limit != 1 {
		suffix += base[:1]
	} else {
		suffix = base
	}
	return fmt.Sprintf("%.2f %s", size/limit, suffix), nil
}

var humanRE = regexp.MustCompile(`^\s*(\d*\.?\d*)\s*([A-Za-z]+)?`)

// filterHumanToBytes is human_to_bytes(default_unit=None, isbits=False):
// "2K" is 2048, "1MB" 1048576, "1Mb" only with isbits.
func filterHumanToBytes(args ...any) (any, error) {
	args, kw := splitKwargs(args)
	if err := arity("human_to_bytes", args, 0, 2); err != nil {
		return nil, err
	}
	var defUnit any
	if len(args) > 1 {
		defUnit = args[1]
	}
	if v, ok := kw["default_unit"]; ok {
		defUnit = v
	}
	isbits := len(args) > 2 && truthy(args[2])
	if v, ok := kw["isbits"]; ok {
		isbits = truthy(v)
	}
	text := format(args[0])
	if args[0] == nil {
		text = "None"
	}
	bad := fmt.Errorf("human_to_bytes() can't interpret following string: %s", text)
	m := humanRE.FindStringSubmatch(text)
	num, err := parsePyFloat(m[1])
	if err != nil {
		return nil, bad
	}
	unit := m[2]
	if unit == "" {
		u, ok := defUnit.(string)
		if !ok || u == "" {
			return pyRoundInt(num)
		}
		unit = u
	}
	key := strings.ToUpper(unit[:1])
	limit := 0.0
	for _, r := range sizeRanges {
		if r.suffix == key {
			limit = r.limit
		}
	}
	if limit == 0 {
		return nil, bad
	}
	class, className := "B", "byte"
	if isbits {
		class, className = "b", "bit"
	}
	if len(unit) > 1 && !strings.Contains(strings.ToLower(unit), className) && unit[1:2] != class {
		return nil, bad
	}
	return pyRoundInt(num * limit)
}

// parsePyFloat is Python's float() of the number the size pattern read.
func parsePyFloat(s string) (float64, error) {
	if s == "" || s == "." {
		return 0, fmt.Errorf("not a number")
	}
	var f float64
	_, err := fmt.Sscanf(strings.TrimSuffix(s, ".")+map[bool]string{true: "0", false: ""}[strings.HasSuffix(s, ".")], "%g", &f)
	return f, err
}

// pyRoundInt is Python's int(round(x)): half to even.
func pyRoundInt(x float64) (any, error) {
	r := math.RoundToEven(x)
	if math.Abs(r) > math.MaxInt64/2 || math.IsNaN(r) {
		return nil, fmt.Errorf("human_to_bytes(): %v bytes is too large", x)
	}
	return int(r), nil
}

func hashFilter(name, algo string) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		if err := arity(name, args, 0, 0); err != nil {
			return nil, err
		}
		return filterHash(args[0], algo)
	}
}

// filterHash is hash(algorithm='sha1'): the hex digest of the value's text.
func filterHash(args ...any) (any, error) {
	if err := arity("hash", args, 0, 1); err != nil {
		return nil, err
	}
	algo := "sha1"
	if len(args) > 1 {
		algo = format(args[1])
	}
	var h hash.Hash
	switch algo {
	case "md5":
		h = md5.New()
	case "sha1":
		h = sha1.New()
	case "sha224":
		h = sha256.New224()
	case "sha256":
		h = sha256.New()
	case "sha384":
		h = sha512.New384()
	case "sha512":
		h = sha512.New()
	default:
		return nil, fmt.Errorf("hash: unknown algorithm %q (md5, sha1, sha224, sha256, sha384, sha512)", algo)
	}
	text := format(args[0])
	if args[0] == nil {
		text = "None"
	}
	h.Write([]byte(text))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// randSource is Python's random.Random(seed) when seeded, else the system's
// random numbers (SystemRandom), as Ansible's random and shuffle use them.
func randSource(name string, seed any) (func(n int) int, error) {
	if seed == nil {
		return func(n int) int {
			v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
			if err != nil {
				panic(fmt.Sprintf("%s: system random: %v", name, err))
			}
			return int(v.Int64())
		}, nil
	}
	mt, err := newPyRandom(seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return mt.randbelow, nil
}

// filterRandom is random(start=None, step=None, seed=None): a number in
// range(start, end, step), or an item of a list.
func filterRandom(args ...any) (any, error) {
	args, kw := splitKwargs(args)
	if err := arity("random", args, 0, 2); err != nil {
		return nil, err
	}
	below, err := randSource("random", kw["seed"])
	if err != nil {
		return nil, err
	}
	var start, step any
	if len(args) > 1 {
		start = args[1]
	}
	if len(args) > 2 {
		step = args[2]
	}
	if v, ok := kw["start"]; ok {
		start = v
	}
	if v, ok := kw["step"]; ok {
		step = v
	}
	if _, isBool := args[0].(bool); !isBool && isInteger(args[0]) {
		end, _ := toIndex(args[0])
		lo, st := 0, 1
		if truthy(start) {
			if lo, err = intArg("random", "start", start); err != nil {
				return nil, err
			}
		}
		if truthy(step) {
			if st, err = intArg("random", "step", step); err != nil {
				return nil, err
			}
		}
		var n int
		if st > 0 {
			n = (end - lo + st - 1) / st
		} else {
			n = (end - lo + st + 1) / st
		}
		if n <= 0 {
			return nil, fmt.Errorf("random: empty range for randrange(%d, %d, %d)", lo, end, st)
		}
		return lo + st*below(n), nil
	}
	if truthy(start) || truthy(step) {
		return nil, fmt.Errorf("random: start and step can only be used with integer values")
	}
	if s, ok := args[0].(string); ok {
		r := []rune(s)
		if len(r) == 0 {
			return nil, fmt.Errorf("random: cannot choose from an empty sequence")
		}
		return string(r[below(len(r))]), nil
	}
	l, err := items("random", args[0])
	if err != nil {
		return nil, fmt.Errorf("random can only be used on sequences and integers")
	}
	if len(l) == 0 {
		return nil, fmt.Errorf("random: cannot choose from an empty sequence")
	}
	return l[below(len(l))], nil
}

func intArg(filter, name string, v any) (int, error) {
	i, ok := toIndex(v)
	if !ok {
		return 0, fmt.Errorf("%s: %s must be an integer, not %s", filter, name, show(v))
	}
	return i, nil
}

// filterShuffle is shuffle(seed=None): a shuffled copy of a list.
func filterShuffle(args ...any) (any, error) {
	args, kw := splitKwargs(args)
	if err := arity("shuffle", args, 0, 1); err != nil {
		return nil, err
	}
	seed := kw["seed"]
	if len(args) > 1 {
		seed = args[1]
	}
	if !truthy(seed) {
		seed = nil
	}
	below, err := randSource("shuffle", seed)
	if err != nil {
		return nil, err
	}
	var l []any
	if s, ok := args[0].(string); ok {
		for _, r := range s {
			l = append(l, string(r))
		}
	} else if l, err = items("shuffle", args[0]); err != nil {
		return args[0], nil // Ansible returns what it cannot shuffle
	}
	out := append([]any{}, l...)
	for i := len(out) - 1; i > 0; i-- {
		j := below(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// filterSplitext is os.path.splitext: [root, ext].
func filterSplitext(args ...any) (any, error) {
	p := format(args[0])
	base := p[strings.LastIndex(p, "/")+1:]
	dot := strings.LastIndex(base, ".")
	if dot <= 0 || strings.Trim(base[:dot], ".") == "" {
		return []any{p, ""}, nil
	}
	cut := len(p) - len(base) + dot
	return []any{p[:cut], p[cut:]}, nil
}

// filterExpanduser is os.path.expanduser, on the controller (tend's
// machine) as in Ansible: ~ and ~/x are under $HOME.
func filterExpanduser(args ...any) (any, error) {
	p := format(args[0])
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil // ~user is not looked up
	}
	home := os.Getenv("HOME")
	if home == "" {
		return p, nil
	}
	return strings.TrimSuffix(home, "/") + p[1:], nil
}

// filterRealpath is os.path.realpath on the controller, as in Ansible:
// absolute, cleaned, symbolic links of the existing part resolved.
func filterRealpath(args ...any) (any, error) {
	p, err := filepath.Abs(format(args[0]))
	if err != nil {
		return nil, fmt.Errorf("realpath: %w", err)
	}
	rest := ""
	for dir := p; ; dir = filepath.Dir(dir) {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest), nil
		}
		if dir == "/" {
			return p, nil
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}

// commentStyles are the comment filter's styles.
var commentStyles = map[string]map[string]string{
	"plain":  {"decoration": "# "},
	"erlang": {"decoration": "% "},
	"c":      {"decoration": "// "},
	"cblock": {"beginning": "/*", "decoration": " * ", "end": " */"},
	"xml":    {"beginning": "<!--", "decoration": " - ", "end": "-->"},
}

// filterComment is comment(style='plain', **kw), as Ansible builds it.
func filterComment(args ...any) (any, error) {
	args, kw := splitKwargs(args)
	if err := arity("comment", args, 0, 1); err != nil {
		return nil, err
	}
	styleName := "plain"
	if len(args) > 1 {
		styleName = format(args[1])
	}
	style, ok := commentStyles[styleName]
	if !ok {
		return nil, fmt.Errorf("comment: unknown style %q (plain, erlang, c, cblock, xml)", styleName)
	}
	pre := style["decoration"]
	if v, ok := kw["decoration"]; ok {
		pre = format(v)
	}
	p := map[string]any{"newline": "\n", "beginning": "", "prefix": strings.TrimRight(pre, " \t\n"),
		"prefix_count": 1, "decoration": "", "postfix": strings.TrimRight(pre, " \t\n"), "postfix_count": 1, "end": ""}
	for k, v := range style {
		p[k] = v
	}
	for k, v := range kw {
		p[k] = v
	}
	nl, dec := format(p["newline"]), format(p["decoration"])
	var b strings.Builder
	if s := format(p["beginning"]); s != "" {
		b.WriteString(s + nl)
	}
	prefixCount, ok1 := toIndex(p["prefix_count"])
	postfixCount, ok2 := toIndex(p["postfix_count"])
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("comment: prefix_count and postfix_count must be integers")
	}
	if s := format(p["prefix"]); s != "" {
		if s != nl {
			s += nl
		}
		b.WriteString(strings.Repeat(s, max(prefixCount, 0)))
	}
	text := dec + strings.ReplaceAll(format(args[0]), nl, nl+dec)
	b.WriteString(strings.ReplaceAll(text, dec+nl, strings.TrimRight(dec, " \t\n")+nl))
	for i := 0; i < postfixCount; i++ {
		b.WriteString(nl + format(p["postfix"]))
	}
	if s := format(p["end"]); s != "" {
		b.WriteString(nl + s)
	}
	return b.String(), nil
}

// filterExtract is extract(container, morekeys=None): container[item]
// (then [key] for each of morekeys).
func filterExtract(args ...any) (any, error) {
	if err := arity("extract", args, 1, 2); err != nil {
		return nil, err
	}
	keys := []any{args[0]}
	if len(args) > 2 {
		if l, ok := args[2].([]any); ok {
			keys = append(keys, l...)
		} else {
			keys = append(keys, args[2])
		}
	}
	v := args[1]
	for _, k := range keys {
		next, found, err := member(v, k)
		if err != nil {
			return nil, fmt.Errorf("extract: %w", err)
		}
		if !found {
			return undefined{describeKey("extract", k)}, nil
		}
		v = next
	}
	return v, nil
}

// filterSubelements is subelements(path, skip_missing=False): a pair
// [item, sub] for each sub in each item's list at path (dotted).
func filterSubelements(args ...any) (any, error) {
	args, kw := splitKwargs(args)
	if err := arity("subelements", args, 1, 2); err != nil {
		return nil, err
	}
	skip := len(args) > 2 && truthy(args[2])
	if v, ok := kw["skip_missing"]; ok {
		skip = truthy(v)
	}
	var elems []any
	switch obj := args[0].(type) {
	case map[string]any:
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			elems = append(elems, obj[k])
		}
	case []any:
		elems = obj
	default:
		return nil, fmt.Errorf("subelements: obj must be a list of dicts or a nested dict")
	}
	var path []any
	switch p := args[1].(type) {
	case string:
		for _, s := range strings.Split(p, ".") {
			path = append(path, s)
		}
	case []any:
		path = p
	default:
		return nil, fmt.Errorf("subelements must be a list or a string")
	}
	out := []any{}
	for _, e := range elems {
		values := e
		for _, k := range path {
			if _, ok := values.(map[string]any); !ok {
				return nil, fmt.Errorf("subelements: the key %s should point to a dictionary, got %s", format(k), pyRepr(values))
			}
			v, found, _ := member(values, k)
			if !found {
				if skip {
					values = []any{}
					break
				}
				return nil, fmt.Errorf("subelements: could not find %s key in iterated item %s", pyRepr(k), pyRepr(values))
			}
			values = v
		}
		l, ok := values.([]any)
		if !ok {
			return nil, fmt.Errorf("subelements: the key %s should point to a list, got %s", pyRepr(args[1]), pyRepr(values))
		}
		for _, v := range l {
			out = append(out, []any{e, v})
		}
	}
	return out, nil
}

// filterProduct is itertools.product(a, *others): every combination, one
// item of each list, in order.
func filterProduct(args ...any) (any, error) {
	args, kw := splitKwargs(args)
	repeat := 1
	if v, ok := kw["repeat"]; ok {
		r, err := intArg("product", "repeat", v)
		if err != nil {
			return nil, err
		}
		repeat = r
	}
	var pools [][]any
	for range repeat {
		for _, a := range args {
			l, err := iterable("product", a)
			if err != nil {
				return nil, err
			}
			pools = append(pools, l)
		}
	}
	out := [][]any{{}}
	for _, pool := range pools {
		var next [][]any
		for _, prefix := range out {
			for _, x := range pool {
				next = append(next, append(append([]any{}, prefix...), x))
			}
		}
		out = next
		if len(out) > maxLoopItems {
			return nil, fmt.Errorf("product: more than %d items", maxLoopItems)
		}
	}
	res := make([]any, len(out))
	for i, t := range out {
		res[i] = t
	}
	return res, nil
}

// iterable reads a list, or a string's characters, as Python iterates them.
func iterable(name string, v any) ([]any, error) {
	if s, ok := v.(string); ok {
		out := []any{}
		for _, r := range s {
			out = append(out, string(r))
		}
		return out, nil
	}
	return items(name, v)
}

// arrangements is itertools.permutations(xs, r=None) (ordered) or
// combinations(xs, r) (in input order), each a list.
func arrangements(name string, args []any, combine bool) (any, error) {
	if err := arity(name, args, map[bool]int{true: 1, false: 0}[combine], 1); err != nil {
		return nil, err
	}
	pool, err := iterable(name, args[0])
	if err != nil {
		return nil, err
	}
	r := len(pool)
	if len(args) > 1 && args[1] != nil {
		if r, err = intArg(name, "r", args[1]); err != nil {
			return nil, err
		}
	}
	out := []any{}
	if r < 0 {
		return nil, fmt.Errorf("%s: r must be non-negative", name)
	}
	var rec func(start int, used []bool, cur []any) error
	rec = func(start int, used []bool, cur []any) error {
		if len(cur) == r {
			out = append(out, append([]any{}, cur...))
			if len(out) > maxLoopItems {
				return fmt.Errorf("%s: more than %d items", name, maxLoopItems)
			}
			return nil
		}
		for i := range pool {
			if combine && i < start || !combine && used[i] {
				continue
			}
			used[i] = true
			if err := rec(i+1, used, append(cur, pool[i])); err != nil {
				return err
			}
			used[i] = false
		}
		return nil
	}
	if r <= len(pool) {
		if err := rec(0, make([]bool, len(pool)), nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// uuidNamespaceAnsible is Ansible's UUID_NAMESPACE_ANSIBLE.
const uuidNamespaceAnsible = "361e6d51-faec-444a-9079-341386da8e2e"

// filterToUUID is to_uuid(namespace): a name-based (SHA-1, version 5) UUID.
func filterToUUID(args ...any) (any, error) {
	args, kw := splitKwargs(args)
	if err := arity("to_uuid", args, 0, 1); err != nil {
		return nil, err
	}
	ns := uuidNamespaceAnsible
	if len(args) > 1 {
		ns = format(args[1])
	}
	if v, ok := kw["namespace"]; ok {
		ns = format(v)
	}
	nsBytes, err := hex.DecodeString(strings.ReplaceAll(strings.Trim(strings.ToLower(ns), "{}"), "-", ""))
	if err != nil || len(nsBytes) != 16 {
		return nil, fmt.Errorf("to_uuid: namespace %q is not a UUID", ns)
	}
	sum := sha1.Sum(append(nsBytes, []byte(format(args[0]))...))
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
