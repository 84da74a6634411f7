package modules

import (
	"context"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/runner/plan"
	"tend/runner/transport"
)

// serviceFactsSpec lists the host's services as the fact "services":
// Ansible's service_facts, for SysV (service --status-all) and systemd
// (when it is PID 1). One read-only command; it runs in check mode too.
var serviceFactsSpec = Spec{New: newServiceFacts, RunsInCheckMode: true}

type serviceFactsModule struct{}

func newServiceFacts(a Args) (Module, error) {
	if a.Node != nil && !(a.Node.Kind == yaml.ScalarNode && a.Node.Value == "") {
		if a.Node.Kind != yaml.MappingNode {
			return nil, posErr(a.File, a.Node, "service_facts", "takes no arguments")
		}
		if len(a.Node.Content) > 0 {
			k := a.Node.Content[0]
			return nil, posErr(a.File, k, "service_facts", "unknown argument %q (service_facts takes none)", k.Value)
		}
	}
	return &serviceFactsModule{}, nil
}

// ServiceFactsScript gathers what Ansible's service_facts reads, each part
// opened by a "@@tend" line: `service --status-all` when the host has
// service and neither chkconfig nor rc-status (the tools of the backends
// tend does not read are named on an "other" line); then, when PID 1 is
// systemd, systemctl's list-units and list-unit-files, and the
// ActiveState of each unit file list-units does not name (the names are
// taken from list-units' lines as Ansible takes them: the second field
// when a field says not-found, masked or failed, else the first).
const ServiceFactsScript = `PATH=$PATH:/usr/sbin:/sbin:/usr/local/sbin:/usr/bin:/usr/local/bin
export LC_ALL=C LANG=C
has() { command -v "$1" >/dev/null 2>&1; }
if has service && ! has chkconfig && ! has rc-status; then
	out=$(service --status-all 2>/dev/null); rc=$?
	[ -d /etc/init.d ] && d=1 || d=0
	printf '@@tend sysv %s %s\n%s\n' "$rc" "$d" "$out"
fi
for t in chkconfig initctl rc-status; do has "$t" && printf '@@tend other %s\n' "$t"; done
if grep -q systemd /proc/1/comm 2>/dev/null && has systemctl; then
	units=$(systemctl list-units --no-pager --type service --all 2>/dev/null); urc=$?
	files=$(systemctl list-unit-files --no-pager --type service --all 2>/dev/null); frc=$?
	printf '@@tend units %s\n%s\n' "$urc" "$units"
	printf '@@tend files %s\n%s\n' "$frc" "$files"
	if [ "$frc" = 0 ]; then
		{ printf '%s\n' "$units"; echo @@tend-split; printf '%s\n' "$files"; } |
		awk '$0 == "@@tend-split" { f = 1; next }
			!/\.service/ { next }
			!f { n = $1; for (i = 1; i <= NF; i++) if ($i == "not-found" || $i == "masked" || $i == "failed") { n = $2; break }; seen[n] = 1; next }
			!($1 in seen) { seen[$1] = 1; print $1 }' |
		while IFS= read -r u; do
			s=$(systemctl show "$u" --property=ActiveState 2>/dev/null); rc=$?
			printf '@@tend show %s %s\n%s\n' "$rc" "$u" "$s"
		done
	fi
fi
exit 0
`

// Check runs ServiceFactsScript and sets ansible_facts.services.
func (m *serviceFactsModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", ServiceFactsScript, "tend-service-facts"}, MaxOutput: 16 << 20})
	if err != nil {
		return plan.Change{}, fmt.Errorf("service_facts: %w", err)
	}
	services, warnings := ParseServiceFacts(string(res.Stdout))
	if len(services) == 0 {
		msg := "Failed to find any services. This can be due to privileges or some other configuration issue."
		return plan.Change{Action: plan.Read, Skipped: true, Msg: msg, Summary: msg, Warnings: warnings,
			Data: map[string]any{"msg": msg}}, nil
	}
	bySource := map[string]int{}
	for _, s := range services {
		bySource[s.(map[string]any)["source"].(string)]++
	}
	var parts []string
	for _, src := range []string{"sysv", "systemd"} {
		if bySource[src] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", bySource[src], src))
		}
	}
	return plan.Change{Action: plan.Read, Summary: fmt.Sprintf("%d services (%s)", len(services), strings.Join(parts, ", ")),
		Warnings: warnings, Data: map[string]any{"ansible_facts": map[string]any{"services": services}}}, nil
}

// Apply is never called: service_facts changes nothing.
func (m *serviceFactsModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	return planned, nil
}
