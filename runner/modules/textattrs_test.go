package modules

import (
	"strings"
	"testing"
)

// TestTextAttrsArgs: a bad mode, owner or group, or a file-common argument
// tend does not manage, is refused when the playbook is read, positioned
// on the field's value (file:line:column) and naming it.
func TestTextAttrsArgs(t *testing.T) {
	for _, mod := range []string{"lineinfile", "blockinfile", "replace"} {
		base := map[string]string{
			"lineinfile":  "path: /etc/x\nline: a\n",
			"blockinfile": "path: /etc/x\nblock: a\n",
			"replace":     "path: /etc/x\nregexp: a\n",
		}[mod]
		for _, tc := range []struct {
			name, extra, want string
		}{
			{"octal out of range", "mode: '99999'", "play.yml:3:7: " + mod + ": mode \"99999\": "},
			{"octal too large", "mode: '17777'", "play.yml:3:7: " + mod + ": mode \"17777\": octal value out of range"},
			{"symbolic without operator", "mode: u", "play.yml:3:7: " + mod + ": mode \"u\": \"u\" has no operator"},
			{"symbolic bad who", "mode: z+x", "play.yml:3:7: " + mod + ": mode \"z+x\""},
			{"preserve", "mode: preserve", "play.yml:3:7: " + mod + ": mode is not supported: preserve needs a source file"},
			{"owner with colon", "owner: 'root:root'", "play.yml:3:8: " + mod + ": owner \"root:root\" is not a user or group name"},
			{"group with space", "group: 'a b'", "play.yml:3:8: " + mod + ": group \"a b\" is not a user or group name"},
			{"attributes", "attributes: +i", "play.yml:3:13: " + mod + ": attributes is not supported: tend does not set extended attributes"},
			{"attr alias", "attr: +i", "play.yml:3:7: " + mod + ": attr is not supported"},
			{"selinux", "setype: etc_t", "play.yml:3:9: " + mod + ": setype is not supported: tend does not manage SELinux"},
			{"unsafe_writes", "unsafe_writes: true", "play.yml:3:16: " + mod + ": unsafe_writes is not supported"},
		} {
			t.Run(mod+"/"+tc.name, func(t *testing.T) {
				_, err := newModule(t, mod, base+tc.extra+"\n")
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want it to contain %q", err, tc.want)
				}
			})
		}
		for _, ok := range []string{"mode: '0600'", "mode: 600", "mode: u=rw,go=", "owner: nobody\ngroup: '65534'", "unsafe_writes: false", "mode: '{{ m }}'"} {
			t.Run(mod+"/accepts "+ok, func(t *testing.T) {
				if _, err := newModule(t, mod, base+ok+"\n"); err != nil {
					t.Errorf("%s: %v", ok, err)
				}
			})
		}
	}
}
