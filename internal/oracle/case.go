package oracle

import (
	"encoding/base64"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"

	"tend/internal/testpki"
	"tend/runner/playbook"
)

// Case is one differential test.
type Case struct {
	// Name is the case file's name without .txtar.
	Name string
	// Playbook is the YAML both tools run (hosts: all; one host, "target").
	Playbook string
	// Seeds are written on both hosts before the first run.
	Seeds []Seed
	// Compare lists the paths whose state is compared after every run:
	// existence, symlink target, type, mode, owner and group, and the
	// content of regular files byte for byte.
	Compare []string
	// CompareDirs lists directories whose entry names are compared (backup
	// files left out: see Backups).
	CompareDirs []string
	// CompareTrees lists directories compared recursively: every entry's
	// relative path, type, mode, owner and group, and each regular file's
	// SHA-256 (backup files left out).
	CompareTrees []string
	// Backups lists files of which both tools must have kept a backup
	// holding the same content after the apply.
	Backups []string
	// ExtraVars are passed to both tools as -e KEY=VALUE.
	ExtraVars []string
	// Controller holds files written beside the playbook on the
	// controller, by relative path (templates/app.conf.j2, files/motd).
	Controller map[string][]byte
	// Differences are the deliberate differences the case declares.
	Differences []Difference
	// Serve lists HTTP servers started on both hosts for the case.
	Serve []Server
	// CompareController lists paths relative to the playbook's directory
	// on the controller (each tool runs its own copy of it), compared
	// recursively after every run as CompareTrees are: what fetch brought.
	CompareController []string
	// LoginUsers are accounts made on both hosts (lab.Host.AddUser) that
	// tasks may log in as with remote_user; with any, the inventory gives
	// no ansible_user (which would win over the keyword) and both tools
	// get -u root instead.
	LoginUsers []string
	// CompareOutput lists commands (argv) run on both hosts after every
	// run, their standard output compared byte for byte (`ufw status
	// verbose`: live state no file holds).
	CompareOutput [][]string
}

// Server is a static HTTP server a case runs on each host's loopback
// (python3's http.server), for uri and wait_for cases: on 127.0.0.1:Port,
// or on the unix socket Socket; with TLS, HTTPS that wants a client
// certificate signed by TLS/ca.crt (the files of a tls-pki directive).
type Server struct {
	Port   int
	Socket string
	Dir    string
	TLS    string
}

// Seed is a file (or symlink) set up before a case runs.
type Seed struct {
	Path    string
	Content []byte
	Mode    fs.FileMode // default 0644
	Link    string      // when set, Path is a symlink to Link (Content unused)
}

