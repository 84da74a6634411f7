package runner

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// TestSaveBudgetScriptConcurrent runs the record-writing script itself
// (with /bin/sh, as on a host) from many shells at once against one record,
// as runs sharing a state directory do: every write succeeds, the record
// holds one whole write, and no temporary file is left behind.
func TestSaveBudgetScriptConcurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pending")
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := exec.Command("/bin/sh", "-c", saveBudgetScript, "sh", dir, "budget-x.json", `{"writer":`+strconv.Itoa(i)+`}`).CombinedOutput()
			if err != nil {
				errs[i] = &exec.Error{Name: string(out), Err: err}
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "budget-x.json"))
	if err != nil {
		t.Fatal(err)
	}
	var whole bool
	for i := range n {
		if string(data) == `{"writer":`+strconv.Itoa(i)+"}\n" {
			whole = true
		}
	}
	if !whole {
		t.Errorf("record %q is not one whole write", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %q, want only the record", names)
	}
}
