package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/runner/transport"
)

// readLoops is a play of loops over 50 paths with every module that
// batches its reads: stat (read-only), file (absent and attributes: in
// check mode), lineinfile, blockinfile, replace and find. Per-item when,
// index_var and label are in play. %s is the paths, %s the text files.
const readLoops = `
- hosts: all
  gather_facts: false
  vars:
    paths: %s
    texts: %s
  tasks:
    - name: stat
      stat: {path: "{{ item }}", checksum_algorithm: sha256}
      loop: "{{ paths }}"
      loop_control: {label: "#{{ i }}", index_var: i}
      when: i != 7
      register: r
    - name: keep stat
      capture: {name: stat, data: "{{ r }}"}
    - name: absent
      file: {path: "{{ item }}", state: absent}
      loop: "{{ paths }}"
      register: r
    - name: keep absent
      capture: {name: absent, data: "{{ r }}"}
    - name: mode
      ignore_errors: true
      file: {path: "{{ item }}", mode: "0640"}
      loop: "{{ texts }}"
      register: r
    - name: keep mode
      capture: {name: mode, data: "{{ r }}"}
    - name: line
      ignore_errors: true
      lineinfile: {path: "{{ item }}", line: hello, create: true}
      loop: "{{ texts }}"
      register: r
    - name: keep line
      capture: {name: line, data: "{{ r }}"}
    - name: block
      ignore_errors: true
      blockinfile: {path: "{{ item }}", block: "a block", create: true}
      loop: "{{ texts }}"
      register: r
    - name: keep block
      capture: {name: block, data: "{{ r }}"}
    - name: replace
      ignore_errors: true
      replace: {path: "{{ item }}", regexp: "x+", replace: "y"}
      loop: "{{ texts | select('search', 'file') | list }}"
      register: r
    - name: keep replace
      capture: {name: replace, data: "{{ r }}"}
    - name: find
      ignore_errors: true
      find: {paths: "{{ item }}", recurse: true}
      loop: "{{ paths | select('search', 'dir') | list }}"
      register: r
    - name: keep find
      capture: {name: find, data: "{{ r }}"}
`

// readLoopTasks are readLoops' loops, each with the commands it sends
// batched (one) and unbatched (one per item run).
var readLoopTasks = []struct {
	task, capture string
	unbatched     int64
}{
	{"stat", "stat", 49}, // item 7 is skipped
	{"absent", "absent", 50},
	{"mode", "mode", 30},
	{"line", "line", 29}, // a path with a newline is not one lineinfile reads
	{"block", "block", 29},
	{"replace", "replace", 17},
	{"find", "find", 10},
}

// textTargets are the text modules' paths: the regular files, the missing
// paths, and a directory (each module fails on it, item by item).
func textTargets(paths []string) []string {
	var out []string
	out = append(out, paths[:20]...)
	out = append(out, paths[41:]...)
	return append(out, paths[20])
}

// checkReadLoops runs readLoops in check mode through conn both ways and
// compares every loop: the same items, statuses, summaries and registered
// results; one command batched, one per item unbatched.
func checkReadLoops(t *testing.T, conn transport.Conn, dir string) {
	paths := makeTree(t, dir)
	src := fmt.Sprintf(readLoops, yamlList(paths), yamlList(textTargets(paths)))
	off := runCounted(t, conn, src, false, Options{Check: true})
	offData := map[string]any{}
	for _, tt := range readLoopTasks {
		offData[tt.capture] = takeCaptured(t, tt.capture)
	}
	on := runCounted(t, conn, src, true, Options{Check: true})
	for _, tt := range readLoopTasks {
		t.Run(tt.task, func(t *testing.T) {
			sameRuns(t, off, on, tt.task, tt.capture, offData[tt.capture], takeCaptured(t, tt.capture))
			if got := off.trips(tt.task); got != tt.unbatched {
				t.Errorf("unbatched: %d commands, want %d", got, tt.unbatched)
			}
			if got := on.trips(tt.task); got != 1 {
				t.Errorf("batched: %d commands, want 1", got)
			}
		})
	}
	// The disk clean-up's dry run says what each item would delete, and how much.
	var bytes float64
	for _, e := range on.items("h1", "absent") {
		if strings.HasPrefix(e.Change.Summary, "would delete") {
			bytes++
		}
	}
	if bytes != 41 { // 50 paths, 9 missing
		t.Errorf("%v items would be deleted, want 41", bytes)
	}
	res := offData["absent"].(map[string]any)["results"].([]any)
	del := res[29].(map[string]any)["deleted"].(map[string]any) // dir09: 9 files of 4 bytes
	if fmt.Sprint(del["files"], del["bytes"]) != "9 36" {
		t.Errorf("dir09 would delete %v", del)
	}
}

// TestLoopReadsBatched: on this machine's shell, each loop of readLoops
// reads the host in one command and reports exactly what item-by-item
// reads report.
func TestLoopReadsBatched(t *testing.T) {
	checkReadLoops(t, transport.Local(), t.TempDir())
}

// TestLoopReadsAfterChange: once an item changed the host, the next items'
// reads are made again, after the change: deleting a directory makes the
// file inside it already absent, batched or not.
func TestLoopReadsAfterChange(t *testing.T) {
	const src = `
- hosts: all
  gather_facts: false
  tasks:
    - name: clean
      file: {path: "{{ item }}", state: absent}
      loop: %s
      register: r
    - name: keep
      capture: {name: clean, data: "{{ r }}"}
`
	dir := t.TempDir()
	build := func() []string {
		os.RemoveAll(filepath.Join(dir, "t"))
		for _, d := range []string{"t/d1", "t/d2"} {
			os.MkdirAll(filepath.Join(dir, d), 0o755)
			os.WriteFile(filepath.Join(dir, d, "f"), []byte("data"), 0o644)
		}
		return []string{filepath.Join(dir, "t/d1"), filepath.Join(dir, "t/d1/f"), filepath.Join(dir, "t/d2/f"), filepath.Join(dir, "t/d2")}
	}
	p := fmt.Sprintf(src, yamlList(build()))
	off := runCounted(t, transport.Local(), p, false, Options{})
	offData := takeCaptured(t, "clean")
	build()
	on := runCounted(t, transport.Local(), p, true, Options{})
	onData := takeCaptured(t, "clean")
	// Registered results hold nothing that differs between two builds.
	sameRuns(t, off, on, "clean", "clean", offData, onData)
	want := []string{"changed", "ok", "changed", "changed"}
	for i, v := range itemViews(on, "clean") {
		if v.Status != want[i] {
			t.Errorf("item %d %s: %s, want %s", i, v.Item, v.Status, want[i])
		}
	}
	// Unbatched: 4 reads, 3 deletions. Batched: one read of all four, the
	// deletion of d1, one read of the three left, one of the two left
	// after d2/f's deletion, the deletion of d2.
	if got := off.trips("clean"); got != 7 {
		t.Errorf("unbatched: %d commands, want 7", got)
	}
	if got := on.trips("clean"); got != 6 {
		t.Errorf("batched: %d commands, want 6", got)
	}
}
