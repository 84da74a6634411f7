// Package ansiblecfg reads the few settings of Ansible's configuration
// that decide where a playbook's files are found: roles_path and
// collections_path, from the environment, else the ansible.cfg that
// ansible-core would read (its ConfigManager), else Ansible's defaults.
package ansiblecfg

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// Config is the ansible.cfg ansible-core would read, parsed: File is its
// path ("" when there is none).
type Config struct {
	File string
	// values are the [defaults] section's keys (lower case, as Python's
	// configparser has them).
	values map[string]string
}

// Load finds and reads the configuration file as ansible-core's
// find_ini_config_file does, the first that exists and can be read:
// $ANSIBLE_CONFIG (a directory means its ansible.cfg), ./ansible.cfg in
// the working directory (unless that directory is world-writable, which
// Ansible skips), ~/.ansible.cfg, /etc/ansible/ansible.cfg. No file is an
// empty Config; one that cannot be parsed is read as far as it goes.
func Load() Config {
	var cands []string
	if v, ok := os.LookupEnv("ANSIBLE_CONFIG"); ok {
		v = unfrack(v, "")
		if st, err := os.Stat(v); err == nil && st.IsDir() {
			v = filepath.Join(v, "ansible.cfg")
		}
		cands = append(cands, v)
	}
	if cwd, err := os.Getwd(); err == nil {
		if st, err := os.Stat(cwd); err == nil && st.Mode().Perm()&0o002 == 0 {
			cands = append(cands, filepath.Join(cwd, "ansible.cfg"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		cands = append(cands, filepath.Join(home, ".ansible.cfg"))
	}
	cands = append(cands, "/etc/ansible/ansible.cfg")
	for _, c := range cands {
		f, err := os.Open(c)
		if err != nil {
			continue
		}
		defer f.Close()
		return Config{File: c, values: parseDefaults(f)}
	}
	return Config{}
}

// parseDefaults reads the [defaults] section of an INI file as Python's
// configparser does for Ansible: "key = value" or "key: value", keys in
// lower case, whole-line comments with # or ;, an inline comment after
// " ;", indented lines continuing a value. A key given twice keeps the
// last value (configparser refuses the file; Ansible then fails).
func parseDefaults(f *os.File) map[string]string {
	out := map[string]string{}
	section, last := "", ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';':
			continue
		case line[0] == ' ' || line[0] == '\t':
			if section == "defaults" && last != "" {
				out[last] += "\n" + stripComment(trimmed)
			}
			continue
		case strings.HasPrefix(trimmed, "[") && strings.HasSuffix(trimmed, "]"):
			section, last = trimmed[1:len(trimmed)-1], ""
			continue
		}
		if section != "defaults" {
			continue
		}
		i := strings.IndexAny(trimmed, "=:")
		if i < 0 {
			continue
		}
		last = strings.ToLower(strings.TrimSpace(trimmed[:i]))
		out[last] = stripComment(strings.TrimSpace(trimmed[i+1:]))
	}
	return out
}

// stripComment drops an inline "; comment" (a ; after whitespace).
func stripComment(v string) string {
	for i := 1; i < len(v); i++ {
		if v[i] == ';' && (v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.TrimSpace(v[:i])
		}
	}
	return v
}

// setting is a pathspec setting's value as ansible-core's ConfigManager
// decides it: the last of envs that is set (an empty one means the
// default), else the last of keys the file gives, else def; split on
// colons, each part with ~ and $VARS expanded and made absolute — from
// the file's directory for the file's value, else from the working
// directory.
func (c Config) setting(envs, keys []string, def string) []string {
	value, base := def, ""
	for _, k := range keys {
		if v, ok := c.values[k]; ok {
			value, base = v, filepath.Dir(c.File)
		}
	}
	for _, e := range envs {
		if v, ok := os.LookupEnv(e); ok {
			value, base = v, ""
			if v == "" {
				value = def
			}
		}
	}
	var out []string
	for _, p := range strings.Split(value, ":") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, unfrack(p, base))
		}
	}
	return out
}

// home is ANSIBLE_HOME (its environment variable, else the file's home,
// else ~/.ansible), for the defaults.
func (c Config) home() string {
	h := "~/.ansible"
	if v, ok := c.values["home"]; ok {
		h = unfrack(v, filepath.Dir(c.File))
	}
	if v, ok := os.LookupEnv("ANSIBLE_HOME"); ok && v != "" {
		h = v
	}
	return h
}

// RolesPath is Ansible's roles_path (DEFAULT_ROLES_PATH):
// $ANSIBLE_ROLES_PATH, else the file's roles_path, else
// ~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles.
func (c Config) RolesPath() []string {
	return c.setting([]string{"ANSIBLE_ROLES_PATH"}, []string{"roles_path"},
		c.home()+"/roles:/usr/share/ansible/roles:/etc/ansible/roles")
}

// RolesPathOrigin says where RolesPath comes from: "$ANSIBLE_ROLES_PATH",
// "roles_path in FILE", or "Ansible's default roles_path".
func (c Config) RolesPathOrigin() string {
	if v, ok := os.LookupEnv("ANSIBLE_ROLES_PATH"); ok && v != "" {
		return "$ANSIBLE_ROLES_PATH"
	}
	if _, ok := c.values["roles_path"]; ok {
		return "roles_path in " + c.File
	}
	if c.File != "" {
		return "Ansible's default roles_path (" + c.File + " sets none)"
	}
	return "Ansible's default roles_path (no ansible.cfg found)"
}

// CollectionsPath is Ansible's collections_path (COLLECTIONS_PATHS):
// $ANSIBLE_COLLECTIONS_PATH (or the older $ANSIBLE_COLLECTIONS_PATHS),
// else the file's collections_path (or collections_paths), else
// ~/.ansible/collections:/usr/share/ansible/collections. Each directory
// holds ansible_collections/NAMESPACE/COLLECTION.
func (c Config) CollectionsPath() []string {
	return c.setting([]string{"ANSIBLE_COLLECTIONS_PATHS", "ANSIBLE_COLLECTIONS_PATH"},
		[]string{"collections_paths", "collections_path"},
		c.home()+"/collections:/usr/share/ansible/collections")
}

// unfrack is ansible-core's unfrackpath without following symlinks: ~
// and $VARS expanded, made absolute from base (the working directory
// when ""), cleaned.
func unfrack(p, base string) string {
	p = os.Expand(p, func(k string) string { // Python's expandvars keeps unknown ones
		if v, ok := os.LookupEnv(k); ok {
			return v
		}
		return "$" + k
	})
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	if !filepath.IsAbs(p) {
		if base == "" {
			base, _ = os.Getwd()
		}
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p)
}
