package modules

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestSysctlIgnoreErrors: ignoreerrors runs sysctl -e -p, so the dead key
// already in the file raises no complaint on reload; without it the
// complaint is a warning. Either way the task does not fail and the plan
// still names the dead line.
func TestSysctlIgnoreErrors(t *testing.T) {
	t.Parallel()
	for _, ignore := range []bool{false, true} {
		t.Run(fmt.Sprint(ignore), func(t *testing.T) {
			c, ctx := sysctlTestConn(t), sysctlCtx(t)
			file := filepath.Join(t.TempDir(), "sysctl.conf")
			writeTestFile(t, file, "net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_fin_timeout = 60\n")
			m := newSysctlT(t, fmt.Sprintf("file: %s\nname: net.ipv4.tcp_fin_timeout\nvalue: '31'\nignoreerrors: %v", file, ignore))
			planned, err := m.Check(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if w := strings.Join(planned.Warnings, "\n"); !strings.Contains(w, file+":1: net.ipv4.tcp_tw_recycle") {
				t.Errorf("plan warnings lack the dead line: %s", w)
			}
			got, err := m.Apply(ctx, c, planned)
			if err != nil || got.Failed {
				t.Fatalf("apply: %v %s", err, got.Msg)
			}
			complained := false
			for _, w := range got.Warnings {
				complained = complained || (strings.HasPrefix(w, "sysctl -p ") && strings.Contains(w, "tcp_tw_recycle"))
			}
			if complained == ignore {
				t.Errorf("ignoreerrors %v: sysctl -p complained %v: %q", ignore, complained, got.Warnings)
			}
			if v := c.live("net.ipv4.tcp_fin_timeout"); v != "31" {
				t.Errorf("live value %q", v)
			}
		})
	}
}
