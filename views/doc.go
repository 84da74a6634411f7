// Package views renders runner events for people and programs: a human
// text view, JSON lines for machines, and markdown for change reviews. The
// runner never prints; it feeds one of these. New builds a view by its
// format name (factory.go): a new format is a file with its view and one
// line in that table.
package views
