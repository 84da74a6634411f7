package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tend/runner/transport"
)

// fsChangeScript makes the changes a file-state plan lists, given as
// triples OP PATH ARG, in order, stopping at the first that fails (its
// stderr kept, exit 90, the index of the failed step on stdout):
//
//	mkdir P -        one directory level
//	chmod P MODE     octal
//	chown P USER, chgrp P GROUP; lchown, lchgrp act on a symlink itself
//	rm P -           rm -rf: a symlink is removed, never followed
//	rmdir P -        an empty directory
//	symlink P SRC, hardlink P SRC   made beside P, then renamed over it
//	touch P -, ltouch P -           times to now (ltouch: the symlink itself)
//	create P -       an empty file that must not exist yet
const fsChangeScript = `LC_ALL=C; export LC_ALL
i=0
while [ $# -ge 3 ]; do
	op=$1 p=$2 a=$3; shift 3
	case $op in
	mkdir) mkdir -- "$p" ;;
	chmod) chmod -- "$a" "$p" ;;
	chown) chown -- "$a" "$p" ;;
	lchown) chown -h -- "$a" "$p" ;;
	chgrp) chgrp -- "$a" "$p" ;;
	lchgrp) chgrp -h -- "$a" "$p" ;;
	rm) rm -rf -- "$p" ;;
	rmdir) rmdir -- "$p" ;;
	symlink|hardlink)
		t="$p.tend-tmp.$$"
		rm -f -- "$t"
		if [ "$op" = symlink ]; then ln -s -- "$a" "$t"; else ln -- "$a" "$t"; fi &&
			{ mv -Tf -- "$t" "$p" || { rm -f -- "$t"; false; }; } ;;
	touch) touch -- "$p" ;;
	ltouch) touch -h -- "$p" ;;
	create) (set -C; : > "$p") ;;
	*) echo "unknown operation $op" >&2; false ;;
	esac || { printf '%s' "$i"; exit 90; }
	i=$((i+1))
done`

// fsStep is one step of a file-state change.
type fsStep struct{ op, path, arg string }

// String says what the step does, for messages.
func (s fsStep) String() string {
	switch s.op {
	case "chmod", "chown", "chgrp", "lchown", "lchgrp":
		return fmt.Sprintf("%s %s %s", s.op, s.arg, s.path)
	case "symlink", "hardlink":
		return fmt.Sprintf("%s %s -> %s", s.op, s.path, s.arg)
	}
	return s.op + " " + s.path
}

// fsChange runs steps in one remote command. A step the host refuses is an
// error naming it and the host's message; the steps before it are done.
func fsChange(ctx context.Context, conn transport.Conn, steps []fsStep) error {
	if len(steps) == 0 {
		return nil
	}
	argv := []string{"/bin/sh", "-c", fsChangeScript, "sh"}
	for _, s := range steps {
		arg := s.arg
		if arg == "" {
			arg = "-"
		}
		argv = append(argv, s.op, s.path, arg)
	}
	res, err := conn.Run(ctx, transport.Command{Argv: argv})
	if err != nil {
		return err
	}
	if res.ExitCode == 0 {
		return nil
	}
	msg := strings.TrimSpace(string(res.Stderr))
	if i, err := strconv.Atoi(strings.TrimSpace(string(res.Stdout))); err == nil && res.ExitCode == 90 && i < len(steps) {
		if i > 0 {
			return fmt.Errorf("%s failed (after %d steps done): %s", steps[i], i, msg)
		}
		return fmt.Errorf("%s failed: %s", steps[i], msg)
	}
	return fmt.Errorf("changing files failed (exit %d): %s", res.ExitCode, msg)
}

// fileAttrs are the mode, owner and group a file, directory or copy task
// asks for.
type fileAttrs struct {
	mode         *fileMode
	owner, group string
}

func (a fileAttrs) empty() bool { return a.mode == nil && a.owner == "" && a.group == "" }

// attrOps are the probe operations that resolve owner and group names on
// the host, plus its umask when a symbolic mode needs it.
func (a fileAttrs) ops() []fsOp {
	var ops []fsOp
	if a.owner != "" && !isNumeric(a.owner) {
		ops = append(ops, fsOp{"uid", a.owner})
	}
	if a.group != "" && !isNumeric(a.group) {
		ops = append(ops, fsOp{"gid", a.group})
	}
	return append(ops, fsOp{"umask", "-"})
}

// hostIDs is what attrOps found: the wanted uid and gid (-1: not asked).
type hostIDs struct {
	uid, gid int
	umask    uint32
}

// resolve reads attrOps' answers (in order, from answers) and fails on an
// owner or group the host does not know.
func (a fileAttrs) resolve(answers []fsAnswer) (hostIDs, []fsAnswer, error) {
	ids := hostIDs{uid: -1, gid: -1}
	take := func() fsAnswer { x := answers[0]; answers = answers[1:]; return x }
	if a.owner != "" {
		if isNumeric(a.owner) {
			ids.uid, _ = strconv.Atoi(a.owner)
		} else if x := take(); x.status == "ok" {
			ids.uid, _ = strconv.Atoi(x.value)
		} else {
			return ids, nil, fmt.Errorf("owner %q: no such user on the host", a.owner)
		}
	}
	if a.group != "" {
		if isNumeric(a.group) {
			ids.gid, _ = strconv.Atoi(a.group)
		} else if x := take(); x.status == "ok" {
			ids.gid, _ = strconv.Atoi(x.value)
		} else {
			return ids, nil, fmt.Errorf("group %q: no such group on the host", a.group)
		}
	}
	ids.umask = parseUmask(take().value)
	return ids, answers, nil
}

func isNumeric(s string) bool {
	_, err := strconv.ParseUint(s, 10, 31)
	return err == nil
}

// attrPlan compares entry e with the attributes asked and returns the steps
// that make it so and the old → new values a dry run shows. link: e is a
// symlink handled itself (owner and group with -h; a symlink has no mode).
func (a fileAttrs) attrPlan(e fsEntry, ids hostIDs, link bool) ([]fsStep, []attrChange) {
	var steps []fsStep
	var changes []attrChange
	if a.mode != nil && !link {
		want := a.mode.apply(e.Mode, e.Type == 'd', ids.umask)
		if want != e.Mode {
			steps = append(steps, fsStep{"chmod", e.Path, fmt.Sprintf("%04o", want)})
			changes = append(changes, attrChange{e.Path, "mode", octalMode(e.Mode), octalMode(want)})
		}
	}
	pre := ""
	if link {
		pre = "l"
	}
	if ids.uid >= 0 && ids.uid != e.UID {
		steps = append(steps, fsStep{pre + "chown", e.Path, "+" + strconv.Itoa(ids.uid)})
		changes = append(changes, attrChange{e.Path, "owner", nameAndID(e.User, e.UID), nameAndID(a.owner, ids.uid)})
	}
	if ids.gid >= 0 && ids.gid != e.GID {
		steps = append(steps, fsStep{pre + "chgrp", e.Path, "+" + strconv.Itoa(ids.gid)})
		changes = append(changes, attrChange{e.Path, "group", nameAndID(e.Group, e.GID), nameAndID(a.group, ids.gid)})
	}
	return steps, changes
}

// attrChange is one attribute's old → new on one path.
type attrChange struct{ path, attr, before, after string }

func nameAndID(name string, id int) string {
	if name == "" || name == strconv.Itoa(id) {
		return strconv.Itoa(id)
	}
	return fmt.Sprintf("%s (%d)", name, id)
}
