package modules

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"tend/runner/plan"
	"tend/runner/transport"
)

// getURLPlaceScript puts the downloaded temporary file $1 in place as $2
// (a symlink followed): copied beside it first when it was downloaded
// elsewhere (tmp_dest), given the mode and owner of the file it replaces
// (or mode $4 when new), fsynced, renamed over it, the directory fsynced.
// $3 = 1 backs the old file up first, as $2.tend-backup.$5. Prints the
// backup's path. The temporary file never outlives the script.
const getURLPlaceScript = `LC_ALL=C; export LC_ALL
tmp=$1 p=$2 backup=$3 mode=$4 stamp=$5 b= t2=
trap 'rm -f -- "$tmp"; if [ -n "$t2" ]; then rm -f -- "$t2"; fi' EXIT
trap 'exit 99' HUP INT TERM PIPE
p=$(readlink -f -- "$p") && [ -n "$p" ] || exit 80
d=${p%/*}
[ -n "$d" ] || d=/
if [ "${tmp%/*}" != "$d" ]; then
	t2=$(mktemp -- "$d/.tend-get_url.XXXXXX") || { t2=; exit 88; }
	cp -- "$tmp" "$t2" || exit 89
	rm -f -- "$tmp"
	tmp=$t2 t2=
fi
if [ -f "$p" ]; then
	chmod --reference="$p" -- "$tmp" || exit 90
	chown --reference="$p" -- "$tmp" || exit 91
	if [ "$backup" = 1 ]; then
		b=$p.tend-backup.$stamp
		cp -p -- "$p" "$b" || { b=; exit 87; }
	fi
else
	chmod "$mode" -- "$tmp" || exit 90
fi
sync -- "$tmp" 2>/dev/null || sync
mv -f -- "$tmp" "$p" || exit 93
tmp=
sync -- "$d" 2>/dev/null || :
printf '%s' "$b"`

// Apply downloads for real: into a temporary file, checked (status,
// checksum) before it replaces dest, then mode, owner and group.
func (m *getURLModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	if steps, ok := planned.Private.([]fsStep); ok { // only attributes change
		c := planned
		if err := fsChange(ctx, conn, steps); err != nil {
			c.Failed, c.Msg = true, fmt.Sprintf("get_url: %s: %v", m.dest, err)
			return c, nil
		}
		c.Data["changed"] = true
		c.Summary = strings.Replace(c.Summary, "would ", "done: ", 1)
		return c, nil
	}
	st, _ := planned.Private.(*getURLState)
	if st == nil {
		c, s, err := m.plan(ctx, conn)
		if err != nil || !c.Action.Changes() {
			return c, err
		}
		st = s
	}
	return m.download(ctx, conn, st)
}

