package modules

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"tend/runner/plan"
	"tend/runner/transport"
)

// pipScript does a pip task's remote part in one command. $1 is probe
// (the virtualenv and pip only), check (and pip list) or apply (create the
// virtualenv when missing, freeze before when $10 is 1, run pip, freeze
// after); $2 chdir ("" is $TMPDIR or /tmp, as Ansible), $3 umask, $4 the
// virtualenv, $5 the virtualenv command (shell words, quoted by tend), $6
// virtualenv_python ("-": none, as for the venv module; "": the host's
// python3), $7 1 for --system-site-packages, $8 executable, $9 pip's
// arguments (shell words, quoted by tend). Prints NUL-terminated key,
// value pairs; a program's output is kept byte for byte.
const pipScript = `LC_ALL=C LANG=C LC_MESSAGES=C; export LC_ALL LANG LC_MESSAGES
act=$1 dir=$2 um=$3 env=$4 vcmd=$5 vpy=$6 site=$7 exe=$8 pargs=$9 freeze=${10} T=
trap '[ -z "$T" ] || rm -rf -- "$T"' EXIT
trap 'exit 99' HUP INT TERM PIPE
kv() { printf '%s\0%s\0' "$1" "$2"; }
fail() { kv fail "$1"; exit 0; }
emit() { printf '%s\0' "$1"; cat -- "$2"; printf '\0'; }
run() { n=$1; shift; "$@" </dev/null >"$T/o" 2>"$T/e"; r=$?; kv "${n}_rc" "$r"; emit "${n}_out" "$T/o"; emit "${n}_err" "$T/e"; return $r; }
case $dir in "~") dir=$HOME;; "~/"*) dir=$HOME/${dir#"~/"};; esac
case $env in "~") env=$HOME;; "~/"*) env=$HOME/${env#"~/"};; esac
[ -z "$um" ] || umask "$um" || fail "umask must be an octal integer"
[ -n "$dir" ] || dir=${TMPDIR:-/tmp}
T=$(mktemp -d "${TMPDIR:-/tmp}/.tend-pip.XXXXXX") || fail "cannot make a temporary directory"
cd -- "$dir" 2>/dev/null || fail "cannot change into chdir $dir"
kv env "$env"
if [ -n "$env" ] && [ ! -e "$env/bin/activate" ]; then
	[ "$act" = apply ] || { kv venv missing; exit 0; }
	eval "set -- $vcmd"
	case $1 in */*) ;; *) c=$(command -v -- "$1") || fail "Failed to find required executable \"$1\" in paths: $PATH"; shift; set -- "$c" "$@";; esac
	if [ "$site" = 1 ]; then set -- "$@" --system-site-packages
	elif "$1" --help 2>/dev/null | grep -qE -e '(^|[[:space:]])--no-site-packages([[:space:]]|$)'; then set -- "$@" --no-site-packages
	fi
	case $vpy in
	-) ;;
	"") if [ -x /usr/bin/python3 ]; then p=/usr/bin/python3; else p=$(command -v python3); fi
	    [ -z "$p" ] || set -- "$@" "-p$p";;
	*) set -- "$@" "-p$vpy";;
	esac
	set -- "$@" "$env"
	for a in "$@"; do kv venv_arg "$a"; done
	run venv "$@" || exit 0
	kv created 1
fi
py= pip=
if [ -n "$exe" ]; then
	case $exe in /*) pip=$exe;; *) pip=$(command -v -- "$exe") || fail "Unable to find any of $exe to use.  pip needs to be installed.";; esac
elif [ -n "$env" ]; then
	for b in pip3 pip; do
		if [ -f "$env/bin/$b" ] && [ -x "$env/bin/$b" ]; then pip=$env/bin/$b; break; fi
	done
	[ -n "$pip" ] || fail "Unable to find pip in the virtualenv, $env, under any of these names: pip3, pip. Make sure pip is present in the virtualenv."
else
	if [ -x /usr/bin/python3 ]; then py=/usr/bin/python3; else py=$(command -v python3); fi
	if [ -z "$py" ] || ! "$py" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("pip") is None)' 2>/dev/null; then
		py=
		pip=$(command -v pip3) || fail "Unable to find any of pip3 to use.  pip needs to be installed."
	fi
fi
if [ -n "$py" ]; then kv pip "$py"; kv pip -m; kv pip pip.__main__; else kv pip "$pip"; fi
runpip() { if [ -n "$py" ]; then "$py" -m pip.__main__ "$@"; else "$pip" "$@"; fi; }
freeze() { if run "$1" runpip list --format=freeze; then kv "$1_cmd" "list --format=freeze"; else run "$1" runpip freeze; kv "$1_cmd" freeze; fi; }
case $act in
probe) exit 0;;
check) freeze list; exit 0;;
esac
[ "$freeze" != 1 ] || freeze before
[ -z "$env" ] || { PATH=$env/bin:$PATH; export PATH; }
eval "run pip runpip $pargs"
[ "$freeze" != 1 ] || freeze after
exit 0`

