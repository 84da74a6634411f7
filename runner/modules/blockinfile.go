package modules

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"tend/runner/plan"
	"tend/runner/transport"
)

// blockinfileSpec keeps a block of lines between two marker lines:
// Ansible's blockinfile (2.14), with its arguments and choices (an existing
// block is replaced where it is; a new one goes after the last insertafter
// match, or at the end), plus a diff in the dry run, a recheck after apply
// and binary files refused.
var blockinfileSpec = Spec{New: newBlockinfile, Verifiable: true}

// blockinfileArgs are the module's YAML arguments (Ansible's names and aliases).
type blockinfileArgs struct {
	pathArgs       `yaml:",inline"`
	fileCommonArgs `yaml:",inline"`
	State          string  `yaml:"state"`
	Marker         *string `yaml:"marker"`
	Block          *string `yaml:"block"`
	Content        *string `yaml:"content"`
	InsertAfter    *string `yaml:"insertafter"`
	InsertBefore   *string `yaml:"insertbefore"`
	Create         bool    `yaml:"create"`
	Backup         *bool   `yaml:"backup"`
	Validate       string  `yaml:"validate"`
	MarkerBegin    *string `yaml:"marker_begin"`
	MarkerEnd      *string `yaml:"marker_end"`
}

// blockinfileModule is one validated blockinfile task.
type blockinfileModule struct {
	path                      string
	absent                    bool
	block                     string
	begin, end                []byte // the marker lines, with their '\n'
	insertAfter, insertBefore *string
	ins                       *pyRegexp
	create                    bool
	opts                      writeOpts
}

func newBlockinfile(a Args) (Module, error) {
	var args blockinfileArgs
	const mod = "blockinfile"
	at, fail, err := decodeTextArgs(a, mod, &args)
	if err != nil {
		return nil, err
	}
	p, err := args.pathArgs.resolve(a.File, a.Node, mod)
	if err != nil {
		return nil, err
	}
	m := &blockinfileModule{path: p, create: args.Create, opts: writeOpts{backup: true},
		insertAfter: args.InsertAfter, insertBefore: args.InsertBefore}
	if args.Backup != nil {
		m.opts.backup = *args.Backup
	}
	switch args.State {
	case "", "present":
	case "absent":
		m.absent = true
	default:
		if !sysctlTemplated(args.State) {
			return fail("state", "state must be present or absent, not %q", args.State)
		}
	}
	switch {
	case args.Block != nil && args.Content != nil:
		return fail("content", "give block or content, not both")
	case args.Block != nil:
		m.block = *args.Block
	case args.Content != nil:
		m.block = *args.Content
	}
	marker, begin, end := "# {mark} ANSIBLE MANAGED BLOCK", "BEGIN", "END"
	if args.Marker != nil {
		marker = *args.Marker
	}
	if args.MarkerBegin != nil {
		begin = *args.MarkerBegin
	}
	if args.MarkerEnd != nil {
		end = *args.MarkerEnd
	}
	m.begin = []byte(strings.ReplaceAll(marker, "{mark}", begin) + "\n")
	m.end = []byte(strings.ReplaceAll(marker, "{mark}", end) + "\n")
	if strings.ContainsAny(marker+begin+end, "\n\r") {
		return fail("marker", "a marker is one line: no newline in marker, marker_begin or marker_end")
	}
	if bytes.Equal(m.begin, m.end) && !sysctlTemplated(marker) {
		return fail("marker", "the begin and end markers are the same line %q: put {mark} in marker", strings.TrimSpace(string(m.begin)))
	}
	if m.insertAfter != nil && m.insertBefore != nil {
		return fail("insertbefore", "insertafter and insertbefore are mutually exclusive")
	}
	key, ins := "insertafter", m.insertAfter
	if m.insertBefore != nil {
		key, ins = "insertbefore", m.insertBefore
	}
	if ins != nil && *ins != "EOF" && *ins != "BOF" && !sysctlTemplated(*ins) {
		if m.ins, err = compilePyRegexp(*ins); err != nil {
			return fail(key, "%v", err)
		}
	}
	if ins != nil && *ins == "BOF" && key == "insertafter" {
		return fail(key, "insertafter: BOF is not a position: use insertbefore: BOF")
	}
	if err := m.opts.setWriteArgs(a, mod, at, args.Validate, args.fileCommonArgs); err != nil {
		return nil, err
	}
	return m, nil
}

