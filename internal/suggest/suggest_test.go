package suggest

import "testing"

func TestClosest(t *testing.T) {
	for _, tc := range []struct {
		word       string
		candidates []string
		want       string
	}{
		{"notfiy", []string{"notify", "name", "when"}, "notify"},
		{"chidren", []string{"hosts", "children", "vars"}, "children"},
		{"hots", []string{"hosts", "vars"}, "hosts"},
		{"xyz", []string{"hosts", "vars"}, ""},   // nothing close
		{"cat", []string{"hat", "bat"}, "bat"},   // tie at 1: alphabetical first
		{"NOTIFY", []string{"notify"}, "notify"}, // case ignored
		{"notify", []string{"notify"}, ""},       // an exact match is not a suggestion
		{"regster", []string{"register", "retries"}, "register"},
	} {
		if got := Closest(tc.word, tc.candidates); got != tc.want {
			t.Errorf("Closest(%q, %v) = %q, want %q", tc.word, tc.candidates, got, tc.want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"héllo", "hello", 1}} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
