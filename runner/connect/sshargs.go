package connect

import (
	"fmt"
	"strings"

	"github.com/kballard/go-shellquote"

	"tend/inventory"
)

// sshArgVars are the inventory variables Ansible appends to its ssh
// command line; Ansible users commonly set a bastion there.
var sshArgVars = []string{"ansible_ssh_common_args", "ansible_ssh_extra_args"}

// inventoryJump reads a ProxyJump from the host's ansible_ssh_common_args
// or ansible_ssh_extra_args (`-J SPEC`, `-o ProxyJump=SPEC`), which, being
// on Ansible's ssh command line, wins over ssh_config. A ProxyCommand
// there is an error (tend would otherwise dial the host directly); other
// options are ignored with a warning.
func (s *SSH) inventoryJump(h *inventory.Host) (string, error) {
	jump := ""
	for _, name := range sshArgVars {
		v, _ := h.Vars[name].(string)
		if strings.TrimSpace(v) == "" {
			continue
		}
		words, err := shellquote.Split(v)
		if err != nil {
			return "", fmt.Errorf("connect: host %s: %s: %v", h.Name, name, err)
		}
		var ignored []string
		for i := 0; i < len(words); i++ {
			w := words[i]
			var opt string
			switch {
			case w == "-J" || w == "-o":
				if i+1 == len(words) {
					return "", fmt.Errorf("connect: host %s: %s: %s needs a value", h.Name, name, w)
				}
				i++
				if w == "-J" {
					opt = "proxyjump=" + words[i]
				} else {
					opt = words[i]
				}
			case strings.HasPrefix(w, "-J"):
				opt = "proxyjump=" + w[2:]
			case strings.HasPrefix(w, "-o"):
				opt = w[2:]
			default:
				ignored = append(ignored, w)
				continue
			}
			key, val, ok := strings.Cut(opt, "=")
			if !ok {
				key, val, _ = strings.Cut(strings.TrimSpace(opt), " ")
			}
			switch strings.ToLower(strings.TrimSpace(key)) {
			case "proxyjump":
				if jump == "" { // the first one wins, as in ssh
					jump = strings.TrimSpace(val)
				}
			case "proxycommand":
				if !strings.EqualFold(strings.TrimSpace(val), "none") {
					return "", fmt.Errorf("connect: host %s: %s: ProxyCommand is not supported (use -o ProxyJump=... or -J)", h.Name, name)
				}
			default:
				ignored = append(ignored, "-o "+opt)
			}
		}
		if len(ignored) > 0 {
			s.warnOnce(fmt.Sprintf("%s: only ProxyJump (-J, -o ProxyJump=) is honoured; ignoring %s", name, strings.Join(ignored, " ")))
		}
	}
	return jump, nil
}
