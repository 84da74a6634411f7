package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"tend/internal/omap"
	"tend/internal/yamlnode"
	"tend/runner/playbook"
	"tend/runner/template"
)

// MaxLoopItems bounds the items of one loop on one host, so that a
// runaway expression cannot exhaust memory with registered results.
const MaxLoopItems = 10_000

// loopItems renders a task's loop value with the host's variables and
// expands it as its keyword does: loop and with_list take a list,
// with_items flattens one level, with_dict yields {key, value} items,
// with_sequence counts, with_nested and with_together combine lists,
// with_fileglob lists the controller's files (relative to the playbook).
func loopItems(l *playbook.Loop, vars map[string]any, file string) ([]any, error) {
	rendered, err := template.RenderNode(l.Value, vars)
	if ne := (*template.NodeError)(nil); errors.As(err, &ne) {
		return nil, ne.Err // the caller names the position
	} else if err != nil {
		return nil, err
	}
	var items []any
	switch l.Kind {
	case "with_dict":
		items, err = dictItems(rendered, file)
	default:
		var v any
		if v, err = yamlnode.DecodeOrdered(file, rendered); err != nil {
			return nil, err
		}
		items, err = expandLoop(l.Kind, v, file)
	}
	if err != nil {
		return nil, err
	}
	if len(items) > MaxLoopItems {
		return nil, fmt.Errorf("%d items: more than tend's limit of %d per loop", len(items), MaxLoopItems)
	}
	return items, nil
}

func expandLoop(kind string, v any, file string) ([]any, error) {
	list, isList := v.([]any)
	switch kind {
	case "loop":
		if !isList {
			return nil, fmt.Errorf("must be a list, not %s (a string is not split; use a list or a filter giving one)", describe(v))
		}
		return list, nil
	case "with_list":
		if !isList {
			return []any{v}, nil
		}
		return list, nil
	case "with_items":
		if !isList {
			return []any{v}, nil
		}
		var out []any
		for _, x := range list {
			if inner, ok := x.([]any); ok {
				out = append(out, inner...)
			} else {
				out = append(out, x)
			}
		}
		return out, nil
	case "with_sequence":
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		return sequence(s)
	case "with_nested", "with_together":
		if !isList {
			return nil, fmt.Errorf("must be a list of lists, not %s", describe(v))
		}
		lists := make([][]any, len(list))
		for i, x := range list {
			inner, ok := x.([]any)
			if !ok {
				inner = []any{x}
			}
			lists[i] = inner
		}
		if kind == "with_nested" {
			return nested(lists), nil
		}
		return together(lists), nil
	case "with_fileglob":
		if !isList {
			list = []any{v}
		}
		return fileglob(list, filepath.Dir(file))
	}
	return nil, fmt.Errorf("unknown loop %s", kind)
}

// dictItems reads a mapping, in its order, as {key, value} items.
func dictItems(n *yaml.Node, file string) ([]any, error) {
	n = yamlnode.Resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("with_dict needs a mapping, not %s", yamlnode.Describe(n))
	}
	out := make([]any, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		v, err := yamlnode.DecodeOrdered(file, n.Content[i+1])
		if err != nil {
			return nil, err
		}
		item := omap.New(2)
		item.Set("key", yamlnode.Resolve(n.Content[i]).Value)
		item.Set("value", v)
		out = append(out, item)
	}
	return out, nil
}

// nested is the cartesian product of lists, each item a list.
func nested(lists [][]any) []any {
	out := []any{[]any{}}
	for _, l := range lists {
		var next []any
		for _, prefix := range out {
			for _, x := range l {
				p := append(append([]any(nil), prefix.([]any)...), x)
				next = append(next, p)
			}
		}
		out = next
		if len(out) > MaxLoopItems {
			break // loopItems reports it
		}
	}
	return out
}

// together zips lists, padding the shorter ones with null.
func together(lists [][]any) []any {
	n := 0
	for _, l := range lists {
		n = max(n, len(l))
	}
	out := make([]any, n)
	for i := range n {
		row := make([]any, len(lists))
		for j, l := range lists {
			if i < len(l) {
				row[j] = l[i]
			}
		}
		out[i] = row
	}
	return out
}

var seqShortcut = regexp.MustCompile(`^(?:(-?[0-9]+|0x[0-9a-fA-F]+)-)?(-?[0-9]+|0x[0-9a-fA-F]+)(?:/(-?[0-9]+|0x[0-9a-fA-F]+))?(?::(.+))?$`)

