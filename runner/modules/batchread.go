package modules

import (
	"path"
	"strings"

	"tend/runner/transport"
)

// A module whose Check starts with one read-only command, known from its
// arguments alone, says which through BatchRead. The runner, looping over
// such a module, runs the first reads of many items as one remote command
// and answers each item's Check with its own command's result; every item
// still runs its own Check and Apply, so its result is what it would be
// alone. The command returned must be exactly the one Check runs first
// (same argv, same MaxOutput, no stdin): one that differs is simply run
// again live. ok is false when Check would fail before reading, or reads
// nothing.

// BatchRead is the probe stat's Check runs.
func (m *statModule) BatchRead() (transport.Command, bool) {
	return fsProbeCommand(m.ops()), true
}

// BatchRead is the probe file's Check runs (path, state, attributes).
func (m *fileModule) BatchRead() (transport.Command, bool) {
	ops, err := m.probeOps()
	if err != nil {
		return transport.Command{}, false
	}
	return fsProbeCommand(ops), true
}

// BatchRead is find's walk of its paths; checksums, when asked, are a
// second read done live.
func (m *findModule) BatchRead() (transport.Command, bool) {
	ops, err := m.probeOps()
	if err != nil {
		return transport.Command{}, false
	}
	return fsProbeCommand(ops), true
}

// BatchRead is the read of lineinfile's file.
func (m *lineinfileModule) BatchRead() (transport.Command, bool) { return textRead(m.path) }

// BatchRead is the read of blockinfile's file.
func (m *blockinfileModule) BatchRead() (transport.Command, bool) { return textRead(m.path) }

// BatchRead is the read of replace's file.
func (m *replaceModule) BatchRead() (transport.Command, bool) { return textRead(m.path) }

// textRead is readTextFile's command for p, when p is one it reads.
func textRead(p string) (transport.Command, bool) {
	if !path.IsAbs(p) || strings.ContainsAny(p, "\n\x00") {
		return transport.Command{}, false
	}
	return transport.ReadFileCommand(p), true
}
