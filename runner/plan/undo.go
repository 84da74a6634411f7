package plan

// UndoKind says how a rollback puts one change back.
type UndoKind string

// Undo kinds.
const (
	// UndoRestore writes a file's backup back over it.
	UndoRestore UndoKind = "restore"
	// UndoRemove deletes a file the change created.
	UndoRemove UndoKind = "remove"
	// UndoValue writes a live value (a sysctl key) back to what it held.
	UndoValue UndoKind = "value"
)

// Undo is one step that puts back what an applied change did on a host:
// data, like the rest of a plan; the modules package runs it.
type Undo struct {
	Kind UndoKind `json:"kind"`
	// Path is the file restored or removed (UndoRestore, UndoRemove), or
	// the /proc/sys path of the key (UndoValue).
	Path string `json:"path"`
	// Backup is the file holding the previous content (UndoRestore).
	Backup string `json:"backup,omitempty"`
	// SHA256 is the hex SHA-256 of the previous content (UndoRestore): the
	// backup must hold it, and the file must hold it once restored.
	SHA256 string `json:"sha256,omitempty"`
	// Written is the hex SHA-256 of what the change wrote (UndoRestore,
	// UndoRemove): a file that no longer holds it was changed since, and
	// is left as it is.
	Written string `json:"written,omitempty"`
	// Key and Value are the key and the value it held before (UndoValue).
	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
}

// Target names what the step puts back: the file, or the key.
func (u Undo) Target() string {
	if u.Kind == UndoValue {
		return u.Key
	}
	return u.Path
}
