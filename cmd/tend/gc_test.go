package main

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig) })
	tests := []struct {
		name    string
		env     map[string]string
		runtime int // the percentage the runtime holds before tuneGC (what GOGC set at start)
		want    int
	}{
		{"no GOGC: tend's default", nil, 100, defaultGCPercent},
		{"GOGC set: the runtime's value kept", map[string]string{"GOGC": "200"}, 200, 200},
		{"GOGC=off kept", map[string]string{"GOGC": "off"}, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(tt.runtime)
			got := tuneGC(func(k string) string { return tt.env[k] })
			if got != tt.want {
				t.Fatalf("tuneGC returned %d, want %d", got, tt.want)
			}
			if now := debug.SetGCPercent(tt.runtime); now != tt.want {
				t.Fatalf("runtime GC percent %d after tuneGC, want %d", now, tt.want)
			}
		})
	}
}
