// Package views renders runner events for people and programs: a human
// text view, JSON lines for machines, and markdown for change reviews. The
// runner never prints; it feeds one of these.
package views
