package main

import (
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target tend runs with unless GOGC is set: a run's
// heap is mostly short-lived command output, so Go's default headroom (100: the heap may double
// between collections) is mostly garbage at peak. Measured on 200 lab hosts (bench/profile run
// --check, forks 200): peak RSS 67.2 MB at 100, 60.0 MB at 50, for 0.18 s more client CPU.
const defaultGCPercent = 50

// tuneGC sets defaultGCPercent when the environment does not choose (getenv("GOGC") empty); an
// operator's GOGC, including GOGC=off, always wins. It returns the percentage in effect.
func tuneGC(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		p := debug.SetGCPercent(-1) // read the runtime's value back...
		debug.SetGCPercent(p)       // ...and leave it as the environment set it
		return p
	}
	debug.SetGCPercent(defaultGCPercent)
	return defaultGCPercent
}