// pipHost is what the script printed: every value of each key.
type pipHost map[string][]string

func (h pipHost) get(k string) string {
	if v := h[k]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// run runs the script with act (probe, check, apply).
func (m *pipModule) run(ctx context.Context, conn transport.Conn, act string) (pipHost, error) {
	vpy := m.venvPython
	if pipIsVenvModule(strings.Join(m.venvCmd, " ")) {
		vpy = "-"
	}
	site, freeze := "", ""
	if m.sitePackages {
		site = "1"
	}
	if m.requirementsOn || m.hasVCS {
		freeze = "1" // as Ansible: changed is the freeze before and after
	}
	argv := []string{"/bin/sh", "-c", pipScript, "sh", act, m.chdir, m.umask, m.env,
		transport.ShellJoin(m.venvCmd), vpy, site, m.executable, transport.ShellJoin(m.pipArgv()), freeze}
	res, err := conn.Run(ctx, transport.Command{Argv: argv, OwnSession: act == "apply"})
	if err != nil {
		return nil, fmt.Errorf("pip: %w", err)
	}
	fields := bytes.Split(res.Stdout, []byte{0})
	if res.ExitCode != 0 || len(fields) < 2 {
		return nil, fmt.Errorf("pip: the remote script failed (exit %d): %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	h := pipHost{}
	for i := 0; i+1 < len(fields); i += 2 {
		k := string(fields[i])
		h[k] = append(h[k], string(fields[i+1]))
	}
	return h, nil
}

// pipFail is Ansible's _fail message: stdout, then stderr.
func pipFail(out, errText string) string {
	msg := ""
	if out != "" {
		msg += "stdout: " + out
	}
	if errText != "" {
		msg += "\n:stderr: " + errText
	}
	return msg
}

// cmd is the pip command line as Ansible registers it (a list).
func (m *pipModule) cmd(h pipHost) []any {
	var out []any
	for _, w := range append(append([]string{}, h["pip"]...), m.pipArgv()...) {
		out = append(out, w)
	}
	return out
}

// result is the registered result's keys, as Ansible's pip returns them.
func (m *pipModule) result(h pipHost, stdout, stderr string) map[string]any {
	nilIfEmpty := func(s string, given bool) any {
		if !given {
			return nil
		}
		return s
	}
	var names any
	if m.namesGiven {
		l := []any{}
		for _, n := range m.names {
			l = append(l, n)
		}
		names = l
	}
	var env any
	if e := h.get("env"); e != "" {
		env = e
	}
	return map[string]any{"cmd": m.cmd(h), "name": names, "version": nilIfEmpty(m.version, m.versionGiven),
		"state": m.state, "requirements": nilIfEmpty(m.requirements, m.requirementsOn), "virtualenv": env,
		"stdout": stdout, "stderr": stderr}
}

// what says what pip would be asked to do.
func (m *pipModule) what() string {
	verb := map[string]string{"present": "install", "absent": "uninstall", "latest": "upgrade", "forcereinstall": "reinstall"}[m.state]
	if len(m.reqs) == 0 {
		return verb + " the requirements of " + m.requirements
	}
	var n []string
	for _, r := range m.reqs {
		n = append(n, r.text)
	}
	return verb + " " + strings.Join(n, ", ")
}

// Check reads the virtualenv and pip list and says what pip would do, as
// Ansible's check mode: a missing virtualenv, extra_args, requirements and
// state latest always count as a change (pip alone can tell).
func (m *pipModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	act := "check"
	if m.pipDecides() || m.state == "forcereinstall" {
		act = "probe"
	}
	h, err := m.run(ctx, conn, act)
	if err != nil {
		return plan.Change{}, err
	}
	c := plan.Change{Action: plan.None, Data: map[string]any{}}
	switch {
	case h.get("fail") != "":
		c.Failed, c.Msg = true, h.get("fail")
		return c, nil
	case h.get("venv") == "missing":
		c.Action = plan.Update
		c.Summary = fmt.Sprintf("would create the virtualenv %s (%s), then %s", h.get("env"), strings.Join(m.venvCmd, " "), m.what())
		return c, nil
	case len(m.reqs) == 0 && !m.requirementsOn:
		c.Summary = "nothing to do"
		c.Warnings = []string{"No valid name or requirements file found."}
		return c, nil
	case m.state == "forcereinstall":
		c.Action, c.Summary = plan.Update, "would "+m.what()
		return c, nil
	case m.pipDecides():
		c.Action = plan.Update
		c.Summary = "would run pip to " + m.what() + " (with extra_args, requirements or state latest only pip can tell whether anything changes)"
		return c, nil
	}
	if h.get("list_rc") != "0" {
		c.Failed, c.Msg = true, pipFail(h.get("list_out"), h.get("list_err"))
		c.Data["cmd"] = strings.Join(append(h["pip"], h.get("list_cmd")), " ")
		return c, nil
	}
	installed := map[string]string{}
	for _, line := range strings.Split(h.get("list_out"), "\n") {
		if n, v, ok := strings.Cut(strings.TrimSpace(line), "=="); ok {
			installed[pipCanonical(n)] = v
		}
	}
	var todo, ok []string
	for _, r := range m.reqs {
		v, has := installed[r.name]
		present := has && r.satisfiedBy(v)
		switch {
		case m.state == "present" && !present && has:
			todo = append(todo, fmt.Sprintf("install %s (now %s)", r.text, v))
		case m.state == "present" && !present:
			todo = append(todo, "install "+r.text)
		case m.state == "absent" && present:
			todo = append(todo, fmt.Sprintf("uninstall %s %s", r.name, v))
		case has:
			ok = append(ok, r.name+" "+v)
		default:
			ok = append(ok, r.text+" absent")
		}
	}
	c.Data = m.result(h, h.get("list_out"), h.get("list_err"))
	if len(todo) == 0 {
		c.Summary = strings.Join(ok, ", ")
		return c, nil
	}
	c.Action, c.Summary = plan.Update, "would "+strings.Join(todo, "; ")
	if len(ok) > 0 {
		c.Summary += "; already as asked: " + strings.Join(ok, ", ")
	}
	return c, nil
}

// Apply creates the virtualenv when missing and runs pip; changed as
// Ansible's pip tells it.
func (m *pipModule) Apply(ctx context.Context, conn transport.Conn, _ plan.Change) (plan.Change, error) {
	act := "apply"
	if len(m.reqs) == 0 && !m.requirementsOn {
		act = "probe"
	}
	h, err := m.run(ctx, conn, act)
	if err != nil {
		return plan.Change{}, err
	}
	c := plan.Change{Action: plan.None, Data: map[string]any{}}
	created := h.get("created") == "1"
	if f := h.get("fail"); f != "" {
		c.Failed, c.Msg = true, f
		return c, nil
	}
	if rc := h.get("venv_rc"); rc != "" && rc != "0" {
		c.Failed, c.Msg = true, pipFail(h.get("venv_out"), h.get("venv_err"))
		c.Data = map[string]any{"cmd": anyList(h["venv_arg"])}
		return c, nil
	}
	if act == "probe" {
		c.Summary, c.Warnings = "nothing to do", []string{"No valid name or requirements file found."}
		return c, nil
	}
	if h.get("before_rc") != "" && h.get("before_rc") != "0" {
		c.Failed, c.Msg = true, pipFail(h.get("before_out"), h.get("before_err"))
		return c, nil
	}
	pipOut, pipErr := h.get("pip_out"), h.get("pip_err")
	out, errText := h.get("venv_out")+pipOut, h.get("venv_err")+pipErr
	c.Data = m.result(h, out, errText)
	rc := h.get("pip_rc")
	notInstalled := strings.Contains(pipOut, "not installed") || strings.Contains(pipErr, "not installed")
	if rc != "0" && !(rc == "1" && m.state == "absent" && notInstalled) {
		c.Failed, c.Msg = true, pipFail(out, errText)
		c.Data = map[string]any{"cmd": c.Data["cmd"]}
		return c, nil
	}
	var changed bool
	switch {
	case m.state == "absent":
		changed = strings.Contains(pipOut, "Successfully uninstalled")
	case h.get("before_rc") != "":
		changed = h.get("before_out") != h.get("after_out")
	default:
		changed = strings.Contains(pipOut, "Successfully installed")
	}
	var said []string
	if created {
		said = append(said, "created the virtualenv "+h.get("env"))
	}
	for _, line := range strings.Split(pipOut, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "Successfully ") {
			said = append(said, line)
		}
	}
	if changed || created {
		c.Action = plan.Update
	}
	c.Summary = firstNonEmptyStr(strings.Join(said, "; "), "pip changed nothing")
	return c, nil
}

// anyList is l as a registered list.
func anyList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}
