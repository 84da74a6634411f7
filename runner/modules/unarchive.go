package modules

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"tend/internal/yamlnode"
)

// unarchiveSpec unpacks an archive into an existing directory on the host:
// Ansible's unarchive, with the host's GNU tar (tar, .tar.gz/.tgz,
// .tar.bz2, .tar.xz, .tar.zst) or unzip (.zip). The archive is a
// controller file streamed to the host (never an argv), or with
// remote_src a file already there. Whether anything changes is decided as
// Ansible decides it: `tar --diff` against dest, counting the same lines;
// for a zip the archive is unpacked into a private temporary directory and
// that tree is compared the same way. Like Ansible 2.14, a dry run skips a
// tar archive (its Check still says what would be extracted) and runs the
// comparison of a zip.
var unarchiveSpec = Spec{New: newUnarchive}

// unarchiveArgs are unarchive's YAML arguments.
type unarchiveArgs struct {
	Src            string   `yaml:"src"`
	Dest           string   `yaml:"dest"`
	RemoteSrc      bool     `yaml:"remote_src"`
	Copy           *bool    `yaml:"copy"`
	Creates        string   `yaml:"creates"`
	ListFiles      bool     `yaml:"list_files"`
	KeepNewer      bool     `yaml:"keep_newer"`
	Exclude        []string `yaml:"exclude"`
	Include        []string `yaml:"include"`
	ExtraOpts      []string `yaml:"extra_opts"`
	ValidateCerts  *bool    `yaml:"validate_certs"` // only for a URL src, which is refused
	IOBufferSize   *int     `yaml:"io_buffer_size"` // Ansible's crc32 reads; no effect here
	Decrypt        *bool    `yaml:"decrypt"`        // vault: tend has none
	fileCommonArgs `yaml:",inline"`
}

// unarchiveModule is one unarchive task, validated.
type unarchiveModule struct {
	src       string // the controller file (absolute), or the host's path with remote
	remote    bool
	dest      string
	creates   string
	listFiles bool
	keepNewer bool
	exclude   []string
	include   []string
	extraOpts []string
	attrs     fileAttrs
	localKind string // the controller file's archive kind (see archiveKind)
}

func newUnarchive(a Args) (Module, error) {
	var args unarchiveArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	perr := func(key, format string, v ...any) error {
		return posErr(a.File, argValueNode(a.Node, key), "unarchive", format, v...)
	}
	m := &unarchiveModule{remote: args.RemoteSrc, listFiles: args.ListFiles, keepNewer: args.KeepNewer,
		exclude: listArg(a.Node, "exclude", args.Exclude), include: listArg(a.Node, "include", args.Include),
		extraOpts: args.ExtraOpts}
	if args.Copy != nil {
		if _, both := lookupArg(a.Node, "remote_src"); both {
			return nil, perr("copy", "parameters are mutually exclusive: copy, remote_src (copy is deprecated: give remote_src alone)")
		}
		m.remote = !*args.Copy
	}
	if args.Src == "" {
		return nil, perr("src", "src is required (an archive on the controller, or on the host with remote_src: true)")
	}
	if args.Dest == "" {
		return nil, perr("dest", "dest is required (an existing directory on the host)")
	}
	var err error
	if m.dest, err = checkRemotePath(a, "unarchive", "dest", args.Dest); err != nil {
		return nil, err
	}
	if args.Creates != "" {
		if m.creates, err = checkRemotePath(a, "unarchive", "creates", args.Creates); err != nil {
			return nil, err
		}
	}
	if len(m.exclude) > 0 && len(m.include) > 0 {
		return nil, perr("include", "parameters are mutually exclusive: include, exclude")
	}
	for _, key := range []struct {
		name string
		vals []string
	}{{"exclude", m.exclude}, {"include", m.include}, {"extra_opts", m.extraOpts}} {
		for _, v := range key.vals {
			if strings.ContainsAny(v, "\x00") {
				return nil, perr(key.name, "%s: a value cannot hold a NUL byte", key.name)
			}
		}
	}
	if m.attrs, err = args.fileCommonArgs.attrs(a, "unarchive"); err != nil {
		return nil, err
	}
	switch {
	case templated(args.Src):
		m.src = args.Src
	case strings.Contains(args.Src, "://"):
		return nil, perr("src", "src %q: a URL is not supported yet: download it with get_url (which checks a checksum), then unarchive it with remote_src: true", args.Src)
	case m.remote:
		if m.src, err = checkRemotePath(a, "unarchive", "src", args.Src); err != nil {
			return nil, err
		}
	default:
		if m.src, m.localKind, err = findControllerArchive(a.sourceCandidates("files", args.Src), args.Src); err != nil {
			return nil, perr("src", "%v", err)
		}
	}
	return m, nil
}

