package playbook

import "testing"

func TestSuggest(t *testing.T) {
	tests := []struct {
		word string
		want string
	}{
		{"notfiy", "notify"},
		{"regster", "register"},
		{"whn", "when"},
		{"Notify", "notify"},
		{"xyzzy", ""},
		{"nam", "name"},
	}
	for _, tt := range tests {
		if got := suggest(tt.word, taskKeys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}
