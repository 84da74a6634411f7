package runner

import (
	"strings"
	"testing"
)

// TestEnginePredictVerify: a dry run runs the read-only verify steps on a
// host whose play plans no change and warns about each that fails; on a
// host where the play plans a change it says nothing (the change is what
// verification checks), and it never fails the host.
func TestEnginePredictVerify(t *testing.T) {
	const src = `
- hosts: all
  tasks:
    - name: write config
      memfile: {path: /etc/app.conf, content: "new\n"}
  verify:
    - name: the app is up
      assert:
        that: inventory_hostname == "nobody"
        fail_msg: "the app is down on {{ inventory_hostname }}"
`
	f := newFleet("idle", "changing")
	f.hosts["idle"].SetFile("/etc/app.conf", []byte("new\n"))
	f.hosts["changing"].SetFile("/etc/app.conf", []byte("old\n"))
	sum, rec := runOn(t, f, src, Options{Check: true})
	if len(sum.Failed) > 0 {
		t.Errorf("a dry run failed hosts %v", sum.Failed)
	}
	if w := rec.warnings("idle", "the app is up"); len(w) != 1 || !strings.Contains(w[0], "verification would fail: the app is down on idle") {
		t.Errorf("idle: warnings %q, want one saying the verification would fail", w)
	}
	if w := rec.warnings("changing", "the app is up"); len(w) != 0 {
		t.Errorf("changing: warnings %q, want none: the planned change is what verify checks", w)
	}
}

// TestEngineUnmatchedHostsTerm: a hosts: term that matches nothing is
// ignored, as in Ansible, and said: in PlayStart and as a warning.
func TestEngineUnmatchedHostsTerm(t *testing.T) {
	const src = `
- hosts: h1:web*:nope
  tasks:
    - name: write config
      memfile: {path: /etc/app.conf, content: "new\n"}
`
	f := newFleet("h1")
	f.hosts["h1"].SetFile("/etc/app.conf", []byte("new\n"))
	_, rec := runOn(t, f, src, Options{Check: true})
	if len(rec.plays) != 1 || strings.Join(rec.plays[0].Unmatched, ",") != "web*,nope" {
		t.Fatalf("plays %+v, want one whose Unmatched is [web* nope]", rec.plays)
	}
	var msgs []string
	for _, w := range rec.warns {
		msgs = append(msgs, w.Msg)
	}
	if want := `hosts: "nope" matched no host in the inventory; ignored`; !strings.Contains(strings.Join(msgs, "\n"), want) {
		t.Errorf("warnings %q, want %q", msgs, want)
	}
}
