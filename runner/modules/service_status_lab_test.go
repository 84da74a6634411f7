package modules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/runner/plan"
)

// statusStub is a systemd STAND-IN for the status query (see the top of
// service_boot_lab_test.go): `systemctl show -- web` prints properties,
// one of them a multi-line Exec value; any other unit is unknown.
const statusStub = `#!/bin/sh
echo "$*" >> "STUBDIR/calls"
[ "$1 $2 $3" = "show -- web" ] || { echo "stub systemctl: $*" >&2; exit 1; }
printf '%s\n' Id=web.service LoadState=loaded ActiveState=active SubState=running MainPID=4242 'ExecStart={ path=/usr/bin/web ; argv[]=/usr/bin/web' ' --serve ; status=0/0 }'
`

// TestLabServiceStatusQuery: systemd with only a name reads the unit's
// status over SSH with one `systemctl show -- NAME` (the stub stand-in),
// changes nothing, and gives status; a show that fails leaves status
// empty with a warning; the service module under manager auto on a host
// without systemd says the query needs systemd.
func TestLabServiceStatusQuery(t *testing.T) {
	b := newBootLab(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "systemctl"), []byte(strings.ReplaceAll(statusStub, "STUBDIR", dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := filepath.Join(dir, "shell")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nPATH="+dir+":$PATH; export PATH\nexec /bin/sh \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b.ssh("sed -i 's#^\\(root:[^:]*:0:0:[^:]*:[^:]*:\\).*#\\1" + wrapper + "#' /etc/passwd")
	b.dial()
	ctx := context.Background()
	check := func(spec Spec, src string) (plan.Change, error) {
		m, err := spec.New(Args{Node: argsNode(t, src), File: "play.yml"})
		if err != nil {
			t.Fatal(err)
		}
		return m.Check(ctx, b.conn)
	}
	c, err := check(systemdSpec, "name: web")
	if err != nil || c.Action != plan.None || c.Summary != "web: active/running (systemctl show)" {
		t.Fatalf("web: %v %+v", err, c)
	}
	st := c.Data["status"].(map[string]any)
	if st["ActiveState"] != "active" || st["MainPID"] != "4242" || st["LoadState"] != "loaded" ||
		st["ExecStart"] != "{ path=/usr/bin/web ; argv[]=/usr/bin/web\n --serve ; status=0/0 }" {
		t.Errorf("status %#v", st)
	}
	c, err = check(systemdSpec, "name: gone")
	if err != nil || c.Action != plan.None || len(c.Data["status"].(map[string]any)) != 0 || len(c.Warnings) != 1 ||
		!strings.Contains(c.Warnings[0], "systemctl show gone exited 1") {
		t.Errorf("gone: %v %+v", err, c)
	}
	if calls, _ := os.ReadFile(filepath.Join(dir, "calls")); string(calls) != "show -- web\nshow -- gone\n" {
		t.Errorf("systemctl calls %q", calls)
	}
	// The lab host does not run systemd: the service module cannot query.
	if _, err := check(serviceSpec, "name: web"); err == nil || !strings.Contains(err.Error(), "service: web: a status query (name only) needs systemd; the host runs") {
		t.Errorf("service under auto: %v", err)
	}
}
