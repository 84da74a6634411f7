package modules

import (
	"reflect"
	"testing"
)

// TestParseSystemctlShow: KEY=value lines as Ansible's
// parse_systemctl_show reads them, an Exec* value in braces across lines.
func TestParseSystemctlShow(t *testing.T) {
	for _, tc := range []struct {
		out  string
		want map[string]any
	}{
		{"ActiveState=active\nSubState=running\nMainPID=42\n", map[string]any{"ActiveState": "active", "SubState": "running", "MainPID": "42"}},
		{"Description=a=b \n\nnoise\n", map[string]any{"Description": "a=b"}},
		{"ExecStart={ path=/bin/x ; argv[]=/bin/x\n -n ; status=0/0 }\nLoadState=loaded\n",
			map[string]any{"ExecStart": "{ path=/bin/x ; argv[]=/bin/x\n -n ; status=0/0 }", "LoadState": "loaded"}},
		{"ExecReload={ path=/bin/kill ; status=0/0 }\nFoo={ open\n", map[string]any{"ExecReload": "{ path=/bin/kill ; status=0/0 }", "Foo": "{ open"}},
	} {
		if got := parseSystemctlShow(tc.out); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseSystemctlShow(%q)\n got %#v\nwant %#v", tc.out, got, tc.want)
		}
	}
}