// download is Apply's GET and the steps after it.
func (m *getURLModule) download(ctx context.Context, conn transport.Conn, st *getURLState) (plan.Change, error) {
	start := time.Now()
	shown := redactURL(m.url)
	data := map[string]any{"url": shown, "dest": st.final, "changed": false, "checksum_src": nil, "checksum_dest": nil}
	c := plan.Change{Action: plan.None, Data: data}
	failed := func(msg string) (plan.Change, error) {
		c.Failed, c.Msg, data["msg"] = true, msg, msg
		c.Summary = st.final + ": " + msg
		return c, nil
	}
	dir := path.Dir(st.final)
	if st.destIsDir {
		dir = m.dest
	}
	if m.tmpDest != "" {
		dir = m.tmpDest
	}
	res, err := m.fetch(ctx, conn, m.url, "GET", dir, st.ims)
	if err != nil {
		return plan.Change{}, err
	}
	data["elapsed"] = int(time.Since(start).Seconds())
	data["status_code"] = res.status
	data["msg"] = res.msg()
	if res.status == 304 {
		c.Summary = st.final + ": not modified on the server (304)"
		return c, nil
	}
	if res.status != 200 || res.tmp == "" {
		return failed(res.failMsg())
	}
	removeTmp := func() error { return fsChange(ctx, conn, []fsStep{{"rm", res.tmp, ""}}) }
	if st.destIsDir {
		name := dispositionFilename(res.header("Content-Disposition"))
		if name == "" {
			name = urlFilename(res.finalURL)
		}
		st.final = path.Join(m.dest, name)
		data["dest"] = st.final
	}
	ops := []fsOp{{"stat", res.tmp}, {"sha1", res.tmp}, {"stat", st.final}, {"sha1", st.final}, {"stat", path.Dir(st.final)}}
	if m.algo != "" {
		ops = append(ops, fsOp{m.algo, res.tmp})
	}
	ops = append(ops, m.attrs.ops()...)
	ans, _, err := fsProbe(ctx, conn, ops)
	if err != nil {
		_ = removeTmp()
		return plan.Change{}, fmt.Errorf("get_url: %s: %w", st.final, err)
	}
	data["src"], data["size"], data["checksum_src"] = res.tmp, ans[0].entry.Size, ans[1].value
	rest := ans[5:]
	if m.algo != "" {
		if got := ans[5].value; got != st.sum {
			_ = removeTmp()
			return failed(fmt.Sprintf("The checksum for %s did not match %s; it was %s.", res.tmp, st.sum, got))
		}
		rest = ans[6:]
	}
	ids, _, err := m.attrs.resolve(rest)
	if err != nil {
		_ = removeTmp()
		return plan.Change{}, fmt.Errorf("get_url: %s: %w", st.final, err)
	}
	exists := ans[2].status == "ok"
	switch {
	case exists && ans[2].entry.Type != 'f':
		_ = removeTmp()
		return failed(fmt.Sprintf("Destination %s is a %s, not a regular file", st.final, entryKind(ans[2].entry.Type)))
	case !exists && (ans[4].status != "ok" || ans[4].entry.Type != 'd'):
		_ = removeTmp()
		return failed(fmt.Sprintf("Destination %s does not exist", path.Dir(st.final)))
	}
	if exists {
		data["checksum_dest"] = ans[3].value
	}
	entry := ans[2].entry
	entry.Path = st.final
	newMode, steps, changes := m.attrs.newFilePlan(st.final, exists, entry, ids)
	var parts []string
	if exists && ans[3].value == ans[1].value {
		if err := removeTmp(); err != nil {
			return failed(fmt.Sprintf("removing %s: %v", res.tmp, err))
		}
	} else {
		if newMode == 0 {
			newMode = 0o666 &^ ids.umask
		}
		now := time.Now().UTC()
		stamp := now.Format("20060102T150405") + fmt.Sprintf(".%09d", now.Nanosecond())
		backup := "0"
		if m.backup || backupsForced(ctx) {
			backup = "1"
		}
		out, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", getURLPlaceScript, "sh",
			res.tmp, st.final, backup, fmt.Sprintf("%04o", newMode&0o777), stamp}})
		if err != nil {
			return plan.Change{}, fmt.Errorf("get_url: %s: %w", st.final, err)
		}
		if out.ExitCode != 0 {
			return failed(fmt.Sprintf("failed to move %s to %s (exit %d): %s", res.tmp, st.final, out.ExitCode, strings.TrimSpace(string(out.Stderr))))
		}
		if b := string(out.Stdout); b != "" {
			data["backup_file"] = b
		}
		if exists {
			parts = append(parts, "replaced the content")
		} else {
			parts = append(parts, fmt.Sprintf("created it (%s)", humanBytes(ans[0].entry.Size)))
		}
		c.Files = []plan.FileChange{{Path: st.final, Diff: fmt.Sprintf("downloaded %s\n", shown)}}
	}
	if err := fsChange(ctx, conn, steps); err != nil {
		return failed(fmt.Sprintf("%s: %v", st.final, err))
	}
	for _, ch := range changes {
		c.Values = append(c.Values, plan.ValueChange{Key: ch.attr, Before: ch.before, After: ch.after, Status: sysctlStatusChange})
	}
	if len(steps) > 0 && exists {
		parts = append(parts, fmt.Sprintf("changed %s", pluralize(int64(len(changes)), "attribute")))
	}
	c.Summary = st.final + ": already the same content"
	if len(parts) > 0 {
		c.Action = plan.Update
		c.Summary = fmt.Sprintf("%s: done: %s", st.final, strings.Join(parts, ", "))
		data["changed"] = true
	}
	return c, nil
}