// sequence expands with_sequence: "start=1 end=5 stride=1 format=%d",
// "count=5", or the shortcut "[start-]end[/stride][:format]"; items are
// strings, as Ansible's are.
func sequence(s string) ([]any, error) {
	start, end, stride, format, count := int64(1), int64(0), int64(1), "%d", int64(-1)
	hasEnd := false
	num := func(k, v string) (int64, error) {
		i, err := strconv.ParseInt(v, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("with_sequence: %s must be an integer, not %q", k, v)
		}
		return i, nil
	}
	fields := strings.Fields(s)
	if len(fields) == 1 && !strings.Contains(fields[0], "=") {
		m := seqShortcut.FindStringSubmatch(fields[0])
		if m == nil {
			return nil, fmt.Errorf("with_sequence: cannot read %q (use start=1 end=5 stride=1 format=%%d, or count=5)", s)
		}
		var err error
		if m[1] != "" {
			if start, err = num("start", m[1]); err != nil {
				return nil, err
			}
		}
		if end, err = num("end", m[2]); err != nil {
			return nil, err
		}
		hasEnd = true
		if m[3] != "" {
			if stride, err = num("stride", m[3]); err != nil {
				return nil, err
			}
		}
		if m[4] != "" {
			format = m[4]
		}
	} else {
		for _, f := range fields {
			k, v, ok := strings.Cut(f, "=")
			var err error
			switch {
			case !ok:
				return nil, fmt.Errorf("with_sequence: %q is not key=value", f)
			case k == "start":
				start, err = num(k, v)
			case k == "end":
				end, err = num(k, v)
				hasEnd = true
			case k == "stride":
				stride, err = num(k, v)
			case k == "count":
				count, err = num(k, v)
			case k == "format":
				format = v
			default:
				return nil, fmt.Errorf("with_sequence: unknown key %q (start, end, stride, count, format)", k)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	if count >= 0 {
		if hasEnd {
			return nil, errors.New("with_sequence: give count or end, not both")
		}
		if count == 0 {
			return nil, nil
		}
		end = start + (count-1)*stride
	} else if !hasEnd {
		return nil, errors.New("with_sequence: needs end or count")
	}
	if stride == 0 {
		return nil, errors.New("with_sequence: stride must not be 0")
	}
	if (stride > 0 && end < start) || (stride < 0 && end > start) {
		return nil, fmt.Errorf("with_sequence: to count from %d to %d the stride must be %s", start, end, map[bool]string{true: "negative", false: "positive"}[end < start])
	}
	if n := (end-start)/stride + 1; n > MaxLoopItems {
		return nil, fmt.Errorf("with_sequence: %d items: more than tend's limit of %d per loop", n, MaxLoopItems)
	}
	if strings.Count(format, "%")-2*strings.Count(format, "%%") != 1 {
		return nil, fmt.Errorf("with_sequence: format %q must hold exactly one %%d-style verb", format)
	}
	var out []any
	for i := start; (stride > 0 && i <= end) || (stride < 0 && i >= end); i += stride {
		out = append(out, fmt.Sprintf(format, i))
	}
	return out, nil
}

// fileglob lists the controller's regular files matching the patterns,
// relative ones under the playbook's files/ directory or the playbook's
// directory (as Ansible searches them); sorted, no directories.
func fileglob(patterns []any, dir string) ([]any, error) {
	var out []any
	for _, p := range patterns {
		pat, ok := p.(string)
		if !ok {
			return nil, fmt.Errorf("with_fileglob: a pattern must be a string, not %s", describe(p))
		}
		bases := []string{""}
		if !filepath.IsAbs(pat) {
			bases = []string{filepath.Join(dir, "files"), dir}
		}
		for _, base := range bases {
			matches, err := filepath.Glob(filepath.Join(base, pat))
			if err != nil {
				return nil, fmt.Errorf("with_fileglob: %q: %w", pat, err)
			}
			sort.Strings(matches)
			found := false
			for _, m := range matches {
				if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() {
					abs, _ := filepath.Abs(m)
					out = append(out, abs)
					found = true
				}
			}
			if found {
				break
			}
		}
	}
	return out, nil
}

// describe names a value's kind for messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return fmt.Sprintf("the string %q", x)
	case map[string]any, *omap.Map:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T %v", v, v)
}

// itemLabel is how an item shows in the output, as Ansible shows it: a
// string as is, anything else as Python prints it ({'key': 'a', 'value':
// 1}, [1, 2], True, None), at most maxLabel bytes.
func itemLabel(v any) string {
	if s, ok := v.(string); ok {
		return truncate(s, maxLabel)
	}
	var b strings.Builder
	pyRepr(&b, v)
	return truncate(b.String(), maxLabel)
}

// pyRepr writes v as Python's repr would (mapping keys in the mapping's
// order, a Go map's sorted), stopping
// once the output is past maxLabel.
func pyRepr(b *strings.Builder, v any) {
	if b.Len() > maxLabel {
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		b.WriteString(map[bool]string{true: "True", false: "False"}[x])
	case string:
		q := strings.NewReplacer(`\\`, `\\\\`, "'", `\'`, "\n", `\n`).Replace(x)
		b.WriteString("'" + q + "'")
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyRepr(b, e)
		}
		b.WriteByte(']')
	case map[string]any, *omap.Map:
		keys, _ := omap.Keys(x)
		m, _ := omap.AsMap(x)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			pyRepr(b, k)
			b.WriteString(": ")
			pyRepr(b, m[k])
		}
		b.WriteByte('}')
	default:
		if j, err := json.Marshal(x); err == nil {
			b.Write(j)
		} else {
			fmt.Fprint(b, x)
		}
	}
}

const maxLabel = 200

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) { // never cut a character in two
		n--
	}
	return s[:n] + fmt.Sprintf("… (%d bytes more)", len(s)-n)
}
