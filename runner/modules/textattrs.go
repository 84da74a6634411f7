package modules

import (
	"context"
	"fmt"

	"tend/runner/transport"
)

// fileCommonArgs are Ansible's file-common arguments as the text-editing
// modules (lineinfile, blockinfile, replace) take them: mode, owner and
// group are applied; the extended attributes and SELinux context, which
// tend does not manage, are refused by name rather than ignored.
type fileCommonArgs struct {
	Mode         string  `yaml:"mode"`
	Owner        string  `yaml:"owner"`
	Group        string  `yaml:"group"`
	Attributes   *string `yaml:"attributes"`
	Attr         *string `yaml:"attr"`
	Seuser       *string `yaml:"seuser"`
	Serole       *string `yaml:"serole"`
	Setype       *string `yaml:"setype"`
	Selevel      *string `yaml:"selevel"`
	UnsafeWrites *bool   `yaml:"unsafe_writes"`
}

// attrs validates the arguments into the attributes to apply; an
// unsupported one is an error positioned on it.
func (f fileCommonArgs) attrs(a Args, module string) (fileAttrs, error) {
	refuse := func(key, why string) (fileAttrs, error) {
		return fileAttrs{}, posErr(a.File, argNode(a.Node, key), module, "%s is not supported: %s", key, why)
	}
	for _, x := range []struct {
		key string
		set bool
	}{{"attributes", f.Attributes != nil}, {"attr", f.Attr != nil}} {
		if x.set {
			return refuse(x.key, "tend does not set extended attributes (chattr); remove it or use command: chattr")
		}
	}
	for _, x := range []struct {
		key string
		set bool
	}{{"seuser", f.Seuser != nil}, {"serole", f.Serole != nil}, {"setype", f.Setype != nil}, {"selevel", f.Selevel != nil}} {
		if x.set {
			return refuse(x.key, "tend does not manage SELinux contexts")
		}
	}
	if f.UnsafeWrites != nil && *f.UnsafeWrites {
		return refuse("unsafe_writes", "tend always writes atomically (and in place only on a bind mount)")
	}
	at := fileAttrs{owner: f.Owner, group: f.Group}
	for _, x := range []struct{ key, v string }{{"owner", f.Owner}, {"group", f.Group}} {
		if err := checkAccountName(a, module, x.key, x.v); err != nil {
			return fileAttrs{}, err
		}
	}
	var err error
	if f.Mode == "preserve" {
		return refuse("mode", "preserve needs a source file (copy, template)")
	}
	if at.mode, err = modeArg(a, module, f.Mode); err != nil {
		return fileAttrs{}, err
	}
	return at, nil
}

// checkAccountName refuses an owner or group no host can have: empty
// after trimming, or holding a colon, a NUL, a newline or a space.
func checkAccountName(a Args, module, key, v string) error {
	if v == "" || templated(v) {
		return nil
	}
	for _, r := range v {
		if r == ':' || r == 0 || r == '\n' || r == ' ' || r == '\t' {
			return posErr(a.File, argNode(a.Node, key), module, "%s %q is not a user or group name", key, v)
		}
	}
	return nil
}

// newFilePlan is what giving a new file (or an existing one, entry e)
// the attributes asked means: the mode the write creates a new file
// with, the steps after the write and the old → new values shown.
func (a fileAttrs) newFilePlan(p string, exists bool, e fsEntry, ids hostIDs) (uint32, []fsStep, []attrChange) {
	var newMode uint32
	if !exists {
		base := 0o666 &^ ids.umask
		newMode = base
		if a.mode != nil {
			newMode = a.mode.apply(base, false, ids.umask)
		}
		e = fsEntry{Type: 'f', Mode: newMode, UID: -1, GID: -1, Path: p}
	}
	steps, changes := a.attrPlan(e, ids, false)
	if exists {
		return 0, steps, changes
	}
	if newMode&^0o777 != 0 || newMode == 0 {
		// The write sets rwx bits only, and 0 means its default.
		steps = append([]fsStep{{"chmod", p, fmt.Sprintf("%04o", newMode)}}, steps...)
	}
	changes = newAttrs(changes)
	if a.mode != nil {
		changes = append([]attrChange{{p, "mode", "(new)", octalMode(newMode)}}, changes...)
	}
	return newMode, steps, changes
}

// planAttrs adds to edit e the attribute changes its module's mode, owner
// and group ask for, read on the host in one command (the file followed
// when a symlink: its target is what the edit writes). A file the edit
// neither keeps nor creates gets none, as in Ansible.
func planAttrs(ctx context.Context, conn transport.Conn, e *fileEdit, a fileAttrs) error {
	if a.empty() || e.noAttrs || (!e.file.exists && !e.create) {
		return nil
	}
	if a.templatedAttrs() {
		return fmt.Errorf("%s: mode, owner or group still holds a template", e.module)
	}
	ops := append([]fsOp{{"stat", e.file.path}}, a.ops()...)
	ans, _, err := fsProbe(ctx, conn, ops)
	if err != nil {
		return fmt.Errorf("%s: %s: reading mode and owner: %w", e.module, e.file.path, err)
	}
	ids, _, err := a.resolve(ans[1:])
	if err != nil {
		return fmt.Errorf("%s: %s: %w", e.module, e.file.path, err)
	}
	exists := ans[0].status == "ok"
	if exists != e.file.exists {
		return &transport.StaleError{Path: e.file.path, Want: e.file.sha, Got: "changed while read"}
	}
	ent := ans[0].entry
	ent.Path = e.file.path
	e.newMode, e.steps, e.changes = a.newFilePlan(e.file.path, exists, ent, ids)
	return nil
}

// templatedAttrs reports whether owner or group still holds a template
// (mode's template leaves a.mode nil).
func (a fileAttrs) templatedAttrs() bool { return templated(a.owner) || templated(a.group) }
