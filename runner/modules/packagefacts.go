package modules

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/runner/plan"
	"tend/runner/transport"
)

// packageFactsSpec lists the host's installed packages as the fact
// "packages": Ansible's package_facts, for the apt and rpm backends. One
// read-only command; it runs in check mode too.
var packageFactsSpec = Spec{New: newPackageFacts, RunsInCheckMode: true}

// packageManagers are the managers tend reads, in auto's order.
var packageManagers = []string{"apt", "rpm"}

// ansibleOnlyManagers are Ansible's other package_facts backends.
var ansibleOnlyManagers = map[string]bool{"portage": true, "pkg": true, "pacman": true, "apk": true, "pkg_info": true}

type packageFactsModule struct {
	managers []string // in the order to try, deduplicated
	all      bool     // strategy: all
}

func newPackageFacts(a Args) (Module, error) {
	m := &packageFactsModule{}
	var manager []string
	if a.Node != nil && !(a.Node.Kind == yaml.ScalarNode && a.Node.Value == "") {
		if a.Node.Kind != yaml.MappingNode {
			return nil, posErr(a.File, a.Node, "package_facts", "want a mapping of arguments (manager, strategy)")
		}
		for i := 0; i+1 < len(a.Node.Content); i += 2 {
			k, v := a.Node.Content[i], a.Node.Content[i+1]
			switch k.Value {
			case "manager":
				manager = stringList(v)
				for i, n := range manager {
					name, at := strings.ToLower(n), v
					if v.Kind == yaml.SequenceNode && i < len(v.Content) {
						at = v.Content[i]
					}
					switch {
					case templated(n), name == "auto", slices.Contains(packageManagers, name):
					case ansibleOnlyManagers[name]:
						return nil, posErr(a.File, at, "package_facts", "manager %q is not supported by tend (supported: auto, apt, rpm)", n)
					default:
						return nil, posErr(a.File, at, "package_facts", "manager: unsupported package manager %q (known: auto, apt, rpm, portage, pkg, pacman, apk, pkg_info)", n)
					}
				}
			case "strategy":
				switch {
				case v.Value == "all":
					m.all = true
				case v.Value == "first", templated(v.Value):
				default:
					return nil, posErr(a.File, v, "package_facts", "strategy must be first or all, not %q", v.Value)
				}
			default:
				return nil, posErr(a.File, k, "package_facts", "unknown argument %q (known: manager, strategy)", k.Value)
			}
		}
	}
	if len(manager) == 0 {
		manager = []string{"auto"}
	}
	for _, n := range manager {
		names := []string{strings.ToLower(n)}
		if names[0] == "auto" {
			names = packageManagers
		}
		for _, n := range names {
			if slices.Contains(packageManagers, n) && !slices.Contains(m.managers, n) {
				m.managers = append(m.managers, n)
			}
		}
	}
	if len(m.managers) == 0 { // only templates, before rendering
		m.managers = packageManagers
	}
	return m, nil
}

// PackageFactsScript reads the installed packages of each manager named
// in its arguments ($1 is "first" or "all") that the host has, each
// section opened by a "@@tend" line. apt: dpkg's database (every package
// not "not-installed"), then apt-cache policy — its package files (their
// Release origin) and, for those packages, the installed version and the
// files holding it — which is what python-apt tells Ansible's apt backend.
// rpm: rpm -qa.
const PackageFactsScript = `strategy=$1; shift
PATH=$PATH:/usr/sbin:/sbin:/usr/local/sbin
export LC_ALL=C
for m do
	case $m in
	apt)
		command -v dpkg-query >/dev/null 2>&1 && command -v apt-cache >/dev/null 2>&1 || continue
		arch=$(dpkg --print-architecture 2>/dev/null)
		printf '@@tend apt %s\n' "$arch"
		dpkg-query -W -f='${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\t${Section}\n' || exit 82
		printf '@@tend policy\n'
		apt-cache policy || exit 83
		printf '@@tend installed\n'
		dpkg-query -W -f='${db:Status-Status} ${Package} ${Architecture}\n' |
			awk -v a="$arch" '$1 != "not-installed" { if ($3 == a || $3 == "all") print $2; else print $2 ":" $3 }' |
			xargs -r apt-cache policy || exit 84 ;;
	rpm)
		command -v rpm >/dev/null 2>&1 || continue
		printf '@@tend rpm\n'
		rpm -qa --queryformat '%{NAME}\t%{VERSION}\t%{RELEASE}\t%{EPOCH}\t%{ARCH}\n' || exit 85 ;;
	esac
	[ "$strategy" = first ] && exit 0
done
exit 0
`

// Check runs PackageFactsScript and sets ansible_facts.packages.
func (m *packageFactsModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	strategy := "first"
	if m.all {
		strategy = "all"
	}
	argv := append([]string{"/bin/sh", "-c", PackageFactsScript, "tend-package-facts", strategy}, m.managers...)
	res, err := conn.Run(ctx, transport.Command{Argv: argv, MaxOutput: 64 << 20})
	if err != nil {
		return plan.Change{}, fmt.Errorf("package_facts: %w", err)
	}
	if res.ExitCode != 0 {
		msg := fmt.Sprintf("Failed to retrieve packages (exit %d): %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
		return plan.Change{Action: plan.Read, Failed: true, Msg: msg, Summary: "package_facts: " + msg}, nil
	}
	pkgs, found := ParsePackageFacts(string(res.Stdout))
	if len(found) == 0 {
		msg := fmt.Sprintf("Could not detect a supported package manager from the following list: ['%s'], or the required Python library is not installed. Check warnings for details.",
			strings.Join(m.managers, "', '"))
		return plan.Change{Action: plan.Read, Failed: true, Msg: msg, Summary: "package_facts: " + msg}, nil
	}
	n := 0
	for _, l := range pkgs {
		n += len(l.([]any))
	}
	return plan.Change{Action: plan.Read, Summary: fmt.Sprintf("%d packages installed (%s)", n, strings.Join(found, ", ")),
		Data: map[string]any{"ansible_facts": map[string]any{"packages": pkgs}}}, nil
}

// Apply is never called: package_facts changes nothing.
func (m *packageFactsModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	return planned, nil
}