// findControllerArchive finds src as copy finds a controller file (its
// candidates tries, from Args.sourceCandidates) and reads its kind from
// its first bytes.
func findControllerArchive(tries []string, src string) (string, string, error) {
	for _, p := range tries {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !fi.Mode().IsRegular() {
			return "", "", fmt.Errorf("src %s is not a regular file", p)
		}
		if fi.Size() == 0 {
			return "", "", fmt.Errorf("Invalid archive '%s', the file is 0 bytes", p)
		}
		f, err := os.Open(p)
		if err != nil {
			return "", "", fmt.Errorf("src: %v", err)
		}
		head := make([]byte, 8)
		n, _ := f.Read(head)
		f.Close()
		abs, _ := filepath.Abs(p)
		return abs, archiveKind(fmt.Sprintf("%x", head[:n])), nil
	}
	return "", "", fmt.Errorf("src %q not found (looked in %s)", src, strings.Join(tries, ", "))
}

// archiveKind names an archive from its first bytes (hex): zip, gz, bz2,
// xz, zst, or tar for anything else (tar itself then says whether it is one).
func archiveKind(magic string) string {
	switch {
	case strings.HasPrefix(magic, "504b0304"), strings.HasPrefix(magic, "504b0506"), strings.HasPrefix(magic, "504b0708"):
		return "zip"
	case strings.HasPrefix(magic, "1f8b"):
		return "gz"
	case strings.HasPrefix(magic, "425a68"):
		return "bz2"
	case strings.HasPrefix(magic, "fd377a585a00"):
		return "xz"
	case strings.HasPrefix(magic, "28b52ffd"):
		return "zst"
	}
	return "tar"
}

// archiveHandlers are Ansible's handler names, registered as `handler`.
var archiveHandlers = map[string]string{
	"zip": "ZipArchive", "gz": "TgzArchive", "tar": "TarArchive",
	"bz2": "TarBzipArchive", "xz": "TarXzArchive", "zst": "TarZstdArchive",
}

// tarFlags is tar's decompression option per kind.
var tarFlags = map[string]string{"gz": "-z", "bz2": "-j", "xz": "-J", "zst": "--use-compress-program=zstd", "tar": ""}

// filterNames keeps the archive's names Ansible keeps: those matching an
// include pattern (fnmatch) when includes are given, else those matching no
// exclude pattern; a leading / is dropped (a member that --strip-components
// made "/" stays, as "", as in Ansible's list).
func filterNames(names, include, exclude []string) []string {
	match := func(pats []string, n string) bool {
		for _, p := range pats {
			if re, err := regexp.Compile(`^(?s:` + globToRegexp(p) + `)$`); err == nil && re.MatchString(n) {
				return true
			}
		}
		return false
	}
	var out []string
	for _, n := range names {
		n = strings.TrimPrefix(n, "/")
		if len(include) > 0 && !match(include, n) || match(exclude, strings.TrimSuffix(n, "/")) || match(exclude, n) {
			continue
		}
		out = append(out, n)
	}
	return out
}
