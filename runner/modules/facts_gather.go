package modules

import (
	"bufio"
	"strconv"
	"strings"
)

// FactsScript is the one POSIX sh command that gathers a host's facts: it
// only reads (files under /etc and /proc, uname, ip, df, date) and prints
// each source under a "@@tend:NAME" line; ParseFacts turns that into
// Ansible's fact names. It takes no argument: nothing of the playbook
// reaches it.
//
// Every program it starts costs the host an exec (1-2 ms of CPU where the
// dynamic loader is slow), so small files are read with the shell's own
// read (r; byte by byte, so not for long files such as /proc/mounts), the
// names uname would print come from /proc/sys/kernel (uname where that is
// missing), the user's name, uid and gid from one id (not id -un, -u, -g),
// and pipes to head or awk are shell expansions: the output is the same as
// cat's, uname's, head's, awk's and id's. systemd-detect-virt (the
// dearest: ~7 ms of CPU) runs once, and only where no container marker
// already decided virtualization_type.
const FactsScript = `LC_ALL=C; export LC_ALL
s() { printf '\n@@tend:%s\n' "$1"; }
r() { while IFS= read -r _l || [ -n "$_l" ]; do printf '%s\n' "$_l"; done < "$1"; } 2>/dev/null
k() { r "/proc/sys/kernel/$1" || uname "$2"; }
s hostname; k hostname -n
s fqdn; a=$(getent hosts "$(k hostname -n)" 2>/dev/null); a=${a%%[[:space:]]*}; [ -n "$a" ] && a=$(getent hosts "$a" 2>/dev/null) && printf '%s\n' "${a%%
*}"
s kernel; k osrelease -r
s kernel_version; k version -v
s machine; k arch -m
s system; k ostype -s
s os_release; r /etc/os-release || r /usr/lib/os-release
s debian_version; r /etc/debian_version
s redhat_release; r /etc/redhat-release
s meminfo; grep -E '^(MemTotal|MemFree|SwapTotal|SwapFree):' /proc/meminfo 2>/dev/null
s vcpus; grep -c '^processor' /proc/cpuinfo 2>/dev/null
s nproc; nproc 2>/dev/null
s init; r /proc/1/comm
s systemd_run; test -d /run/systemd/system && echo yes
s route_get; ip -4 route get 8.8.8.8 2>/dev/null
s proc_route; cat /proc/net/route 2>/dev/null
s addr; ip -o -4 addr show 2>/dev/null
s mounts; cat /proc/mounts 2>/dev/null
s df; df -P -k 2>/dev/null
s dockerenv; d=; test -f /.dockerenv && echo docker && d=1; while IFS= read -r _l; do case $_l in *docker* | *lxc*) a=${_l%%docker*} b=${_l%%lxc*}; [ ${#a} -le ${#b} ] && echo docker || echo lxc; d=1; break ;; esac; done 2>/dev/null </proc/1/cgroup
s virt; [ -n "$d" ] || systemd-detect-virt 2>/dev/null
s pkg; for p in apt-get dnf yum zypper apk pacman; do command -v "$p" >/dev/null 2>&1 && echo "$p"; done
s date; date +'%s %z %Z'
s user; _i=$(id 2>/dev/null) && { _u=${_i#uid=} _n=; case ${_u%%" "*} in *"("*")") _n=${_u%%")"*}; _n=${_n#*"("};; esac; _g=${_i#*" gid="}; printf '%s\n' "$_n" "${_u%%[" ("]*}" "${_g%%[" ("]*}"; }
s env; env
`

// splitSections splits FactsScript's output into its sections.
func splitSections(out string) map[string]string {
	secs := map[string]string{}
	name := ""
	var b strings.Builder
	flush := func() {
		if name != "" {
			secs[name] = strings.TrimRight(b.String(), "\n")
		}
		b.Reset()
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "@@tend:"); ok {
			flush()
			name = n
			continue
		}
		if name != "" {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(line)
		}
	}
	flush()
	for k, v := range secs {
		secs[k] = strings.TrimLeft(v, "\n")
	}
	return secs
}

