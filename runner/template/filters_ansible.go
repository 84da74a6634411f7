package template

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"os"
	"path/filepath"
	"regexp"
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
	"_f_json_query":     filterJSONQuery,  // community.general's (filters_jsonquery.go)
	"_f_strftime":       filterStrftime,   // datetime.go
	"_f_to_datetime":    filterToDatetime, // datetime_ops.go
}

// refusedFilters are Ansible filters tend knows and refuses when the
// playbook is read, with why.
var refusedFilters = map[string]string{
	"password_hash": "tend has no crypt(3) implementation; hash the password beforehand and pass the hash",
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
		if unit == nil && size >= limit || isStr && strings.ToUpper(u) == suffix {
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
