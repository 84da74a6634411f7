package template

import (
	"fmt"
	"strings"

	"tend/internal/omap"
)

// truncateLeeway is Jinja2's default truncate.leeway policy.
const truncateLeeway = 5

// filterTruncate is Jinja2's truncate(s, length=255, killwords=False,
// end='...', leeway=None): s unchanged when it is at most length+leeway
// characters long, else cut to length-len(end) characters, back to the
// last space unless killwords, and end appended.
func filterTruncate(args ...any) (any, error) {
	pos, kw := splitKwargs(args)
	s, ok := pos[0].(string)
	if !ok {
		return nil, fmt.Errorf("truncate: %s is not a string", show(pos[0]))
	}
	params := []string{"length", "killwords", "end", "leeway"}
	if len(pos)-1 > len(params) {
		return nil, fmt.Errorf("truncate takes at most %d arguments, got %d", len(params), len(pos)-1)
	}
	val := map[string]any{"length": 255, "killwords": false, "end": "...", "leeway": truncateLeeway}
	for i, a := range pos[1:] {
		val[params[i]] = a
	}
	for k, v := range kw {
		if _, known := val[k]; !known {
			return nil, fmt.Errorf("truncate: unexpected keyword argument %q", k)
		}
		val[k] = v
	}
	if val["leeway"] == nil {
		val["leeway"] = truncateLeeway
	}
	length, ok1 := toIndex(val["length"])
	leeway, ok2 := toIndex(val["leeway"])
	end, ok3 := val["end"].(string)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("truncate: length and leeway must be integers and end a string")
	}
	r, e := []rune(s), []rune(end)
	if length < len(e) {
		return nil, fmt.Errorf("truncate: expected length >= %d, got %d", len(e), length)
	}
	if leeway < 0 {
		return nil, fmt.Errorf("truncate: expected leeway >= 0, got %d", leeway)
	}
	if len(r) <= length+leeway {
		return s, nil
	}
	cut := string(r[:length-len(e)])
	if !truthy(val["killwords"]) {
		if i := strings.LastIndex(cut, " "); i >= 0 {
			cut = cut[:i]
		}
	}
	return cut + end, nil
}

// fnDict is Jinja2's dict() global, Python's dict: a copy of a mapping
// or of a list of key/value pairs given first, then the keyword
// arguments in the order given.
func fnDict(args ...any) (any, error) {
	out := omap.New(0)
	var pos []any
	for _, a := range args {
		if _, ok := a.(kwarg); !ok {
			pos = append(pos, a)
		}
	}
	switch {
	case len(pos) > 1:
		return nil, fmt.Errorf("dict expected at most 1 argument, got %d", len(pos))
	case len(pos) == 1 && isMapping(pos[0]):
		m, _ := asOrdered(pos[0])
		for _, k := range m.Keys() {
			v, _ := m.Get(k)
			out.Set(k, v)
		}
	case len(pos) == 1:
		l, ok := pos[0].([]any)
		if !ok {
			return nil, fmt.Errorf("dict: %s is not a mapping or a list of pairs", show(pos[0]))
		}
		for i, p := range l {
			kv, ok := p.([]any)
			if !ok || len(kv) != 2 {
				return nil, fmt.Errorf("dict: element %d of the list is not a pair: %s", i, show(p))
			}
			k, ok := kv[0].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %s is not a string (tend's mappings have string keys)", show(kv[0]))
			}
			out.Set(k, kv[1])
		}
	}
	for _, a := range args {
		if k, ok := a.(kwarg); ok {
			out.Set(k.name, k.value)
		}
	}
	return out, nil
}
