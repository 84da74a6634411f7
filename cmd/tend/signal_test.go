package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSignalFinishesCurrentStep builds tend, interrupts it during a step,
// and checks that the step finished, no later step started, and the exit
// code is 130 (SIGINT) or 143 (SIGTERM).
func TestSignalFinishesCurrentStep(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "tend")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	writeFile(t, dir, "play.yml", `
- hosts: localhost
  tasks:
    - name: slow step
      shell: touch started; sleep 1; touch finished
    - name: next step
      command: touch second
`)
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			for _, f := range []string{"started", "finished", "second"} {
				os.Remove(filepath.Join(dir, f))
			}
			cmd := exec.Command(bin, "run", "-c", "local", "play.yml")
			cmd.Dir = dir
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 200; i++ { // bounded wait for the step to begin
				if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Fatalf("exit %v, want %d", err, tc.code)
			}
			if _, err := os.Stat(filepath.Join(dir, "finished")); err != nil {
				t.Errorf("the current step was cut short: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "second")); err == nil {
				t.Errorf("a step started after the signal")
			}
		})
	}
}
