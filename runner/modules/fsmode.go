package modules

import (
	"fmt"
	"strconv"
	"strings"
)

// fileMode is a `mode:` argument of file and copy: octal digits ("0644",
// "644", "1777") or a symbolic mode as chmod(1) and Ansible take it
// ("u+rwx,g-w,o=r", "a+X", "+x", "g=u"). Octal digits are always octal,
// whether the YAML scalar was quoted or not.
type fileMode struct {
	text    string
	octal   bool
	value   uint32       // when octal
	clauses []modeClause // when symbolic
}

// modeClause is one comma-separated part of a symbolic mode: who and a
// sequence of operations.
type modeClause struct {
	who  string // subset of "ugo"; empty means "a, masked by the umask"
	umsk bool   // who was empty: r, w and x bits set in the umask are left alone
	ops  []modeOp
}

// modeOp is one operator and its permission letters (rwxXst or one of ugo).
type modeOp struct {
	op    byte // '+', '-' or '='
	perms string
}

const permBits = 0o7777

// parseFileMode parses a mode argument; errors name what is wrong.
func parseFileMode(s string) (*fileMode, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty mode")
	}
	if strings.Trim(s, "01234567") == "" {
		v, err := strconv.ParseUint(s, 8, 32)
		if err != nil || v > permBits {
			return nil, fmt.Errorf("mode %q: octal value out of range (at most 07777)", s)
		}
		return &fileMode{text: s, octal: true, value: uint32(v)}, nil
	}
	m := &fileMode{text: s}
	for _, part := range strings.Split(s, ",") {
		i := strings.IndexAny(part, "+-=")
		if i < 0 {
			return nil, fmt.Errorf("mode %q: %q has no operator (+, - or =); octal modes are digits only", s, part)
		}
		who := part[:i]
		c := modeClause{}
		if who == "" {
			c.who, c.umsk = "ugo", true
		}
		for _, w := range who {
			switch w {
			case 'a':
				c.who += "ugo"
			case 'u', 'g', 'o':
				c.who += string(w)
			default:
				return nil, fmt.Errorf("mode %q: %q is not u, g, o or a", s, w)
			}
		}
		rest := part[i:]
		for rest != "" {
			op := rest[0]
			j := strings.IndexAny(rest[1:], "+-=")
			perms := rest[1:]
			if j >= 0 {
				perms = rest[1 : j+1]
			}
			rest = rest[1+len(perms):]
			if strings.Trim(perms, "rwxXst") != "" {
				if len(perms) != 1 || !strings.Contains("ugo", perms) {
					return nil, fmt.Errorf("mode %q: %q: permissions are letters of rwxXst, or one of u, g, o", s, perms)
				}
			}
			c.ops = append(c.ops, modeOp{op: op, perms: perms})
		}
		m.clauses = append(m.clauses, c)
	}
	return m, nil
}

// String is the mode as written in the playbook.
func (m *fileMode) String() string { return m.text }

// apply returns the permission bits (07777) the mode gives a file whose
// current bits are cur; isDir matters for X, umask for a mode without who.
func (m *fileMode) apply(cur uint32, isDir bool, umask uint32) uint32 {
	if m.octal {
		return m.value
	}
	mode := cur & permBits
	for _, c := range m.clauses {
		for _, op := range c.ops {
			for _, w := range c.who {
				bits := permsFor(byte(w), op.perms, mode, isDir, c.umsk, umask)
				mode = applyModeOp(byte(w), op.op, bits, mode)
			}
		}
	}
	return mode
}

// whoShift is how far u, g and o's rwx bits sit from o's.
var whoShift = map[byte]uint{'u': 6, 'g': 3, 'o': 0}

// permsFor is the bits perms stands for, for class w, given the mode so far.
func permsFor(w byte, perms string, mode uint32, isDir, useUmask bool, umask uint32) uint32 {
	sh := whoShift[w]
	var bits uint32
	for i := 0; i < len(perms); i++ {
		var b uint32
		switch perms[i] {
		case 'r':
			b = 4 << sh
		case 'w':
			b = 2 << sh
		case 'x':
			b = 1 << sh
		case 'X':
			if isDir || mode&0o111 != 0 {
				b = 1 << sh
			}
		case 's':
			switch w {
			case 'u':
				b = 0o4000
			case 'g':
				b = 0o2000
			}
		case 't':
			if w == 'o' {
				b = 0o1000
			}
		case 'u', 'g', 'o': // copy another class's current rwx
			b = ((mode >> whoShift[perms[i]]) & 7) << sh
		}
		if useUmask && strings.IndexByte("rwx", perms[i]) >= 0 {
			b &^= umask
		}
		bits |= b
	}
	return bits
}

// applyModeOp applies +, - or = of bits to class w of mode.
func applyModeOp(w, op byte, bits, mode uint32) uint32 {
	switch op {
	case '+':
		return mode | bits
	case '-':
		return mode &^ bits
	}
	mask := uint32(7) << whoShift[w]
	switch w {
	case 'u':
		mask |= 0o4000
	case 'g':
		mask |= 0o2000
	case 'o':
		mask |= 0o1000
	}
	return mode&^mask | bits
}

// octalMode renders permission bits as Ansible does: "0644", "1777".
func octalMode(m uint32) string { return fmt.Sprintf("%04o", m&permBits) }
