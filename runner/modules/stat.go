package modules

import (
	"context"
	"fmt"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// statSpec describes a path on the host: Ansible's stat module. It only
// reads, so it runs in check mode too.
var statSpec = Spec{New: newStat, RunsInCheckMode: true}

type statArgs struct {
	Path              string `yaml:"path"`
	Dest              string `yaml:"dest"`
	Name              string `yaml:"name"`
	Follow            bool   `yaml:"follow"`
	GetChecksum       *bool  `yaml:"get_checksum"`
	ChecksumAlgorithm string `yaml:"checksum_algorithm"`
	ChecksumAlgo      string `yaml:"checksum_algo"`
	Checksum          string `yaml:"checksum"`
	GetMime           bool   `yaml:"get_mime"`       // accepted; no mime type is gathered
	GetAttributes     bool   `yaml:"get_attributes"` // accepted; no attributes are gathered
}

// checksumAlgorithms are those stat and copy know, as the host's *sum tools.
var checksumAlgorithms = map[string]bool{"md5": true, "sha1": true, "sha224": true, "sha256": true, "sha384": true, "sha512": true}

type statModule struct {
	path     string
	follow   bool
	checksum string // algorithm, "" for none
}

func newStat(a Args) (Module, error) {
	var args statArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	p, key, err := pickAlias(a, "stat", alias{"path", args.Path}, alias{"dest", args.Dest}, alias{"name", args.Name})
	if err != nil {
		return nil, err
	}
	if key == "" {
		key = "path"
	}
	m := &statModule{follow: args.Follow, checksum: "sha1"}
	if m.path, err = checkRemotePath(a, "stat", key, p); err != nil {
		return nil, err
	}
	alg, akey, err := pickAlias(a, "stat", alias{"checksum_algorithm", args.ChecksumAlgorithm}, alias{"checksum_algo", args.ChecksumAlgo}, alias{"checksum", args.Checksum})
	if err != nil {
		return nil, err
	}
	if alg != "" && !templated(alg) {
		if !checksumAlgorithms[alg] {
			return nil, posErr(a.File, argNode(a.Node, akey), "stat", "%s must be one of md5, sha1, sha224, sha256, sha384, sha512, not %q", akey, alg)
		}
		m.checksum = alg
	}
	if args.GetChecksum != nil && !*args.GetChecksum {
		m.checksum = ""
	}
	return m, nil
}

// Check stats the path in one remote command: the entry, where a symlink
// leads, and the checksum of a regular file.
func (m *statModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	ans, _, err := fsProbe(ctx, conn, m.ops())
	if err != nil {
		return plan.Change{}, fmt.Errorf("stat: %s: %w", m.path, err)
	}
	st := map[string]any{"exists": false}
	summary := m.path + ": absent"
	if e := ans[0].entry; ans[0].status == "ok" {
		st = e.statData()
		st["path"] = m.path
		summary = fmt.Sprintf("%s: %s, mode %s, %s:%s, %d bytes", m.path, entryKind(e.Type), octalMode(e.Mode), e.User, e.Group, e.Size)
		if e.Type == 'l' {
			st["lnk_target"] = e.LinkTarget
			summary = fmt.Sprintf("%s: symlink to %s", m.path, e.LinkTarget)
			if ans[1].status == "ok" {
				st["lnk_source"] = ans[1].value
			}
		}
		if len(ans) > 2 && ans[2].status == "ok" {
			st["checksum"] = ans[2].value
		}
	} else if ans[0].status == "dangling" {
		summary = fmt.Sprintf("%s: absent (a dangling symlink to %s, followed)", m.path, ans[0].entry.LinkTarget)
	}
	return plan.Change{Action: plan.Read, Summary: summary, Data: map[string]any{"stat": st}}, nil
}

// ops are the probe's operations: the entry, where a symlink leads, and
// the checksum of a regular file.
func (m *statModule) ops() []fsOp {
	op := "lstat"
	if m.follow {
		op = "stat"
	}
	ops := []fsOp{{op, m.path}, {"real", m.path}}
	if m.checksum != "" {
		sum := m.checksum
		if !m.follow {
			sum = "l" + sum
		}
		ops = append(ops, fsOp{sum, m.path})
	}
	return ops
}

// Apply is never needed: Check changes nothing.
func (m *statModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	return planned, nil
}

// entryKind names find's %y type letter.
func entryKind(t byte) string {
	switch t {
	case 'f':
		return "file"
	case 'd':
		return "directory"
	case 'l':
		return "symlink"
	case 'b':
		return "block device"
	case 'c':
		return "character device"
	case 'p':
		return "fifo"
	case 's':
		return "socket"
	}
	return "entry of unknown type"
}