// Check reads the file and plans the edit (a diff).
func (m *blockinfileModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	return checkEdit(ctx, conn, m.opts, m.plan)
}

// Apply writes what Check planned, or refuses a file that changed since.
func (m *blockinfileModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	return applyEdit(ctx, conn, planned, m.path, m.opts, m.plan)
}

func (m *blockinfileModule) plan(ctx context.Context, conn transport.Conn) (*fileEdit, error) {
	f, err := readTextFile(ctx, conn, "blockinfile", m.path)
	if err != nil {
		return nil, err
	}
	e := &fileEdit{module: "blockinfile", file: f, backupKey: "backup_file"}
	if !f.exists {
		if m.absent {
			e.msg = "file not present"
			return e, nil
		}
		if !m.create {
			return nil, fmt.Errorf("blockinfile: path %s does not exist (create: true makes it)", m.path)
		}
		e.create = true
	}
	lines := pySplitlines(f.content)
	var blockLines [][]byte
	if !m.absent && m.block != "" {
		b := m.block
		if !strings.HasSuffix(b, "\n") {
			b += "\n"
		}
		blockLines = append([][]byte{m.begin}, pySplitlines([]byte(b))...)
		blockLines = append(blockLines, m.end)
	}
	n0, n1 := -1, -1
	for i, l := range lines {
		if bytes.Equal(l, m.begin) {
			n0 = i
		}
		if bytes.Equal(l, m.end) {
			n1 = i
		}
	}
	switch {
	case n0 < 0 || n1 < 0:
		n0 = m.insertAt(f.content, lines)
	case n0 < n1:
		lines = append(lines[:n0:n0], lines[n1+1:]...)
	default:
		lines = append(lines[:n1:n1], lines[n0+1:]...)
		n0 = n1
	}
	// Ansible ends the line before the block even when there is no block to
	// put there (state: absent on a file without a final newline reports a
	// change on every run until it has one); tend only does when inserting.
	if n0 > 0 && len(blockLines) > 0 && !bytes.HasSuffix(lines[n0-1], []byte("\n")) {
		lines[n0-1] = append(f0(lines[n0-1]), '\n')
	}
	out := append([][]byte(nil), lines[:n0]...)
	out = append(out, blockLines...)
	out = append(out, lines[n0:]...)
	e.after = bytes.Join(out, nil)
	switch {
	case !f.exists:
		e.msg = "File created"
	case blockLines == nil:
		e.msg = "Block removed"
	default:
		e.msg = "Block inserted"
	}
	return e, nil
}

// insertAt is where a block not yet in the file goes: after the last line
// insertafter matches (before, for insertbefore), at the start for
// insertbefore: BOF, else (or when nothing matches) at the end. A pattern
// starting with (?m) is searched in the whole file, its first match counts.
func (m *blockinfileModule) insertAt(content []byte, lines [][]byte) int {
	switch {
	case m.ins != nil:
		n := -1
		if m.ins.multiline {
			if loc := m.ins.re.FindIndex(content); loc != nil {
				if m.insertAfter != nil {
					n = bytes.Count(content[:loc[1]], []byte("\n"))
				} else {
					n = bytes.Count(content[:loc[0]], []byte("\n"))
				}
			}
		} else {
			for i, l := range lines {
				if m.ins.re.Match(chomp(l)) {
					n = i
				}
			}
		}
		switch {
		case n < 0:
			return len(lines)
		case m.insertAfter != nil:
			return n + 1
		}
		return n
	case m.insertBefore != nil:
		return 0 // BOF
	}
	return len(lines) // EOF
}

// pySplitlines splits as Python's bytes.splitlines(keepends=True): after
// "\n", "\r\n" and a lone "\r".
func pySplitlines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			out = append(out, b)
			break
		}
		end := i + 1
		if b[i] == '\r' && end < len(b) && b[end] == '\n' {
			end++
		}
		out = append(out, b[:end])
		b = b[end:]
	}
	return out
}
