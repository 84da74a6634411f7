package playbooks

import (
	"strings"
	"testing"
)

// Every shipped playbook opens with a header whose first sentence says
// what it is for: `tend playbooks` shows it.
func TestEveryShippedPlaybookHasAPurpose(t *testing.T) {
	names := Names()
	if len(names) == 0 {
		t.Fatal("no shipped playbook")
	}
	for _, n := range names {
		h, ok := Header(n)
		if !ok || !strings.HasPrefix(h, n+" — ") {
			t.Errorf("%s: header does not start with %q: %.60q", n, n+" — ", h)
		}
		p := Purpose(n)
		if p == "" || strings.Contains(p, "\n") || !strings.HasSuffix(p, ".") || len(p) > 120 {
			t.Errorf("%s: purpose %q: want one sentence of at most 120 characters", n, p)
		}
	}
}

func TestPurpose(t *testing.T) {
	if got, want := Purpose("closewait-report"), "read-only: how many TCP sockets sit in CLOSE_WAIT on the MQ port, per host, and which process holds them."; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, ok := Header("no-such"); ok {
		t.Fatal("a playbook that is not shipped has a header")
	}
}
