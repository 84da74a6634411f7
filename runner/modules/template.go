package modules

import (
	"fmt"
	"unicode/utf8"

	"tend/internal/yamlnode"
	"tend/runner/template"
)

// templateSpec writes a file rendered from a Jinja2 template on the
// controller with the host's variables: Ansible's template module. It is
// copy with the content rendered — the same diff in check mode, atomic
// write, backup, validate and attributes. The template file is compiled
// when the playbook is validated (a syntax error names file:line before any
// host is contacted) and rendered per host before anything is written (an
// undefined variable names file:line and the variable).
var templateSpec = Spec{New: newTemplate, Verifiable: true}

type templateArgs struct {
	Src      string `yaml:"src"`
	Dest     string `yaml:"dest"`
	Mode     string `yaml:"mode"`
	Owner    string `yaml:"owner"`
	Group    string `yaml:"group"`
	Backup   bool   `yaml:"backup"`
	Validate string `yaml:"validate"`
	Force    *bool  `yaml:"force"`
	Follow   *bool  `yaml:"follow"`
}

func newTemplate(a Args) (Module, error) {
	var args templateArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	if args.Src == "" {
		return nil, posErr(a.File, argNode(a.Node, "src"), "template", "src is required (a Jinja2 file in templates/ beside the playbook)")
	}
	ca := copyArgs{Dest: args.Dest, Src: args.Src, Mode: args.Mode, Owner: args.Owner, Group: args.Group,
		Backup: args.Backup, Validate: args.Validate, Force: args.Force, Follow: args.Follow}
	return buildCopy(a, "template", ca, func(src string) (string, []byte, uint32, error) {
		p, data, mode, err := readFirstFile(src, a.sourceCandidates("templates", src))
		if err != nil {
			return "", nil, 0, err
		}
		if !utf8.Valid(data) {
			return "", nil, 0, fmt.Errorf("%s is not UTF-8 text", p)
		}
		if err := template.CheckFile(p, string(data)); err != nil {
			return "", nil, 0, err
		}
		if a.RenderFile == nil {
			return p, data, mode, nil // validating: compiled, not rendered
		}
		out, err := a.RenderFile(p, string(data))
		if err != nil {
			return "", nil, 0, err
		}
		return p, []byte(out), mode, nil
	})
}