// LoadCase reads a case file. Its comment section holds one directive a
// line (blank lines and lines starting with # are ignored):
//
//	compare PATH...          compare these paths after every run
//	compare-dir DIR...       compare the entry names of these directories
//	compare-tree DIR...      compare these directories recursively
//	backup PATH...           both tools must have backed PATH up
//	mode PATH OCTAL          the seed's mode (default 0644)
//	crlf PATH                the seed's line endings become CRLF
//	no-final-newline PATH    the seed's last newline is dropped
//	link PATH TARGET         PATH is seeded as a symlink to TARGET
//	extra-var KEY=VALUE      passed to both tools with -e
//	serve PORT DIR           an HTTP server of DIR on 127.0.0.1:PORT, on both hosts
//	serve-tls PORT DIR PKI   the same over HTTPS with PKI's server.crt, wanting a client certificate PKI's ca.crt signed
//	serve-socket PATH DIR    an HTTP server of DIR on the unix socket PATH, on both hosts
//	tls-pki DIR              seeds DIR with a fresh test CA's files (internal/testpki: ca.crt, server.crt/.key, client.crt/.key/.pem, other-ca.crt)
//	compare-controller REL   compare REL (a file or a tree) under each tool's playbook directory
//	base64 NAME              the archive's file NAME (a seed or a controller file) is base64: decode it
//	login-user NAME          an account on both hosts, reachable over SSH (remote_user)
//	compare-output ARGV...   run ARGV (words split on spaces) on both hosts after every run; compare stdout
//	differ RUN ANSIBLE TEND TASK: REASON
//	                         a deliberate difference: in RUN (check, apply,
//	                         second-apply) TASK has status ANSIBLE under
//	                         ansible-playbook and TEND under tend, because REASON
//
// Its files are "playbook.yml", the seeds, named by absolute path, and
// controller files beside the playbook, named by a relative path under
// templates/, files/, tasks/ (task files to import or include), vars/
// (files for include_vars) or roles/.
func LoadCase(file string) (Case, error) {
	a, err := txtar.ParseFile(file)
	if err != nil {
		return Case{}, fmt.Errorf("oracle: %w", err)
	}
	c := Case{Name: strings.TrimSuffix(filepath.Base(file), ".txtar")}
	seeds := map[string]*Seed{}
	var order, decoded []string
	for _, f := range a.Files {
		switch {
		case f.Name == "playbook.yml":
			c.Playbook = string(f.Data)
		case path.IsAbs(f.Name):
			seeds[f.Name] = &Seed{Path: f.Name, Content: f.Data, Mode: 0o644}
			order = append(order, f.Name)
		case controllerDir(f.Name) && !strings.Contains(f.Name, ".."):
			if c.Controller == nil {
				c.Controller = map[string][]byte{}
			}
			c.Controller[f.Name] = f.Data
		default:
			return c, fmt.Errorf("oracle: %s: file %q: want playbook.yml, an absolute path, or templates/, files/, tasks/, vars/ or roles/", file, f.Name)
		}
	}
	if c.Playbook == "" {
		return c, fmt.Errorf("oracle: %s: no playbook.yml", file)
	}
	for i, line := range strings.Split(string(a.Comment), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		bad := func(format string, v ...any) error {
			return fmt.Errorf("oracle: %s:%d: %s: %s", file, i+1, fields[0], fmt.Sprintf(format, v...))
		}
		args := fields[1:]
		seed := func() (*Seed, error) {
			if len(args) == 0 || seeds[args[0]] == nil {
				return nil, bad("no seed file %q in the archive", strings.Join(args, " "))
			}
			return seeds[args[0]], nil
		}
		switch fields[0] {
		case "compare":
			c.Compare = append(c.Compare, args...)
		case "compare-output":
			if len(args) == 0 {
				return c, bad("want a command")
			}
			c.CompareOutput = append(c.CompareOutput, args)
			continue // words of a command, not paths
		case "compare-dir":
			c.CompareDirs = append(c.CompareDirs, args...)
		case "compare-tree":
			c.CompareTrees = append(c.CompareTrees, args...)
		case "backup":
			c.Backups = append(c.Backups, args...)
		case "extra-var":
			c.ExtraVars = append(c.ExtraVars, args...)
		case "differ":
			d, err := parseDifference(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "differ")))
			if err != nil {
				return c, bad("%v", err)
			}
			c.Differences = append(c.Differences, d)
			continue
		case "compare-controller":
			for _, p := range args {
				if path.IsAbs(p) || strings.Contains(p, "..") {
					return c, bad("%q: want a path relative to the playbook's directory", p)
				}
			}
			c.CompareController = append(c.CompareController, args...)
			continue
		case "base64":
			if len(args) != 1 {
				return c, bad("want NAME")
			}
			decoded = append(decoded, args[0])
			continue
		case "serve", "serve-tls":
			want, usage := 2, "PORT DIR"
			if fields[0] == "serve-tls" {
				want, usage = 3, "PORT DIR PKI"
			}
			if len(args) != want || !path.IsAbs(args[1]) || !path.IsAbs(args[want-1]) {
				return c, bad("want %s (absolute paths)", usage)
			}
			port, err := strconv.Atoi(args[0])
			if err != nil || port < 1024 || port > 65535 {
				return c, bad("port %q: want 1024-65535", args[0])
			}
			srv := Server{Port: port, Dir: args[1]}
			if len(args) == 3 {
				srv.TLS = args[2]
			}
			c.Serve = append(c.Serve, srv)
			continue
		case "serve-socket":
			if len(args) != 2 {
				return c, bad("want PATH DIR")
			}
			c.Serve = append(c.Serve, Server{Socket: args[0], Dir: args[1]})
		case "tls-pki":
			if len(args) != 1 {
				return c, bad("want DIR")
			}
			pki, err := testpki.New()
			if err != nil {
				return c, bad("%v", err)
			}
			files := pki.Files()
			names := make([]string, 0, len(files))
			for n := range files {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				p, mode := path.Join(args[0], n), fs.FileMode(0o644)
				if strings.HasSuffix(n, ".key") || strings.HasSuffix(n, ".pem") {
					mode = 0o600
				}
				seeds[p] = &Seed{Path: p, Content: files[n], Mode: mode}
				order = append(order, p)
			}
		case "login-user":
			if len(args) != 1 || playbook.CheckUser(args[0]) != nil {
				return c, bad("want one user name")
			}
			c.LoginUsers = append(c.LoginUsers, args[0])
			continue
		case "mode":
			s, err := seed()
			if err != nil {
				return c, err
			}
			if len(args) != 2 {
				return c, bad("want PATH OCTAL")
			}
			m, err := strconv.ParseUint(args[1], 8, 32)
			if err != nil {
				return c, bad("mode %q: %v", args[1], err)
			}
			s.Mode = fs.FileMode(m)
		case "crlf":
			s, err := seed()
			if err != nil {
				return c, err
			}
			s.Content = []byte(strings.ReplaceAll(string(s.Content), "\n", "\r\n"))
		case "no-final-newline":
			s, err := seed()
			if err != nil {
				return c, err
			}
			s.Content = []byte(strings.TrimSuffix(strings.TrimSuffix(string(s.Content), "\n"), "\r"))
		case "link":
			if len(args) != 2 || !path.IsAbs(args[0]) {
				return c, bad("want PATH TARGET")
			}
			seeds[args[0]] = &Seed{Path: args[0], Link: args[1]}
			order = append(order, args[0])
		default:
			return c, bad("unknown directive")
		}
		for _, p := range args {
			if fields[0] != "extra-var" && fields[0] != "mode" && fields[0] != "link" && !path.IsAbs(p) {
				return c, bad("%q is not an absolute path", p)
			}
		}
	}
	for _, name := range decoded {
		raw, ok := []byte(nil), false
		if s := seeds[name]; s != nil {
			raw, ok = s.Content, true
		} else {
			raw, ok = c.Controller[name]
		}
		if !ok {
			return c, fmt.Errorf("oracle: %s: base64 %s: no such file in the archive", file, name)
		}
		dec, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
		if err != nil {
			return c, fmt.Errorf("oracle: %s: base64 %s: %v", file, name, err)
		}
		if s := seeds[name]; s != nil {
			s.Content = dec
		} else {
			c.Controller[name] = dec
		}
	}
	for _, p := range order {
		c.Seeds = append(c.Seeds, *seeds[p])
	}
	if len(c.Compare)+len(c.CompareDirs)+len(c.CompareTrees)+len(c.CompareController)+len(c.CompareOutput) == 0 {
		return c, fmt.Errorf("oracle: %s: nothing to compare (add a compare directive)", file)
	}
	return c, nil
}

// LoadDir loads every *.txtar case in dir, sorted by name.
func LoadDir(dir string) ([]Case, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Case
	for _, n := range names {
		c, err := LoadCase(n)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("oracle: no *.txtar cases in %s", dir)
	}
	return out, nil
}

// TB is the part of testing.TB the harness uses.
type TB interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// MustLoadDir is LoadDir failing the test on error.
func MustLoadDir(t TB, dir string) []Case {
	t.Helper()
	cs, err := LoadDir(dir)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return cs
}

// controllerDir reports whether name is a controller file's path: under
// templates/, files/, tasks/ or roles/.
func controllerDir(name string) bool {
	for _, d := range []string{"templates/", "files/", "tasks/", "roles/", "vars/"} {
		if strings.HasPrefix(name, d) {
			return true
		}
	}
	return false
}
