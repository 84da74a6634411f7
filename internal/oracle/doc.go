// Package oracle is the differential test harness: it runs one playbook with
// ansible-playbook (ansible-core 2.14, the oracle) on one lab host and with
// tend on an identical second one, then compares what the two did — the end
// state of the files a case names (content byte for byte, mode, owner,
// symlinks, directory entries, whole directory trees, backups) and the per-host accounting (each
// task's ok/changed/failed/skipped and the recap) — in check mode, in apply,
// and in a second apply.
//
// A case is a txtar file (see LoadCase): a comment section of directives,
// the playbook as "playbook.yml", and seed files named by their absolute
// path. Tests load a directory of cases and run each as a subtest:
//
//	func TestDifferential(t *testing.T) {
//		l := oracle.NewLab(t)
//		for _, c := range oracle.MustLoadDir(t, "testdata") {
//			t.Run(c.Name, func(t *testing.T) { l.Run(t, c) })
//		}
//	}
//
// Each tool runs from its own copy of the playbook's directory, which is
// also its working directory: a relative path a task delegates to
// localhost lands there, and compare-controller compares it.
//
// The lab's two hosts have a private /etc each (lab.WithOverlayEtc), so
// cases write there; the harness removes /etc/oracle on both hosts before
// each case and then writes the seeds. Where tend deliberately differs from
// Ansible, the comparison says so in a comment where it leaves it out, or
// the case declares it (the `differ` directive: see Difference); a declared
// difference that is not seen fails the case.
//
// It needs root (the lab) and ansible-playbook; without the latter the
// tests are skipped, as the inventory oracle tests are.
package oracle
