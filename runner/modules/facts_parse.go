package modules

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// ParseFacts turns FactsScript's output into facts named as Ansible's
// setup names them, without the ansible_ prefix (ansible_facts.X).
func ParseFacts(out string) map[string]any {
	secs := splitSections(out)
	f := map[string]any{}
	node := strings.TrimSpace(secs["hostname"])
	host, _, _ := strings.Cut(node, ".")
	fqdn := getfqdn(secs["fqdn"], node)
	_, domain, _ := strings.Cut(fqdn, ".")
	f["hostname"], f["nodename"], f["fqdn"], f["domain"] = host, node, fqdn, domain
	f["kernel"] = strings.TrimSpace(secs["kernel"])
	f["kernel_version"] = strings.TrimSpace(secs["kernel_version"])
	f["system"] = strings.TrimSpace(secs["system"])
	arch := strings.TrimSpace(secs["machine"])
	f["machine"] = arch
	if len(arch) == 4 && arch[0] == 'i' && strings.HasSuffix(arch, "86") {
		arch = "i386"
	}
	f["architecture"] = arch
	distributionFacts(f, secs)
	memFacts(f, secs["meminfo"])
	if n, err := strconv.Atoi(strings.TrimSpace(secs["vcpus"])); err == nil {
		f["processor_vcpus"] = n
	}
	if n, err := strconv.Atoi(strings.TrimSpace(secs["nproc"])); err == nil {
		f["processor_nproc"] = n
	}
	f["service_mgr"] = serviceMgr(secs)
	virtFacts(f, secs)
	f["pkg_mgr"] = pkgMgr(secs["pkg"])
	networkFacts(f, secs)
	f["mounts"] = mountFacts(secs["mounts"], secs["df"])
	f["date_time"] = dateTimeFacts(secs["date"])
	f["env"] = envFacts(secs["env"])
	if u := strings.Fields(secs["user"]); len(u) == 3 {
		f["user_id"] = u[0]
		f["user_uid"], _ = strconv.Atoi(u[1])
		f["user_gid"], _ = strconv.Atoi(u[2])
	}
	return f
}

// iface is one IPv4 address of an interface, from `ip -o -4 addr show`.
type iface struct {
	name, addr, broadcast string
	prefix                int
}

func parseAddrs(s string) []iface {
	var out []iface
	for _, line := range strings.Split(s, "\n") {
		fs := strings.Fields(line)
		if len(fs) < 4 || fs[2] != "inet" {
			continue
		}
		ip, bits, _ := strings.Cut(fs[3], "/")
		p, err := strconv.Atoi(bits)
		if err != nil {
			p = 32
		}
		i := iface{name: strings.TrimSuffix(fs[1], ":"), addr: ip, prefix: p}
		for k := 4; k+1 < len(fs); k++ {
			if fs[k] == "brd" {
				i.broadcast = fs[k+1]
			}
		}
		if at := strings.IndexByte(i.name, '@'); at > 0 {
			i.name = i.name[:at]
		}
		out = append(out, i)
	}
	return out
}

// networkFacts sets default_ipv4, all_ipv4_addresses and interfaces.
func networkFacts(f map[string]any, secs map[string]string) {
	addrs := parseAddrs(secs["addr"])
	all := []any{}
	names := []any{}
	seen := map[string]bool{}
	for _, a := range addrs {
		if !strings.HasPrefix(a.addr, "127.") {
			all = append(all, a.addr)
		}
		if !seen[a.name] {
			seen[a.name] = true
			names = append(names, a.name)
		}
	}
	f["all_ipv4_addresses"], f["interfaces"] = all, names
	dev, gw, src := routeGet(secs["route_get"])
	if dev == "" {
		dev, gw = procRoute(secs["proc_route"])
	}
	def := map[string]any{}
	if dev != "" {
		def["interface"], def["alias"] = dev, dev
		if gw != "" {
			def["gateway"] = gw
		}
		for _, a := range addrs {
			if a.name == dev && (src == "" || a.addr == src) {
				mask := net.CIDRMask(a.prefix, 32)
				ip := net.ParseIP(a.addr).To4()
				def["address"], def["prefix"] = a.addr, strconv.Itoa(a.prefix)
				def["netmask"] = net.IP(mask).String()
				if ip != nil {
					def["network"] = ip.Mask(mask).String()
				}
				if a.broadcast != "" {
					def["broadcast"] = a.broadcast
				}
				break
			}
		}
	}
	f["default_ipv4"] = def
}

