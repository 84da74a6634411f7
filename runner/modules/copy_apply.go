package modules

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"tend/runner/plan"
	"tend/runner/transport"
)

// copyValidateScript writes stdin to a private temporary file and runs
// the validate command ($@) with each %s replaced by its path, then
// removes it. The file to change is never touched here.
const copyValidateScript = `umask 077
t=$(mktemp "${TMPDIR:-/tmp}/.tend-validate.XXXXXX") || exit 88
trap 'rm -f -- "$t"' EXIT
trap 'exit 99' HUP INT TERM PIPE
cat > "$t" || exit 89
c=$#
while [ "$c" -gt 0 ]; do
	w=$1; shift
	while :; do
		case $w in
		*%s*) w=${w%%"%s"*}$t${w#*"%s"} ;;
		*) break ;;
		esac
	done
	set -- "$@" "$w"
	c=$((c-1))
done
"$@"`

// Apply validates the new content (when asked), writes it atomically
// (refused when the file changed since Check read it), then sets mode and
// owner: three remote commands at most.
func (m *copyModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	st, _ := planned.Private.(*copyState)
	if st == nil {
		var err error
		if st, err = m.inspect(ctx, conn); err != nil {
			return plan.Change{}, fmt.Errorf("%s: %s: %w", m.name, m.dest, err)
		}
		if len(planned.Files) > 0 && planned.Files[0].BeforeSHA256 != "" && planned.Files[0].BeforeSHA256 != st.sha {
			return plan.Change{}, &transport.StaleError{Path: st.dest, Want: planned.Files[0].BeforeSHA256, Got: st.sha}
		}
	}
	c := m.change(st)
	if !c.Action.Changes() {
		return c, nil
	}
	failed := func(format string, v ...any) (plan.Change, error) {
		c.Failed, c.Msg = true, fmt.Sprintf("%s: %s: ", m.name, st.dest)+fmt.Sprintf(format, v...)
		return c, nil
	}
	if st.write {
		if len(m.validate) > 0 {
			argv := append([]string{"/bin/sh", "-c", copyValidateScript, "sh"}, m.validate...)
			res, err := conn.Run(ctx, transport.Command{Argv: argv, Stdin: st.content, OwnSession: true})
			if err != nil {
				return plan.Change{}, fmt.Errorf("%s: %s: validate: %w", m.name, st.dest, err)
			}
			if res.ExitCode != 0 {
				return failed("validate %s failed (exit %d), file left unchanged: %s",
					strings.Join(m.validate, " "), res.ExitCode, strings.TrimSpace(string(res.Stderr)+" "+string(res.Stdout)))
			}
		}
		res, err := transport.WriteFileAtomic(ctx, conn, st.dest, st.content,
			transport.WriteOptions{Backup: m.backup || backupsForced(ctx), ExpectSHA256: st.sha, Mode: fs.FileMode(st.newMode & 0o777)})
		if err != nil {
			var fe *transport.FileError
			if errors.As(err, &fe) {
				return failed("%v", err)
			}
			return plan.Change{}, fmt.Errorf("%s: %w", m.name, err)
		}
		c.Files[0].Backup, c.Files[0].InPlace = res.BackupPath, res.InPlace
		c.Data["backup_file"] = res.BackupPath
		c.Undo = fileUndo(c.Files[0], m.content)
	}
	if err := fsChange(ctx, conn, st.steps); err != nil {
		return failed("%v", err)
	}
	c.Summary = strings.Replace(c.Summary, "would ", "done: ", 1)
	return c, nil
}
