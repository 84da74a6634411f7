package main

import (
	"context"
	"errors"
	"testing"

	"tend/runner"
)

// TestOutcomeBudgetSeverity: a spent budget (9) is less severe than a
// failure (1) and more than an unknown host key (6) or unreachable (3).
func TestOutcomeBudgetSeverity(t *testing.T) {
	tests := []struct {
		name string
		sum  runner.Summary
		want int
	}{
		{"budget only", runner.Summary{Failed: []string{"a"}, BudgetSpent: []string{"a"}}, exitBudgetSpent},
		{"budget and a failure", runner.Summary{Failed: []string{"a", "b"}, BudgetSpent: []string{"a"}}, exitFailed},
		{"budget and unreachable", runner.Summary{Failed: []string{"a"}, BudgetSpent: []string{"a"}, Unreachable: []string{"b"}}, exitBudgetSpent},
		{"budget and unknown key", runner.Summary{Failed: []string{"a"}, BudgetSpent: []string{"a"}, HostKeyUnknown: []string{"b"}}, exitBudgetSpent},
		{"failure only", runner.Summary{Failed: []string{"a"}}, exitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := outcome(context.Background(), nil, &tt.sum, false, false)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != tt.want {
				t.Fatalf("outcome = %v, want exit %d", err, tt.want)
			}
		})
	}
}
