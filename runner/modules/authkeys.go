package modules

import (
	"regexp"
	"sort"
	"strings"
)

// The authorized_keys editing of ansible.posix.authorized_key, in Go: a
// file is a set of entries keyed by the key's base64 blob (a line that is
// no key is its own entry), each with the rank (line index) that orders
// them when written back. Every key line is written normalized: options
// joined by commas, then type, blob and comment (a trailing space when
// the comment is empty, as Ansible writes it).

// akTypes are the key types Ansible recognizes.
var akTypes = map[string]bool{
	"sk-ecdsa-sha2-nistp256@openssh.com": true, "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com": true,
	"webauthn-sk-ecdsa-sha2-nistp256@openssh.com": true, "ecdsa-sha2-nistp256": true,
	"ecdsa-sha2-nistp256-cert-v01@openssh.com": true, "ecdsa-sha2-nistp384": true,
	"ecdsa-sha2-nistp384-cert-v01@openssh.com": true, "ecdsa-sha2-nistp521": true,
	"ecdsa-sha2-nistp521-cert-v01@openssh.com": true, "sk-ssh-ed25519@openssh.com": true,
	"sk-ssh-ed25519-cert-v01@openssh.com": true, "ssh-ed25519": true, "ssh-ed25519-cert-v01@openssh.com": true,
	"ssh-dss": true, "ssh-rsa": true, "ssh-xmss@openssh.com": true, "ssh-xmss-cert-v01@openssh.com": true,
	"rsa-sha2-256": true, "rsa-sha2-512": true, "ssh-rsa-cert-v01@openssh.com": true,
	"rsa-sha2-256-cert-v01@openssh.com": true, "rsa-sha2-512-cert-v01@openssh.com": true,
	"ssh-dss-cert-v01@openssh.com": true,
}

// akOption is one key option: name, and value (nil for a flag).
type akOption struct {
	name  string
	value *string
}

// akEntry is one entry of the file.
type akEntry struct {
	id      string // the blob; the raw line for a skipped one
	typ     string // "" for a skipped line (a comment, not a key)
	opts    []akOption
	comment string
	rank    int
}

var akOptionRE = regexp.MustCompile(`(?:[^,"']|"[^"]*"|'[^']*')+`)

// parseAKOptions splits key options at commas outside quotes.
func parseAKOptions(s string) []akOption {
	var out []akOption
	for _, part := range akOptionRE.FindAllString(s, -1) {
		var o akOption
		if k, v, ok := strings.Cut(part, "="); ok {
			o = akOption{name: k, value: &v}
		} else {
			o = akOption{name: part}
		}
		replaced := false
		for i := range out { // a repeated option keeps its first place
			if out[i].name == o.name {
				out[i], replaced = o, true
			}
		}
		if !replaced {
			out = append(out, o)
		}
	}
	return out
}

// parseAKLine parses one line; ok is false for a line that holds no key.
// A line whose first word is "#" is a skipped entry.
func parseAKLine(line string, rank int) (akEntry, bool) {
	raw := strings.ReplaceAll(line, `\#`, "#")
	parts := strings.Fields(raw)
	if len(parts) > 0 && parts[0] == "#" {
		return akEntry{id: raw, rank: rank}, true
	}
	for i, p := range parts {
		if !akTypes[p] {
			continue
		}
		if i+1 >= len(parts) {
			return akEntry{}, false
		}
		e := akEntry{id: parts[i+1], typ: p, rank: rank, comment: strings.Join(parts[i+2:], " ")}
		if i > 0 {
			e.opts = parseAKOptions(strings.Join(parts[:i], " "))
		}
		return e, true
	}
	return akEntry{}, false
}

// sameOptions compares options as Python dicts compare: order aside.
func sameOptions(a, b []akOption) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]*string{}
	for _, o := range a {
		m[o.name] = o.value
	}
	for _, o := range b {
		v, ok := m[o.name]
		if !ok || (v == nil) != (o.value == nil) || (v != nil && *v != *o.value) {
			return false
		}
	}
	return true
}

// akFile is the parsed file: entries by id, in insertion order (a Python
// dict's, which breaks ties between equal ranks).
type akFile struct {
	order []string
	byID  map[string]akEntry
}

func (f *akFile) set(e akEntry) {
	if _, ok := f.byID[e.id]; !ok {
		f.order = append(f.order, e.id)
	}
	f.byID[e.id] = e
}

func (f *akFile) del(id string) {
	delete(f.byID, id)
	for i, x := range f.order {
		if x == id {
			f.order = append(f.order[:i:i], f.order[i+1:]...)
			break
		}
	}
}

// parseAKFile reads a file's content into entries.
func parseAKFile(content string) *akFile {
	f := &akFile{byID: map[string]akEntry{}}
	lines := strings.SplitAfter(content, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	for i, l := range lines {
		e, ok := parseAKLine(l, i)
		if !ok {
			e = akEntry{id: l, rank: i}
		}
		f.set(e)
	}
	return f
}

// serialize writes the entries back, by rank.
func (f *akFile) serialize() string {
	es := make([]akEntry, 0, len(f.order))
	for _, id := range f.order {
		es = append(es, f.byID[id])
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].rank < es[j].rank })
	var b strings.Builder
	for _, e := range es {
		if e.typ == "" {
			b.WriteString(e.id)
			continue
		}
		if len(e.opts) > 0 {
			for i, o := range e.opts {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(o.name)
				if o.value != nil {
					b.WriteString("=" + *o.value)
				}
			}
			b.WriteByte(' ')
		}
		b.WriteString(e.typ + " " + e.id + " " + e.comment + "\n")
	}
	return b.String()
}

// akEdit is what a task asks of the file.
type akEdit struct {
	keys      []akEntry // the keys given, parsed (options and comment overridden)
	present   bool
	exclusive bool
}

// apply edits f as Ansible's enforce_state does and reports whether the
// file must be written.
func (ed akEdit) apply(f *akFile) bool {
	write := false
	base := len(f.byID)
	var keep []string
	for _, k := range ed.keys {
		old, exists := f.byID[k.id]
		matched := exists
		if exists && ed.present && (old.typ != k.typ || old.comment != k.comment || !sameOptions(old.opts, k.opts)) {
			f.del(k.id)
			matched, write = false, true
		}
		if !ed.present {
			if matched {
				f.del(k.id)
				write = true
			}
			continue
		}
		keep = append(keep, k.id)
		if !matched {
			k.rank += base
			f.set(k)
			write = true
		}
	}
	if ed.present && ed.exclusive {
		for _, id := range append([]string(nil), f.order...) {
			if !contains(keep, id) {
				f.del(id)
				write = true
			}
		}
	}
	return write
}
