package modules

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"tend/runner/modules/sysctlconf"
)

// The boot-time report: what the host will hold after a reboot, for each key
// the task sets. Two readers exist, and they disagree about one file:
//
//   - systemd-sysctl (where systemd boots the host) reads *.conf of the
//     sysctl.d directories sorted by file name across all of them, a name
//     in an earlier directory masking the same name in later ones; a later
//     setting of a key wins. /etc/sysctl.conf comes in only where a
//     distribution links it as /etc/sysctl.d/99-sysctl.conf (Debian, RHEL),
//     so a file sorting after "99-sysctl.conf" overrides it, and one that
//     sorts before (Debian's "99-local.conf") does not.
//   - procps's `sysctl --system` reads the same files in the same order,
//     then /etc/sysctl.conf last, which therefore always wins.
//
// The module's own file takes part with the content Apply will write, so a
// dry run predicts what the host will hold at boot after the change.

const (
	sysctlReaderSystemd = "systemd-sysctl"
	sysctlReaderProcps  = "procps"
)

// sysctlBootOrder returns the files the reader applies at boot, in order:
// names masked (the first directory in layout order wins), sorted by file
// name, and for procps the conf file last. The module's file may come twice
// (procps: through the 99-sysctl.conf link and as the conf): both entries are
// marked ours and read as the one planned content under its own name, so it
// is never seen overriding itself. masked maps a path left out to the path
// that masks it.
func sysctlBootOrder(systemd bool, files []sysctlBootFile, layout sysctlBootLayout) (order []sysctlBootFile, masked map[string]string) {
	var entries []sysctlBootFile
	var conf *sysctlBootFile
	for i := range files {
		if files[i].conf {
			conf = &files[i]
			continue
		}
		entries = append(entries, files[i])
	}
	sort.SliceStable(entries, func(i, j int) bool {
		return layout.dirIndex(entries[i].path) < layout.dirIndex(entries[j].path)
	})
	masked = map[string]string{}
	seen := map[string]string{}
	for _, f := range entries {
		name := path.Base(f.path)
		if first, ok := seen[name]; ok {
			masked[f.path] = first
			continue
		}
		seen[name] = f.path
		order = append(order, f)
	}
	sort.SliceStable(order, func(i, j int) bool { return path.Base(order[i].path) < path.Base(order[j].path) })
	if !systemd && conf != nil && conf.regular {
		order = append(order, *conf)
	}
	return order, masked
}

// sysctlBootSet is where a key's boot-time value comes from.
type sysctlBootSet struct {
	value string
	file  string // the module's file by its own name, even when read through a link
	line  int
	ours  bool
}

// sysctlBootEffective returns the value each explicitly set key has after
// the files are applied in order: the last line wins. The module's file
// (ours) is read as planned (its content after Apply) and named file.
// Glob lines are left out: both readers let an explicit key win over them.
func sysctlBootEffective(order []sysctlBootFile, planned []byte, file string) map[string]sysctlBootSet {
	out := map[string]sysctlBootSet{}
	for _, f := range order {
		content, name := f.content, f.path
		if f.ours {
			content, name = planned, file
		}
		if !f.regular {
			continue
		}
		for _, l := range sysctlconf.Parse(content) {
			if l.Kind != sysctlconf.Assign || l.Glob || sysctlconf.ValidateKey(l.Key) != nil {
				continue
			}
			out[l.ID()] = sysctlBootSet{value: l.Value, file: name, line: l.Num, ours: f.ours}
		}
	}
	return out
}

// sysctlBoot is the boot-time report of one task on one host.
type sysctlBoot struct {
	reader  string                   // sysctlReaderSystemd or sysctlReaderProcps
	read    bool                     // the reader applies the module's file
	values  map[string]sysctlBootSet // wanted, supported keys by canonical key; zero: no file sets it
	reverts []string                 // keys (as the task spells them) whose boot value is not the task's
	notes   map[string]string        // by canonical key, for reverting keys
	// reasons say what reverts and why; unreadable names files left out.
	reasons, unreadable []string
}

// warnings are the report's lines for the reviewer.
func (b *sysctlBoot) warnings() []string {
	if b == nil {
		return nil
	}
	return append(append([]string(nil), b.unreadable...), b.reasons...)
}

