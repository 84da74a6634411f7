package modules

import (
	"context"
	"fmt"
	"path"
	"strings"

	"tend/runner/transport"
)

// relativePath reports whether p is a relative path the file module takes
// as Ansible's does: relative to the working directory of the module on
// the host, which is the login user's home over SSH (sudo keeps it) and
// the controller's working directory for a task delegated to localhost.
// A template, "~" (tend expands none) and a NUL byte are not.
func relativePath(p string) bool {
	return p != "" && !templated(p) && !path.IsAbs(p) && !strings.HasPrefix(p, "~") && !strings.ContainsRune(p, 0)
}

// resolvePath makes a relative path (as given, or as rendered) absolute
// against the working directory of a command run on conn, which is where
// Ansible's module would resolve it (os.getcwd(), symbolic links
// resolved), so the probe, the change and its undo all name one place.
func (m *fileModule) resolvePath(ctx context.Context, conn transport.Conn) error {
	if strings.HasPrefix(m.path, "~") {
		return fmt.Errorf("path %q: tend expands no ~ (give the absolute path)", m.path)
	}
	if !relativePath(m.path) {
		return nil
	}
	cwd, err := workingDir(ctx, conn)
	if err != nil {
		return fmt.Errorf("path %q is relative, and the working directory on the host could not be read: %w", m.path, err)
	}
	m.path = path.Join(cwd, m.path)
	return nil
}

// workingDir is the physical working directory of a command run on conn.
func workingDir(ctx context.Context, conn transport.Conn) (string, error) {
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", "pwd -P"}})
	if err != nil {
		return "", err
	}
	dir := strings.TrimSuffix(string(res.Stdout), "\n")
	if res.ExitCode != 0 || !path.IsAbs(dir) || strings.Contains(dir, "\n") {
		return "", fmt.Errorf("pwd -P exited %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return dir, nil
}
