package modules

import (
	"strconv"
	"strings"
)

// ParsePackageFacts reads PackageFactsScript's output into Ansible's
// packages fact — each name to the list of its installed versions, each a
// map with Ansible's keys for its backend — and says which managers
// answered. apt: name, version, arch, category (the section), origin
// (the Release origin of the first package file holding the installed
// version, "" for one only dpkg knows), source "apt"; a package of a
// foreign architecture is named name:arch, as python-apt names it. rpm:
// name, version, release, epoch (a number or null), arch, source "rpm".
func ParsePackageFacts(out string) (map[string]any, []string) {
	pkgs := map[string]any{}
	var found []string
	add := func(name string, p map[string]any) {
		l, _ := pkgs[name].([]any)
		pkgs[name] = append(l, p)
	}
	var sections [][]string // each starts with its @@tend line
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "@@tend ") {
			sections = append(sections, []string{line})
		} else if len(sections) > 0 {
			sections[len(sections)-1] = append(sections[len(sections)-1], line)
		}
	}
	for i := 0; i < len(sections); i++ {
		head := strings.Fields(sections[i][0])
		switch head[1] {
		case "apt":
			found = append(found, "apt")
			arch := ""
			if len(head) > 2 {
				arch = head[2]
			}
			dpkg := sections[i][1:]
			var policy, installed []string
			if i+1 < len(sections) && strings.HasPrefix(sections[i+1][0], "@@tend policy") {
				i++
				policy = sections[i][1:]
			}
			if i+1 < len(sections) && strings.HasPrefix(sections[i+1][0], "@@tend installed") {
				i++
				installed = sections[i][1:]
			}
			parseAptPackages(arch, dpkg, policy, installed, add)
		case "rpm":
			found = append(found, "rpm")
			for _, line := range sections[i][1:] {
				f := strings.Split(line, "\t")
				if len(f) != 5 {
					continue
				}
				p := map[string]any{"name": f[0], "version": f[1], "release": f[2], "epoch": nil, "arch": f[4], "source": "rpm"}
				if e, err := strconv.Atoi(f[3]); err == nil {
					p["epoch"] = e
				}
				if f[4] == "(none)" {
					p["arch"] = nil
				}
				add(f[0], p)
			}
		}
	}
	return pkgs, found
}

// parseAptPackages joins dpkg's lines (status, name, version, arch,
// section) with apt-cache policy's answers: only what apt counts as
// installed (policy's "Installed:" is not "(none)") is listed.
func parseAptPackages(native string, dpkg, policy, installed []string, add func(string, map[string]any)) {
	type info struct{ arch, section string }
	byName := map[string]info{}
	for _, line := range dpkg {
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			continue
		}
		name := f[1]
		if f[3] != native && f[3] != "all" {
			name += ":" + f[3]
		}
		byName[name] = info{f[3], f[4]}
	}
	origins := aptFileOrigins(policy)
	for _, st := range aptInstalled(installed) {
		in, ok := byName[st.name]
		if !ok {
			continue
		}
		add(st.name, map[string]any{"name": st.name, "version": st.version, "arch": in.arch,
			"category": in.section, "origin": origins[st.file], "source": "apt"})
	}
}

// aptFileOrigins reads the "Package files:" part of apt-cache policy: each
// file (as its lines name it, after the priority) to its Release's origin
// (o=), "" when it has none (dpkg's status file).
func aptFileOrigins(policy []string) map[string]string {
	out := map[string]string{}
	file := ""
	for _, line := range policy {
		if strings.HasPrefix(line, "Pinned packages:") {
			break
		}
		t := strings.TrimSpace(line)
		if rel, ok := strings.CutPrefix(t, "release "); ok && file != "" {
			for _, kv := range strings.Split(rel, ",") {
				if v, ok := strings.CutPrefix(kv, "o="); ok {
					out[file] = v
				}
			}
			continue
		}
		if f := policyFile(line); f != "" {
			file = f
			if _, ok := out[file]; !ok {
				out[file] = ""
			}
		}
	}
	return out
}

// policyFile is the file a " PRIO TEXT" line of apt-cache policy names,
// "" for another line.
func policyFile(line string) string {
	t := strings.TrimSpace(line)
	prio, rest, ok := strings.Cut(t, " ")
	if !ok {
		return ""
	}
	if _, err := strconv.Atoi(prio); err != nil {
		return ""
	}
	return strings.TrimSpace(rest)
}

// aptState is one package of apt-cache policy NAME...: its installed
// version and the first file holding that version.
type aptState struct{ name, version, file string }

// aptInstalled reads apt-cache policy's answers for named packages, keeping
// those installed.
func aptInstalled(lines []string) []aptState {
	var out []aptState
	var cur *aptState
	inInstalled := false // inside the installed version's file lines
	flush := func() {
		if cur != nil && cur.version != "" && cur.version != "(none)" {
			out = append(out, *cur)
		}
	}
	for _, line := range lines {
		if line == "" {
			continue
		}
		if line[0] != ' ' && strings.HasSuffix(line, ":") {
			flush()
			cur, inInstalled = &aptState{name: strings.TrimSuffix(line, ":")}, false
			continue
		}
		if cur == nil {
			continue
		}
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "Installed:"):
			cur.version = strings.TrimSpace(strings.TrimPrefix(t, "Installed:"))
		case strings.HasPrefix(t, "Candidate:"), strings.HasPrefix(t, "Version table:"):
		case strings.HasPrefix(line, " *** "):
			inInstalled = true
		case len(line)-len(strings.TrimLeft(line, " ")) < 8: // another version's line
			inInstalled = false
		default: // a file line
			if inInstalled && cur.file == "" {
				cur.file = policyFile(line)
			}
		}
	}
	flush()
	return out
}