// routeGet parses `ip -4 route get`: the device, gateway and source.
func routeGet(s string) (dev, gw, src string) {
	fs := strings.Fields(s)
	for i := 0; i+1 < len(fs); i++ {
		switch fs[i] {
		case "dev":
			dev = fs[i+1]
		case "via":
			gw = fs[i+1]
		case "src":
			src = fs[i+1]
		}
	}
	return dev, gw, src
}

// procRoute finds the default route in /proc/net/route (without ip).
func procRoute(s string) (dev, gw string) {
	for _, line := range strings.Split(s, "\n") {
		fs := strings.Fields(line)
		if len(fs) < 3 || fs[1] != "00000000" {
			continue
		}
		v, err := strconv.ParseUint(fs[2], 16, 32)
		if err != nil {
			continue
		}
		return fs[0], fmt.Sprintf("%d.%d.%d.%d", v&0xff, v>>8&0xff, v>>16&0xff, v>>24)
	}
	return "", ""
}

// mountFacts lists the mounts of block devices and network filesystems
// (as Ansible's: a device starting with / or holding :/), with the sizes df
// reports for them.
func mountFacts(mounts, df string) []any {
	type size struct{ total, avail int64 }
	sizes := map[string]size{}
	for _, line := range strings.Split(df, "\n") {
		fs := strings.Fields(line)
		if len(fs) < 6 {
			continue
		}
		t, err1 := strconv.ParseInt(fs[1], 10, 64)
		a, err2 := strconv.ParseInt(fs[3], 10, 64)
		if err1 == nil && err2 == nil {
			sizes[strings.Join(fs[5:], " ")] = size{t * 1024, a * 1024}
		}
	}
	out := []any{}
	for _, line := range strings.Split(mounts, "\n") {
		fs := strings.Fields(line)
		if len(fs) < 4 {
			continue
		}
		dev, mnt := unescapeMount(fs[0]), unescapeMount(fs[1])
		if (!strings.HasPrefix(dev, "/") && !strings.Contains(dev, ":/")) || fs[2] == "none" {
			continue
		}
		m := map[string]any{"device": dev, "mount": mnt, "fstype": fs[2], "options": fs[3]}
		if sz, ok := sizes[mnt]; ok {
			m["size_total"], m["size_available"] = sz.total, sz.avail
		}
		out = append(out, m)
	}
	return out
}

// unescapeMount undoes /proc/mounts' octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// dateTimeFacts builds Ansible's date_time from the host's clock and zone
// (`date +'%s %z %Z'`), every value a string as Ansible has them.
func dateTimeFacts(s string) map[string]any {
	fs := strings.Fields(s)
	if len(fs) < 3 {
		return map[string]any{}
	}
	epoch, err := strconv.ParseInt(fs[0], 10, 64)
	if err != nil {
		return map[string]any{}
	}
	off := 0
	if z := fs[1]; len(z) == 5 {
		h, _ := strconv.Atoi(z[1:3])
		m, _ := strconv.Atoi(z[3:5])
		off = (h*60 + m) * 60
		if z[0] == '-' {
			off = -off
		}
	}
	t := time.Unix(epoch, 0).In(time.FixedZone(fs[2], off))
	utc := t.UTC()
	return map[string]any{
		"year": t.Format("2006"), "month": t.Format("01"), "day": t.Format("02"),
		"hour": t.Format("15"), "minute": t.Format("04"), "second": t.Format("05"),
		"weekday": t.Weekday().String(), "weekday_number": strconv.Itoa(int(t.Weekday())),
		"weeknumber": fmt.Sprintf("%02d", (t.YearDay()+6-(int(t.Weekday())+6)%7)/7),
		"epoch":      fs[0], "epoch_int": fs[0], "date": t.Format("2006-01-02"), "time": t.Format("15:04:05"),
		"iso8601": utc.Format("2006-01-02T15:04:05Z"), "iso8601_micro": utc.Format("2006-01-02T15:04:05.000000Z"),
		"iso8601_basic": t.Format("20060102T150405") + "000000", "iso8601_basic_short": t.Format("20060102T150405"),
		"tz": fs[2], "tz_dst": fs[2], "tz_offset": fs[1],
	}
}

// getfqdn is Python's socket.getfqdn, which Ansible's fqdn is: of the
// names the node name's address resolves back to (`getent hosts ADDR`),
// the first holding a dot, else the first; the node name when none.
func getfqdn(getent, node string) string {
	fs := strings.Fields(getent)
	if len(fs) < 2 {
		return node
	}
	for _, n := range fs[1:] {
		if strings.Contains(n, ".") {
			return n
		}
	}
	return fs[1]
}