// distributions maps os-release ID to Ansible's distribution name and
// os_family.
var distributions = map[string][2]string{
	"debian": {"Debian", "Debian"}, "ubuntu": {"Ubuntu", "Debian"}, "linuxmint": {"Linux Mint", "Debian"},
	"raspbian": {"Debian", "Debian"}, "kali": {"Kali", "Debian"}, "pop": {"Pop!_OS", "Debian"},
	"rhel": {"RedHat", "RedHat"}, "centos": {"CentOS", "RedHat"}, "fedora": {"Fedora", "RedHat"},
	"rocky": {"Rocky", "RedHat"}, "almalinux": {"AlmaLinux", "RedHat"}, "ol": {"OracleLinux", "RedHat"},
	"amzn": {"Amazon", "RedHat"}, "opensuse-leap": {"openSUSE Leap", "Suse"}, "opensuse-tumbleweed": {"openSUSE Tumbleweed", "Suse"},
	"sles": {"SLES", "Suse"}, "alpine": {"Alpine", "Alpine"}, "arch": {"Archlinux", "Archlinux"}, "gentoo": {"Gentoo", "Gentoo"},
}

// osRelease parses /etc/os-release's KEY=value lines.
func osRelease(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `"'`)
		}
		out[k] = v
	}
	return out
}

// distributionFacts sets distribution, its release, versions and os_family.
func distributionFacts(f map[string]any, secs map[string]string) {
	osr := osRelease(secs["os_release"])
	id := osr["ID"]
	name, family := osr["NAME"], ""
	if d, ok := distributions[id]; ok {
		name, family = d[0], d[1]
	} else if like := strings.Fields(osr["ID_LIKE"]); len(like) > 0 {
		if d, ok := distributions[like[0]]; ok {
			family = d[1]
		}
	}
	if name == "" {
		name = "NA"
	}
	if family == "" {
		family = name
	}
	version := osr["VERSION_ID"]
	if id == "debian" {
		if dv := strings.TrimSpace(secs["debian_version"]); dv != "" && dv[0] >= '0' && dv[0] <= '9' {
			version = dv // Ansible reads the point release from /etc/debian_version
		}
	}
	release := osr["VERSION_CODENAME"]
	if version == "" {
		version = "NA"
	}
	if release == "" {
		release = "NA"
	}
	major, _, _ := strings.Cut(version, ".")
	f["distribution"], f["os_family"] = name, family
	f["distribution_version"], f["distribution_major_version"], f["distribution_release"] = version, major, release
}

// memFacts sets memtotal_mb, memfree_mb, swaptotal_mb, swapfree_mb.
func memFacts(f map[string]any, s string) {
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		kb, err := strconv.Atoi(fields[0])
		if err != nil {
			continue
		}
		name := map[string]string{"MemTotal": "memtotal_mb", "MemFree": "memfree_mb", "SwapTotal": "swaptotal_mb", "SwapFree": "swapfree_mb"}[k]
		if name != "" {
			f[name] = kb / 1024
		}
	}
}

// serviceMgr is Ansible's service_mgr on Linux, from PID 1's name.
func serviceMgr(secs map[string]string) string {
	comm := strings.TrimSpace(secs["init"])
	switch {
	case comm == "systemd" || strings.TrimSpace(secs["systemd_run"]) == "yes":
		return "systemd"
	case comm == "runit" || comm == "runit-init":
		return "runit"
	case comm == "openrc-init":
		return "openrc"
	case comm == "" || comm == "init" || strings.HasSuffix(comm, "sh"):
		return "sysvinit"
	}
	return comm
}

// virtFacts sets virtualization_type and virtualization_role.
func virtFacts(f map[string]any, secs map[string]string) {
	// As Ansible: container markers first (/.dockerenv, PID 1's cgroup),
	// then what systemd-detect-virt finds (a container, else a VM; the
	// script runs it only without a marker). virt_container and virt_vm:
	// the two calls of an earlier script (--container, --vm).
	typ, role := "", ""
	for _, k := range []string{"dockerenv", "virt", "virt_container", "virt_vm"} {
		if v, _, _ := strings.Cut(strings.TrimSpace(secs[k]), "\n"); v != "" && v != "none" {
			typ, role = v, "guest"
			break
		}
	}
	if typ == "oracle" {
		typ = "virtualbox"
	}
	if typ == "" {
		typ, role = "NA", "NA"
	}
	f["virtualization_type"], f["virtualization_role"] = typ, role
}

// pkgMgr is Ansible's pkg_mgr: the first package manager found.
func pkgMgr(s string) string {
	for _, p := range strings.Fields(s) {
		if p == "apt-get" {
			return "apt"
		}
		return p
	}
	return "unknown"
}

// envFacts parses env's output (a value may span lines).
func envFacts(s string) map[string]any {
	out := map[string]any{}
	last := ""
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && k != "" && !strings.ContainsAny(k, " \t") {
			out[k], last = v, k
			continue
		}
		if last != "" {
			out[last] = out[last].(string) + "\n" + line
		}
	}
	return out
}
