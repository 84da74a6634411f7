package runner

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestEnginePlayOrder: the order keyword orders the play's hosts, and
// serial batches take them in that order (Ansible's get_hosts(order=)).
func TestEnginePlayOrder(t *testing.T) {
	for _, tt := range []struct{ order, want string }{
		{"", "h2 h10 h1"},
		{"inventory", "h2 h10 h1"},
		{"reverse_inventory", "h1 h10 h2"},
		{"sorted", "h1 h10 h2"},
		{"reverse_sorted", "h2 h10 h1"},
	} {
		t.Run(tt.order, func(t *testing.T) {
			play := "- hosts: all\n  gather_facts: false\n  serial: 1\n"
			if tt.order != "" {
				play += "  order: " + tt.order + "\n"
			}
			play += "  tasks:\n    - name: t\n      memfile: {path: /t, content: x}\n"
			sum, rec := runOn(t, newFleet("h2", "h10", "h1"), play, Options{})
			if sum.Err() != nil {
				t.Fatal(sum.Err())
			}
			var batches []string
			for _, b := range rec.batches {
				batches = append(batches, strings.Join(b.Hosts, ","))
			}
			if got := strings.Join(batches, " "); got != tt.want {
				t.Errorf("batches %q, want %q", got, tt.want)
			}
			if got := strings.Join(rec.plays[0].Hosts, " "); got != tt.want {
				t.Errorf("play hosts %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("shuffle keeps every host once", func(t *testing.T) {
		names := make([]string, 12)
		for i := range names {
			names[i] = fmt.Sprintf("h%02d", i)
		}
		play := "- hosts: all\n  gather_facts: false\n  order: shuffle\n  tasks:\n    - name: t\n      memfile: {path: /t, content: x}\n"
		_, rec := runOn(t, newFleet(names...), play, Options{})
		got := slices.Clone(rec.plays[0].Hosts)
		slices.Sort(got)
		if !slices.Equal(got, names) {
			t.Errorf("shuffled hosts %v, want a permutation of %v", rec.plays[0].Hosts, names)
		}
	})
}
