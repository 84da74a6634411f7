package modules

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/kballard/go-shellquote"
	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// commandSpec runs a program without a shell: Ansible's command module.
var commandSpec = Spec{New: newCommand, RendersOwnArgs: true}

// shellSpec runs a script through /bin/sh -c: Ansible's shell module.
var shellSpec = Spec{New: newShell, RendersOwnArgs: true}

// execArgs is the mapping form of command and shell.
type execArgs struct {
	Cmd             string   `yaml:"cmd"`
	Argv            []string `yaml:"argv"`
	Chdir           string   `yaml:"chdir"`
	Stdin           string   `yaml:"stdin"`
	StdinAddNewline *bool    `yaml:"stdin_add_newline"`
	Creates         string   `yaml:"creates"`
	Removes         string   `yaml:"removes"`
	Executable      string   `yaml:"executable"`
}

// execModule runs one argv and reports its output; it is both command and shell.
type execModule struct {
	argv  []string
	stdin []byte
	// creates and removes are shell patterns (relative ones under chdir):
	// the command is skipped when one matches (creates) or none does (removes).
	creates, removes string
}

var (
	templateExpr = regexp.MustCompile(`\{\{.*?\}\}`)
	placeholder  = regexp.MustCompile("\x00([0-9]+)\x00")
)

// newCommand builds a command task. The free-form string is split into
// words like a shell would (quotes respected) BEFORE templates are rendered,
// so a rendered value is exactly one argument, whatever it contains — but
// for one case: a template that is the whole, unquoted first word
// (`command: "{{ kubectl }} get nodes"`, `command: "{{ restart_cmd }}"`) is
// the program and may carry its own words, so its value is split like a
// command line (quotes respected; no expansion, no operators: there is no
// shell, a ";" is just an argument). See splitTemplated.
func newCommand(a Args) (Module, error) {
	args, err := decodeExecArgs(a, "command")
	if err != nil {
		return nil, err
	}
	var words []string
	switch {
	case len(args.Argv) > 0 && args.Cmd != "":
		return nil, posErr(a.File, a.Node, "command", "give either cmd (or a free-form string) or argv, not both")
	case len(args.Argv) > 0:
		for _, w := range args.Argv {
			r, err := renderString(a, w)
			if err != nil {
				return nil, posErr(a.File, a.Node, "command", "%v", err)
			}
			words = append(words, r)
		}
	case hasStatements(args.Cmd):
		words, err = splitStatements(a, args.Cmd)
		if err != nil {
			return nil, posErr(a.File, a.Node, "command", "%v", err)
		}
	default:
		words, err = splitTemplated(a, args.Cmd)
		if err != nil {
			return nil, posErr(a.File, a.Node, "command", "%v", err)
		}
	}
	if len(words) == 0 {
		return nil, posErr(a.File, a.Node, "command", "nothing to run: give a command line or argv")
	}
	if args.Executable != "" {
		return nil, posErr(a.File, argNode(a.Node, "executable"), "command", "executable chooses the shell of the shell module; command runs its program without one")
	}
	return finishExec(a, "command", args, words)
}

// newShell builds a shell task. Each {{ expr }} in the script becomes a
// positional parameter ("$1", "$2", ...) whose value is passed as a separate
// argument, so no variable value is ever parsed as shell syntax.
func newShell(a Args) (Module, error) {
	args, err := decodeExecArgs(a, "shell")
	if err != nil {
		return nil, err
	}
	if len(args.Argv) > 0 {
		return nil, posErr(a.File, a.Node, "shell", "argv is for command; shell takes a script string")
	}
	shell := "/bin/sh"
	if args.Executable != "" {
		sh, err := renderString(a, args.Executable)
		if err != nil {
			return nil, posErr(a.File, argNode(a.Node, "executable"), "shell", "executable: %v", err)
		}
		if !templated(sh) && !strings.HasPrefix(sh, "/") {
			return nil, posErr(a.File, argNode(a.Node, "executable"), "shell", "executable %q must be an absolute path (e.g. /bin/bash)", sh)
		}
		shell = sh
	}
	if strings.TrimSpace(args.Cmd) == "" {
		return nil, posErr(a.File, a.Node, "shell", "empty script")
	}
	if hasStatements(args.Cmd) {
		script, vals, err := renderShellStatements(a, args.Cmd)
		if err != nil {
			return nil, posErr(a.File, a.Node, "shell", "%v", err)
		}
		return finishExec(a, "shell", args, append([]string{shell, "-c", script, "sh"}, vals...))
	}
	script, exprs, err := parameterizeShell(args.Cmd)
	if err != nil {
		return nil, posErr(a.File, a.Node, "shell", "%v", err)
	}
	words := []string{shell, "-c", script, "sh"}
	for _, e := range exprs {
		v, err := renderString(a, "{{"+e+"}}")
		if err != nil {
			return nil, posErr(a.File, a.Node, "shell", "%v", err)
		}
		words = append(words, v)
	}
	if program := leadingShellTemplate.FindStringSubmatch(args.Cmd); program != nil && a.Render != nil {
		// The program's template, the whole first word (shell: "{{ restart_cmd }}"),
		// may carry its own words, as in command: split like a command line and
		// passed as further positional parameters, each quoted in the script.
		prog, err := shellquote.Split(words[4])
		if err != nil || len(prog) == 0 {
			return nil, posErr(a.File, a.Node, "shell", "the program {{%s}} renders to %q, which is not a command line", exprs[0], words[4])
		}
		refs := make([]string, len(prog))
		for i := range prog {
			refs[i] = fmt.Sprintf(`"${%d}"`, len(exprs)+1+i)
		}
		words[2] = strings.Replace(script, `"${1}"`, strings.Join(refs, " "), 1)
		words = append(words, prog...)
	}
	return finishExec(a, "shell", args, words)
}

