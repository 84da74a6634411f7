package inventory

// Connection details come from the Ansible variables, with the legacy
// ansible_ssh_* spelling taking precedence over the plain one, as in
// Ansible's MAGIC_VARIABLE_MAPPING. Load has already validated every value,
// so these accessors cannot fail.

// lookup returns the first of names that is set to a non-null value.
func (h *Host) lookup(names ...string) (any, bool) {
	for _, n := range names {
		if v, ok := h.Vars[n]; ok && v != nil {
			return v, true
		}
	}
	return nil, false
}

// str returns the first of names set to a string, or "".
func (h *Host) str(names ...string) string {
	if v, ok := h.lookup(names...); ok {
		s, _ := v.(string)
		return s
	}
	return ""
}

// Address returns the address to connect to: ansible_ssh_host or
// ansible_host, else the inventory name.
func (h *Host) Address() string {
	if s := h.str("ansible_ssh_host", "ansible_host"); s != "" {
		return s
	}
	return h.Name
}

// Port returns ansible_ssh_port or ansible_port, or 0 when neither is set,
// meaning the caller's default.
func (h *Host) Port() int {
	if v, ok := h.lookup("ansible_ssh_port", "ansible_port"); ok {
		n, _ := toInt(v)
		return n
	}
	return 0
}

// User returns ansible_ssh_user or ansible_user, or "" for the caller's
// default.
func (h *Host) User() string {
	return h.str("ansible_ssh_user", "ansible_user")
}

// PrivateKeyFile returns ansible_ssh_private_key_file or
// ansible_private_key_file, unexpanded (a leading ~ is the caller's to
// expand), or "".
func (h *Host) PrivateKeyFile() string {
	return h.str("ansible_ssh_private_key_file", "ansible_private_key_file")
}

// Connection returns ansible_connection as set, or "" for the caller's
// default. Load checks that it is a name; which names exist is the
// connector's to say (package runner/connect), not the inventory's.
func (h *Host) Connection() string {
	return h.str("ansible_connection")
}