// sysctlBootReport computes the report for keys from the listing, with the
// module's file as it will be after Apply (planned; exists: it will exist).
func sysctlBootReport(l *sysctlBootListing, layout sysctlBootLayout, file string, planned []byte, exists bool, keys []sysctlKeyPlan) *sysctlBoot {
	b := &sysctlBoot{reader: sysctlReaderProcps, values: map[string]sysctlBootSet{}, notes: map[string]string{}}
	if l.systemd {
		b.reader = sysctlReaderSystemd
	}
	files := append([]sysctlBootFile(nil), l.files...)
	ours := false
	for _, f := range files {
		ours = ours || f.ours
	}
	if !ours && exists {
		// The file is created by Apply: it takes part where it will stand.
		clean := path.Clean(file)
		switch {
		case clean == path.Clean(layout.conf):
			files = append(files, sysctlBootFile{path: file, conf: true, regular: true, ours: true})
		case layout.dirIndex(clean) >= 0 && strings.HasSuffix(clean, ".conf") && !strings.HasPrefix(path.Base(clean), "."):
			files = append(files, sysctlBootFile{path: file, regular: true, ours: true})
		}
	}
	for _, f := range files {
		if f.unreadable && !f.ours {
			b.unreadable = append(b.unreadable, fmt.Sprintf("%s could not be read: the boot-time report leaves it out", f.path))
		}
	}
	order, masked := sysctlBootOrder(l.systemd, files, layout)
	for _, f := range order {
		b.read = b.read || f.ours
	}
	eff := sysctlBootEffective(order, planned, file)

	var lost []string // when the file is not read: what each key gets instead
	for _, k := range keys {
		if !k.supported {
			continue
		}
		set := eff[k.id]
		b.values[k.id] = set
		if set.ours || (set.file != "" && sysctlconf.ValuesEqual(set.value, k.Value)) {
			continue
		}
		b.reverts = append(b.reverts, k.Key)
		instead := "the kernel's default"
		if set.file != "" {
			instead = fmt.Sprintf("%s (%s:%d)", set.value, set.file, set.line)
			b.notes[k.id] = fmt.Sprintf("at boot: %s from %s:%d", set.value, set.file, set.line)
		} else {
			b.notes[k.id] = "at boot: not set by any file (the kernel's default)"
		}
		if b.read && set.file != "" {
			b.reasons = append(b.reasons, fmt.Sprintf("%s:%d sets %s=%s after %s: it reverts at boot (%s)",
				set.file, set.line, k.Key, set.value, file, b.readerOrder()))
		} else {
			lost = append(lost, k.Key+" → "+instead)
		}
	}
	if len(lost) > 0 {
		b.reasons = append(b.reasons, fmt.Sprintf("%s is not read at boot (%s): at boot %s",
			file, b.whyNotRead(files, masked, layout), strings.Join(lost, ", ")))
	}
	return b
}

// readerOrder names the order the report follows.
func (b *sysctlBoot) readerOrder() string {
	if b.reader == sysctlReaderSystemd {
		return "systemd-sysctl's order"
	}
	return "procps sysctl --system's order"
}

// whyNotRead explains why the module's file is not among the files applied.
func (b *sysctlBoot) whyNotRead(files []sysctlBootFile, masked map[string]string, layout sysctlBootLayout) string {
	for _, f := range files {
		if f.ours && !f.conf {
			if by, ok := masked[f.path]; ok {
				return fmt.Sprintf("%s masks %s for %s", by, f.path, b.reader)
			}
		}
	}
	where := "*.conf in " + strings.Join(layout.dirs, ", ")
	if b.reader == sysctlReaderSystemd {
		return fmt.Sprintf("%s reads %s, and none of them is or links to it", b.reader, where)
	}
	return fmt.Sprintf("procps sysctl --system reads %s, then %s, and none of them is or links to it", where, layout.conf)
}

// data is the report as register: stores it: boot: {key: {value, file,
// line}}, boot_reader, reverts_at_boot: [...].
func (b *sysctlBoot) data(d map[string]any, keys []sysctlKeyPlan) {
	boot := map[string]any{}
	reverts := []string{}
	reader := ""
	if b != nil {
		reader = b.reader
		reverts = append(reverts, b.reverts...)
		for _, k := range keys {
			if set, ok := b.values[k.id]; ok {
				boot[k.Key] = map[string]any{"value": set.value, "file": set.file, "line": set.line}
			}
		}
	}
	d["boot"], d["boot_reader"], d["reverts_at_boot"] = boot, reader, reverts
}
