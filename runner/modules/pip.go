package modules

import (
	"path"
	"regexp"
	"strings"

	"github.com/kballard/go-shellquote"

	"tend/internal/yamlnode"
)

// pipSpec installs, upgrades and removes Python packages with pip, in a
// virtualenv (created when missing) or for a given pip: Ansible 2.14's pip.
// Check reads whether the virtualenv exists and what `pip list
// --format=freeze` holds, in one remote command; Apply creates the
// virtualenv when missing and runs one pip command, changed as Ansible
// tells it (pip's "Successfully installed"/"Successfully uninstalled", or
// the freeze before and after for requirements and VCS names).
var pipModuleSpec = Spec{New: newPip}

// pipArgs are the YAML arguments of pip (Ansible 2.14's names).
type pipArgs struct {
	Name                   []string `yaml:"name"`
	Version                string   `yaml:"version"`
	Requirements           string   `yaml:"requirements"`
	State                  string   `yaml:"state"`
	Virtualenv             string   `yaml:"virtualenv"`
	VirtualenvSitePackages bool     `yaml:"virtualenv_site_packages"`
	VirtualenvCommand      string   `yaml:"virtualenv_command"`
	VirtualenvPython       string   `yaml:"virtualenv_python"`
	ExtraArgs              string   `yaml:"extra_args"`
	Editable               bool     `yaml:"editable"`
	Chdir                  string   `yaml:"chdir"`
	Executable             string   `yaml:"executable"`
	Umask                  string   `yaml:"umask"`
}

// pipStateArgs are pip's words for each state (Ansible's state_map).
var pipStateArgs = map[string][]string{
	"present":        {"install"},
	"absent":         {"uninstall", "-y"},
	"latest":         {"install", "-U"},
	"forcereinstall": {"install", "-U", "--force-reinstall"},
}

// pipModule is one pip task.
type pipModule struct {
	state string
	// names are the name entries as given (comma lists split), for the
	// registered name; reqs are them recovered into requirements.
	names   []string
	reqs    []pipReq
	version string
	// requirements is the -r file (relative to chdir).
	requirements string
	// env is the virtualenv ("" none), joined to chdir when relative.
	env            string
	venvCmd        []string
	venvPython     string
	sitePackages   bool
	extraArgs      []string
	chdir          string
	executable     string
	umask          string
	namesGiven     bool
	hasVCS         bool
	versionGiven   bool
	requirementsOn bool
}

var pipUmaskRE = regexp.MustCompile(`^0*[0-7]{1,4}$`)