// leadingShellTemplate matches a shell script whose first word is one whole
// unquoted template, ended by a blank, an operator or the end.
var leadingShellTemplate = regexp.MustCompile(`^\s*\{\{[^}]*\}\}(?:[\s;|&)]|$)`)

func decodeExecArgs(a Args, module string) (execArgs, error) {
	var args execArgs
	if a.Node == nil {
		return args, posErr(a.File, a.Node, module, "missing arguments")
	}
	if a.Node.Kind == yaml.ScalarNode {
		args.Cmd = a.Node.Value
		return args, nil
	}
	err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true})
	return args, err
}

func finishExec(a Args, module string, args execArgs, words []string) (Module, error) {
	m := &execModule{argv: words}
	dir := ""
	if args.Chdir != "" {
		var err error
		if dir, err = renderString(a, args.Chdir); err != nil {
			return nil, posErr(a.File, argNode(a.Node, "chdir"), module, "chdir: %v", err)
		}
		m.argv = append([]string{"/bin/sh", "-c", `cd -- "$1" && shift && exec "$@"`, "sh", dir}, words...)
	}
	if args.Stdin != "" {
		in, err := renderString(a, args.Stdin)
		if err != nil {
			return nil, posErr(a.File, argNode(a.Node, "stdin"), module, "stdin: %v", err)
		}
		if args.StdinAddNewline == nil || *args.StdinAddNewline {
			in += "\n" // Ansible's default
		}
		m.stdin = []byte(in)
	}
	for _, c := range []struct {
		key, val string
		dest     *string
	}{{"creates", args.Creates, &m.creates}, {"removes", args.Removes, &m.removes}} {
		if c.val == "" {
			continue
		}
		p, err := renderString(a, c.val)
		if err != nil {
			return nil, posErr(a.File, argNode(a.Node, c.key), module, "%s: %v", c.key, err)
		}
		if strings.ContainsRune(p, 0) {
			return nil, posErr(a.File, argNode(a.Node, c.key), module, "%s: a path cannot hold a NUL byte", c.key)
		}
		if dir != "" && !strings.HasPrefix(p, "/") {
			p = path.Join(dir, p)
		}
		*c.dest = p
	}
	return m, nil
}

// renderString renders a template to a string; without a renderer (static
// validation before any host is contacted) it returns the text unchanged.
func renderString(a Args, s string) (string, error) {
	if a.Render == nil || !yamlnode.IsTemplateText(s) {
		return s, nil
	}
	v, err := a.Render(s)
	if err != nil {
		return "", err
	}
	if str, ok := v.(string); ok {
		return str, nil
	}
	return fmt.Sprint(v), nil
}

// splitTemplated splits a command line into words, rendering each
// {{ expr }} inside the word it stands in.
func splitTemplated(a Args, line string) ([]string, error) {
	var exprs []string
	masked := templateExpr.ReplaceAllStringFunc(line, func(m string) string {
		exprs = append(exprs, m)
		return fmt.Sprintf("\x00%d\x00", len(exprs)-1)
	})
	words, err := shellquote.Split(masked)
	if err != nil {
		return nil, fmt.Errorf("cannot split command line: %v", err)
	}
	var program []string // the first word's words, when it is a whole template
	if m := leadingTemplate.FindStringSubmatch(masked); m != nil && len(words) > 0 && words[0] == m[1] {
		var n int
		fmt.Sscanf(strings.Trim(m[1], "\x00"), "%d", &n)
		v, err := renderString(a, exprs[n])
		if err != nil {
			return nil, err
		}
		if a.Render == nil { // static validation: the value is not known yet
			program = []string{v}
		} else if program, err = shellquote.Split(v); err != nil {
			return nil, fmt.Errorf("the program %s renders to %q, which cannot be split into words: %v", exprs[n], v, err)
		} else if len(program) == 0 {
			return nil, fmt.Errorf("the program %s renders to nothing", exprs[n])
		}
		words = words[1:]
	}
	for i, w := range words {
		var rerr error
		words[i] = placeholder.ReplaceAllStringFunc(w, func(m string) string {
			var n int
			fmt.Sscanf(strings.Trim(m, "\x00"), "%d", &n)
			v, err := renderString(a, exprs[n])
			if err != nil && rerr == nil {
				rerr = err
			}
			return v
		})
		if rerr != nil {
			return nil, rerr
		}
	}
	return append(program, words...), nil
}

