package lab

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// PurgePackage purges the Debian package name from this machine when dpkg knows it, waiting up
// to 10 minutes on the dpkg lock (other packages' tests may hold it). Lab hosts share this
// machine's /usr and /var/lib/dpkg, so a fixture package a test installed on a lab host is
// installed here: tests purge theirs with this in t.Cleanup, even when they fail.
func PurgePackage(name string) error {
	out, _ := exec.Command("dpkg-query", "-W", "-f=${db:Status-Abbrev}", name).Output()
	if s := strings.TrimSpace(string(out)); s == "" || s == "un" {
		return nil
	}
	cmd := exec.Command("apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=600", "purge", name)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("purge %s: %w: %s", name, err, b)
	}
	return nil
}