func newPip(a Args) (Module, error) {
	bad := func(key, format string, v ...any) error {
		return posErr(a.File, argValueNode(a.Node, key), "pip", format, v...)
	}
	var args pipArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	m := &pipModule{state: args.State, version: args.Version, requirements: args.Requirements,
		sitePackages: args.VirtualenvSitePackages, venvPython: args.VirtualenvPython,
		chdir: args.Chdir, executable: args.Executable, umask: args.Umask}
	switch m.state {
	case "":
		m.state = "present"
	case "present", "absent", "latest", "forcereinstall":
	default:
		if !hasTemplate(m.state) {
			return nil, bad("state", "state must be one of absent, forcereinstall, latest, present, not %q%s",
				m.state, yamlnode.DidYouMean(m.state, []string{"present", "absent", "latest", "forcereinstall"}))
		}
	}
	_, m.namesGiven = lookupArg(a.Node, "name")
	_, reqGiven := lookupArg(a.Node, "requirements")
	_, m.versionGiven = lookupArg(a.Node, "version")
	m.requirementsOn = reqGiven && args.Requirements != ""
	switch {
	case m.namesGiven && reqGiven:
		return nil, bad("requirements", "parameters are mutually exclusive: name|requirements")
	case !m.namesGiven && !reqGiven:
		return nil, posErr(a.File, a.Node, "pip", "one of the following is required: name, requirements")
	}
	if _, ok := lookupArg(a.Node, "executable"); ok {
		if _, venv := lookupArg(a.Node, "virtualenv"); venv {
			return nil, bad("executable", "parameters are mutually exclusive: executable|virtualenv")
		}
	}
	if m.state == "latest" && m.versionGiven {
		return nil, bad("version", "version is incompatible with state=latest")
	}
	if m.umask != "" && !hasTemplate(m.umask) && !pipUmaskRE.MatchString(m.umask) {
		return nil, bad("umask", "umask must be an octal integer, not %q (quote it: umask: \"0022\")", m.umask)
	}
	for _, n := range args.Name {
		for _, p := range strings.Split(n, ",") { // Ansible's list type splits a string on commas
			if p = strings.TrimSpace(p); p != "" {
				m.names = append(m.names, p)
			}
		}
	}
	if m.namesGiven && len(m.names) > 0 {
		for _, r := range pipRecoverNames(m.names) {
			m.reqs = append(m.reqs, parsePipReq(strings.TrimSpace(r)))
			m.hasVCS = m.hasVCS || pipIsVCS(r)
		}
		if m.versionGiven && !hasTemplate(m.version) {
			if len(m.reqs) > 1 {
				return nil, bad("version", "'version' argument is ambiguous when installing multiple package distributions. "+
					"Please specify version restrictions next to each package in 'name' argument.")
			}
			if len(m.reqs[0].specs) > 0 {
				return nil, bad("version", "The 'version' argument conflicts with any version specifier provided along with a package name. "+
					"Please keep the version specifier, but remove the 'version' argument.")
			}
			v := strings.TrimLeft(m.version, " \t")
			sep := " "
			if v != "" && v[0] >= '0' && v[0] <= '9' {
				sep = "=="
			}
			m.reqs[0] = parsePipReq(strings.TrimSpace(m.reqs[0].text) + sep + v)
		}
	}
	extra := args.ExtraArgs
	if args.Editable {
		words := strings.Split(extra, " ")
		if extra == "" {
			words = nil
		}
		has := false
		for _, w := range words {
			has = has || w == "-e"
		}
		if !has {
			extra = strings.Join(append(words, "-e"), " ")
		}
	}
	if extra != "" {
		words, err := shellquote.Split(extra)
		if err != nil {
			return nil, bad("extra_args", "extra_args cannot be split into words: %v", err)
		}
		m.extraArgs = words
	}
	vcmd := args.VirtualenvCommand
	if vcmd == "" {
		vcmd = "virtualenv"
	}
	words, err := shellquote.Split(vcmd)
	if err != nil || len(words) == 0 {
		return nil, bad("virtualenv_command", "virtualenv_command cannot be split into words: %q", vcmd)
	}
	m.venvCmd = words
	if m.venvPython != "" && pipIsVenvModule(vcmd) {
		return nil, bad("virtualenv_python", "virtualenv_python should not be used when using the venv module or pyvenv as virtualenv_command")
	}
	if env := args.Virtualenv; env != "" {
		switch {
		case hasTemplate(env) || path.IsAbs(env) || env == "~" || strings.HasPrefix(env, "~/"):
		case m.chdir != "":
			env = path.Join(m.chdir, env) // as Ansible: relative to chdir
		default:
			return nil, bad("virtualenv", "virtualenv must be an absolute path (or ~/...), or relative with chdir, not %q", env)
		}
		m.env = env
	}
	if m.chdir != "" && !hasTemplate(m.chdir) && !path.IsAbs(m.chdir) && m.chdir != "~" && !strings.HasPrefix(m.chdir, "~/") {
		return nil, bad("chdir", "chdir must be an absolute path (or ~/...), not %q", m.chdir)
	}
	return m, nil
}

// pipIsVenvModule: the virtualenv command is Python's venv (no -p option).
func pipIsVenvModule(cmd string) bool {
	return strings.Contains(cmd, "pyvenv") || strings.Contains(cmd, "-m venv")
}

// pipArgv is pip's arguments after the program: the state's words, the
// extra arguments, then the requirements (or -r FILE).
func (m *pipModule) pipArgv() []string {
	a := append([]string{}, pipStateArgs[m.state]...)
	a = append(a, m.extraArgs...)
	if len(m.reqs) > 0 {
		for _, r := range m.reqs {
			a = append(a, r.text)
		}
	} else if m.requirements != "" {
		a = append(a, "-r", m.requirements)
	}
	return a
}

// pipDecides: Ansible's check mode cannot tell from pip list, and reports
// a change (extra_args, requirements, state latest, no name).
func (m *pipModule) pipDecides() bool {
	return len(m.extraArgs) > 0 || m.requirementsOn || m.state == "latest" || len(m.reqs) == 0
}

// Verifiable: only present and absent of plain names read from pip list
// can be checked again after Apply.
func (m *pipModule) Verifiable() bool {
	if m.pipDecides() || m.state == "forcereinstall" || m.hasVCS {
		return false
	}
	for _, r := range m.reqs {
		if !r.plain {
			return false
		}
	}
	return true
}
