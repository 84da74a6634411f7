package playbook

import (
	"errors"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// freeFormModules take a free-form command line (meta: its action word) rather than key=value
// pairs as a scalar argument.
var freeFormModules = map[string]bool{"command": true, "shell": true, "meta": true}

// moduleArgs normalises a task's module arguments as Ansible does: a
// scalar of key=value pairs (`sysctl: name=x value=1`) becomes a mapping,
// and the args: keyword is merged in (the module's own arguments win).
// Positions are kept: each pair points at the module's scalar.
func (p *parser) moduleArgs(t *Task, args, extra *yaml.Node, path, field string) *yaml.Node {
	if args != nil && args.Kind == yaml.ScalarNode && !yamlnode.IsNull(args) && !freeFormModules[t.Module] &&
		(p.modules[t.Module] || strings.Contains(strings.Fields(args.Value + " x")[0], "=")) {
		args = p.keyValues(args, field)
	}
	if extra == nil {
		return args
	}
	if extra.Kind != yaml.MappingNode {
		p.Errorf(extra, yamlnode.JoinPath(path, "args"), "must be a mapping of the module's arguments, not %s", yamlnode.Describe(extra))
		return args
	}
	merged := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: extra.Line, Column: extra.Column}
	own := map[string]bool{}
	switch {
	case args == nil || yamlnode.IsNull(args):
	case args.Kind == yaml.MappingNode:
		merged.Line, merged.Column = args.Line, args.Column
		for i := 0; i+1 < len(args.Content); i += 2 {
			own[yamlnode.Resolve(args.Content[i]).Value] = true
		}
		merged.Content = append(merged.Content, args.Content...)
	case args.Kind == yaml.ScalarNode: // command/shell free-form line
		merged.Line, merged.Column = args.Line, args.Column
		own["cmd"] = true
		merged.Content = append(merged.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "cmd", Line: args.Line, Column: args.Column}, args)
	default:
		p.Errorf(args, field, "arguments must be a mapping to merge args: into, not %s", yamlnode.Describe(args))
		return args
	}
	for i := 0; i+1 < len(extra.Content); i += 2 {
		if k := yamlnode.Resolve(extra.Content[i]); !own[k.Value] {
			merged.Content = append(merged.Content, extra.Content[i], extra.Content[i+1])
		}
	}
	return merged
}

// keyValues parses Ansible's free-form key=value arguments into a mapping
// of strings (a plain decimal integer stays an integer). Quotes group a
// value with spaces: msg="two words".
func (p *parser) keyValues(n *yaml.Node, field string) *yaml.Node {
	words, err := splitArgs(n.Value)
	if err != nil {
		p.Errorf(n, field, "free-form arguments: %v", err)
		return n
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	seen := map[string]bool{}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || !isIdentifier(k) {
			p.Errorf(n, field, "free-form arguments must be key=value pairs (as name=x state=y), not %q", w)
			return n
		}
		if seen[k] {
			p.Errorf(n, field, "free-form arguments give %s twice", k)
			return n
		}
		seen[k] = true
		tag := "!!str"
		if yamlnode.IsDecimal(v) && !strings.Contains(v, ".") {
			tag = "!!int"
		}
		out.Content = append(out.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k, Line: n.Line, Column: n.Column},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v, Line: n.Line, Column: n.Column})
	}
	return out
}

// splitArgs splits key=value words on spaces outside quotes and outside
// template delimiters ({{ }}, {% %}), as Ansible's split_args does; quotes
// around a value are removed.
func splitArgs(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, depth := false, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && i+1 < len(s) && s[i+1] == quote {
				cur.WriteByte(quote)
				i++
				continue
			}
			if c == quote {
				quote = 0
				continue
			}
			cur.WriteByte(c)
			continue
		case depth == 0 && (c == '"' || c == '\''):
			quote, inWord = c, true
			continue
		case i+1 < len(s) && c == '{' && (s[i+1] == '{' || s[i+1] == '%'):
			depth++
			cur.WriteString(s[i : i+2])
			i++
			inWord = true
			continue
		case depth > 0 && i+1 < len(s) && (c == '}' || c == '%') && s[i+1] == '}':
			depth--
			cur.WriteString(s[i : i+2])
			i++
			continue
		case depth == 0 && (c == ' ' || c == '\t' || c == '\n'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
			continue
		}
		cur.WriteByte(c)
		inWord = true
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if depth != 0 {
		return nil, errors.New("unterminated template")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