// leadingTemplate matches a masked command line whose first word is one
// whole, unquoted template: the program, which may expand to several words.
var leadingTemplate = regexp.MustCompile("^\\s*(\x00[0-9]+\x00)(?:\\s|$)")

// parameterizeShell replaces each {{ expr }} of a shell script by a
// positional parameter reference: "${N}" outside quotes, ${N} inside double
// quotes. Inside single quotes no expansion is possible, so it is an error.
func parameterizeShell(script string) (string, []string, error) {
	var out strings.Builder
	var exprs []string
	inSingle, inDouble := false, false
	for i := 0; i < len(script); i++ {
		c := script[i]
		if strings.HasPrefix(script[i:], "{{") {
			end := strings.Index(script[i:], "}}")
			if end < 0 {
				return "", nil, fmt.Errorf("unclosed {{ in script")
			}
			if inSingle {
				return "", nil, fmt.Errorf("{{ ... }} inside single quotes cannot be substituted safely; use double quotes")
			}
			exprs = append(exprs, script[i+2:i+end])
			ref := fmt.Sprintf("${%d}", len(exprs))
			if !inDouble {
				ref = `"` + ref + `"`
			}
			out.WriteString(ref)
			i += end + 1
			continue
		}
		switch {
		case c == '\\' && !inSingle && i+1 < len(script):
			out.WriteByte(c)
			i++
			c = script[i]
		case c == '\'' && !inDouble:
			inSingle = !inSingle
		case c == '"' && !inSingle:
			inDouble = !inDouble
		}
		out.WriteByte(c)
	}
	return out.String(), exprs, nil
}

// Check cannot predict a command's effect: it says the command would run,
// unless creates or removes says it has nothing to do (one remote command).
func (m *execModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	if m.creates != "" || m.removes != "" {
		var ops []fsOp
		if m.creates != "" {
			ops = append(ops, fsOp{"glob", m.creates})
		}
		if m.removes != "" {
			ops = append(ops, fsOp{"glob", m.removes})
		}
		ans, _, err := fsProbe(ctx, conn, ops)
		if err != nil {
			return plan.Change{}, fmt.Errorf("creates/removes: %w", err)
		}
		skip := func(why string) (plan.Change, error) {
			return plan.Change{Action: plan.None, Summary: why, Data: map[string]any{
				"rc": 0, "stdout": why, "stderr": "", "stdout_lines": []any{why}, "stderr_lines": []any{}, "cmd": m.argv,
			}}, nil
		}
		if m.creates != "" && ans[0].value == "1" {
			return skip(fmt.Sprintf("skipped, since %s exists", m.creates))
		}
		if m.removes != "" && ans[len(ans)-1].value != "1" {
			return skip(fmt.Sprintf("skipped, since %s does not exist", m.removes))
		}
	}
	return plan.Change{Action: plan.Run, Summary: "would run: " + shellquote.Join(m.argv...)}, nil
}

// Apply runs the command. A non-zero exit code is a failed result, not an error.
func (m *execModule) Apply(ctx context.Context, conn transport.Conn, _ plan.Change) (plan.Change, error) {
	res, err := conn.Run(ctx, transport.Command{Argv: m.argv, Stdin: m.stdin, OwnSession: true})
	if err != nil {
		return plan.Change{}, err
	}
	stdout := strings.TrimRight(string(res.Stdout), "\n")
	stderr := strings.TrimRight(string(res.Stderr), "\n")
	c := plan.Change{
		Action: plan.Run,
		Data: map[string]any{
			"rc":           res.ExitCode,
			"stdout":       stdout,
			"stderr":       stderr,
			"stdout_lines": splitLines(stdout),
			"stderr_lines": splitLines(stderr),
			"truncated":    res.Truncated,
		},
	}
	if res.ExitCode != 0 {
		c.Failed = true
		c.Msg = fmt.Sprintf("non-zero return code %d", res.ExitCode)
	}
	return c, nil
}

func splitLines(s string) []any {
	if s == "" {
		return []any{}
	}
	parts := strings.Split(s, "\n")
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out
}
