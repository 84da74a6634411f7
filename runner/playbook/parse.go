package playbook

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/diag"
	"tend/internal/yamlnode"
)

// ParseOptions tells Parse what it cannot know as a leaf package.
type ParseOptions struct {
	// Modules lists the module names a task may use (the runner passes its
	// registry's names). A task key that is neither a task keyword nor one of
	// these is an error with a "did you mean". Nil accepts any non-keyword
	// key as a module name, for tools that only need the shape.
	Modules []string
	// Check, when set, checks what could be read of the playbook further
	// (the runner passes its module-argument and expression checks). It
	// runs even when Parse found problems in some plays or tasks, so that
	// all are reported at once; the *diag.Error or diag.List it returns is
	// merged with Parse's. Any other error it returns is returned as is.
	Check func(*Playbook) error
	// ExtraVars are the run's -e variables: with the play's vars and
	// defaults they may name the files of includes, roles and vars_files
	// (see reuse.go), which tend resolves before contacting any host.
	ExtraVars map[string]any
	// Render renders a templated file name with known variables (the
	// runner passes its template.Render). Nil refuses templated names.
	Render func(tmpl string, vars map[string]any) (any, error)
	// RolesPath lists further directories searched for roles, after
	// roles/ beside the playbook (Ansible's roles_path), and
	// RolesPathOrigin says where it came from, for a role not found.
	RolesPath       []string
	RolesPathOrigin string
	// CollectionsPath lists the directories holding
	// ansible_collections/NAMESPACE/COLLECTION (Ansible's
	// collections_path), where a role named NAMESPACE.COLLECTION.ROLE is
	// looked for, after the playbook's own collections/.
	CollectionsPath []string
}

// Load reads and parses the playbook at path; see Parse.
func Load(path string, opts ParseOptions) (*Playbook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("playbook: %w", err)
	}
	return Parse(path, data, opts)
}

// Parse parses one playbook document: a YAML list of plays. file names the
// source in positions. Every problem found is reported, positioned, as a
// *diag.Error (one) or a diag.List (several, sorted by position); the
// returned Playbook is nil then.
func Parse(file string, data []byte, opts ParseOptions) (*Playbook, error) {
	root, err := yamlnode.Parse(file, data)
	if err != nil {
		var e *diag.Error
		if errors.As(err, &e) && strings.HasPrefix(e.Msg, "found a second YAML document") {
			e.Msg = "a playbook is one YAML document; found a second one (---)"
		}
		return nil, err
	}
	d := yamlnode.NewDecoder(file)
	yamlnode.CheckDuplicates(d, root)
	if d.Len() > 0 {
		return nil, d.Err() // later messages would only echo these
	}
	p := &parser{Decoder: d, modules: map[string]bool{}, acceptAny: opts.Modules == nil}
	for _, m := range opts.Modules {
		p.modules[m] = true
		p.moduleNames = append(p.moduleNames, m)
	}
	pb := &Playbook{File: file}
	p.pb = pb
	p.baseDir = filepath.Dir(file)
	p.opts = opts
	p.recordFile(file, data)
	p.stack = []string{absPath(file)}
	switch {
	case root == nil:
		d.ErrorfAt(diag.Pos{File: file, Line: 1, Col: 1}, "", "playbook is empty; expected a list of plays")
	case root.Kind != yaml.SequenceNode:
		d.Errorf(root, "", "a playbook must be a list of plays, not %s", yamlnode.Describe(root))
	default:
		p.plays(root)
		if len(root.Content) == 0 {
			d.Errorf(root, "", "playbook has no plays")
		}
	}
	if opts.Check != nil && root != nil {
		// Checked even when the plays have problems, so that one bad
		// task does not hide the next one's.
		if err := opts.Check(pb); !d.Append(err) {
			return nil, err
		}
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	return pb, nil
}

// parser holds the state of one Parse call.
type parser struct {
	*yamlnode.Decoder
	modules     map[string]bool
	moduleNames []string
	acceptAny   bool
	// notifies are the notify names of the current play's tasks, checked
	// against its handlers once the play is read.
	notifies []notifyRef
	reuseState
}

// notifyRef is a notify name and the file it is in.
type notifyRef struct {
	node *yaml.Node
	file string
}

// plays reads a list of plays and import_playbook entries into p.pb.
func (p *parser) plays(root *yaml.Node) {
	for _, n := range root.Content {
		n = yamlnode.Resolve(n)
		if k := importPlaybookKey(n); k != nil {
			p.importPlaybook(n, k)
			continue
		}
		if play := p.play(n); play != nil {
			p.pb.Plays = append(p.pb.Plays, play)
		}
	}
}

// playKeys are the play keywords tend runs or accepts.
var playKeys = []string{
	"name", "hosts", "vars", "defaults", "tasks", "handlers", "verify", "serial",
	"roles", "vars_files",
	"max_fail_percentage", "any_errors_fatal", "gather_facts", "become", "become_user",
	"secret_vars", "metrics", "environment", "rollback",
	"pre_tasks", "post_tasks", "tags", "become_method", "become_exe", "vars_prompt",
	"remote_user", "user", "module_defaults", "collections", "gather_subset", "order",
}

// unsupportedPlayKeys are Ansible play keywords tend deliberately lacks;
// naming them beats a "did you mean".
var unsupportedPlayKeys = map[string]bool{
	"strategy":   true,
	"connection": true, "port": true,
	"include":  true,
	"run_once": true, "throttle": true, "become_flags": true,
	"force_handlers": true, "check_mode": true, "diff": true, "ignore_errors": true,
	"ignore_unreachable": true, "gather_timeout": true,
	"fact_path": true, "no_log": true, "debugger": true, "timeout": true,
}

func (p *parser) play(n *yaml.Node) *Play {
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, "", "a play must be a mapping, not %s", yamlnode.Describe(n))
		return nil
	}
	play := &Play{Pos: yamlnode.PosOf(p.File(), n)}
	p.notifies = nil
	p.startPlay(play)
	var hosts *yaml.Node
	// Lists of tasks are read once the play's variables are known: they
	// may name the files to import.
	var tasks, handlers, verify, roles, varsFiles, preTasks, postTasks, prompts *yaml.Node
	var defaults map[string]*yaml.Node // module_defaults
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlnode.Resolve(n.Content[i]), yamlnode.Resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.Errorf(k, "", "play keys must be strings, not %s", yamlnode.Describe(k))
			continue
		}
		switch k.Value {
		case "name":
			play.Name = p.str(v, "name")
		case "hosts":
			hosts = v
			play.Hosts = p.hosts(v)
		case "vars":
			play.Vars, play.VarNames = p.vars(v, "vars")
		case "defaults":
			play.Defaults, play.DefaultNames = p.vars(v, "defaults")
		case "tasks":
			tasks = v
		case "remote_user", "user": // user: Ansible 2.14's older alias
			play.RemoteUser = p.remoteUser(play, v, k.Value)
		case "vars_prompt":
			prompts = v
		case "pre_tasks":
			preTasks = v
		case "post_tasks":
			postTasks = v
		case "tags":
			play.Tags = p.names(v, k.Value)
		case "become_method":
			// tend escalates with sudo only (become.go), as a task's
			// become_method; naming sudo is accepted.
			if m := p.str(v, k.Value); m != "sudo" {
				p.Errorf(v, k.Value, "become_method %q is not supported by tend: only sudo", m)
			}
		case "become_exe":
			// The sudo tend runs is the one on the host's standard path.
			if m := p.str(v, k.Value); m != "sudo" && m != "/usr/bin/sudo" && m != "/bin/sudo" {
				p.Errorf(v, k.Value, "become_exe %q is not supported by tend: only sudo (or /usr/bin/sudo, /bin/sudo)", m)
			}
		case "handlers":
			handlers = v
		case "verify":
			verify = v
		case "roles":
			roles = v
		case "vars_files":
			varsFiles = v
		case "serial":
			play.Serial = p.serial(v)
		case "order":
			play.Order = p.str(v, k.Value)
			switch play.Order {
			case "inventory", "reverse_inventory", "sorted", "reverse_sorted", "shuffle":
			default:
				p.Errorf(v, k.Value, "order %q is not one of inventory, reverse_inventory, sorted, reverse_sorted, shuffle", play.Order)
			}
		case "metrics":
			play.Metrics = p.metrics(v, k.Value)
		case "max_fail_percentage":
			play.MaxFailPercentage = p.percentage(v, k.Value)
		case "any_errors_fatal":
			play.AnyErrorsFatal = p.boolean(v, k.Value)
		case "collections":
			p.collections(v, k.Value) // moduledefaults.go
		case "module_defaults":
			defaults = p.moduleDefaults(v, k.Value) // moduledefaults.go
		case "rollback":
			play.Rollback = p.boolean(v, k.Value)
		case "gather_facts":
			b := p.boolean(v, k.Value)
			play.GatherFacts = &b
		case "gather_subset":
			play.GatherSubset = v // setup's own argument, checked by it
		case "become":
			b := p.boolean(v, k.Value)
			play.Become = &b
		case "become_user":
			play.BecomeUser = p.str(v, k.Value)
		case "environment":
			play.Environment = p.environment(v, k.Value)
		case "secret_vars":
			play.SecretVars = p.names(v, k.Value)
		default:
			if unsupportedPlayKeys[k.Value] {
				p.Errorf(k, k.Value, "play keyword is not supported by tend")
			} else {
				p.Errorf(k, k.Value, "unknown play key%s", yamlnode.DidYouMean(k.Value, playKeys))
			}
		}
	}
	if hosts == nil {
		p.Errorf(n, "hosts", "a play needs hosts (a pattern such as \"all\" or \"web:&prod\")")
	}
	if prompts != nil {
		p.varsPrompt(play, prompts)
	}
	if varsFiles != nil {
		p.varsFiles(play, varsFiles)
	}
	// Ansible's order: pre_tasks, their handlers flushed, roles, tasks,
	// handlers flushed, post_tasks, then the handlers at the play's end.
	staged := preTasks != nil || postTasks != nil
	if preTasks != nil {
		play.Tasks = append(play.Tasks, p.tasks(preTasks, "pre_tasks", false)...)
	}
	if staged {
		play.Tasks = append(play.Tasks, flushTask(play.Pos))
	}
	if roles != nil {
		p.roles(play, roles)
	}
	if tasks != nil {
		play.Tasks = append(play.Tasks, p.tasks(tasks, "tasks", false)...)
	}
	if staged {
		play.Tasks = append(play.Tasks, flushTask(play.Pos))
	}
	if postTasks != nil {
		play.Tasks = append(play.Tasks, p.tasks(postTasks, "post_tasks", false)...)
	}
	if handlers != nil {
		play.Handlers = append(play.Handlers, p.tasks(handlers, "handlers", true)...)
	}
	if verify != nil {
		play.Verify = p.tasks(verify, "verify", false)
	}
	for _, list := range [][]*Task{play.Tasks, play.Handlers, play.Verify} {
		applyModuleDefaults(defaults, list)
	}
	if len(play.Tags) > 0 {
		scope := &Task{Tags: play.Tags}
		inherit(scope, play.Tasks)
		inherit(scope, play.Verify)
	}
	p.checkHandlers(play)
	return play
}

// remoteUser reads a play's remote_user: a user name, as the inventory's
// ansible_user (it becomes ssh's -l), or a template the runner renders
// for each host (play vars, inventory, -e) and checks the same way.
func (p *parser) remoteUser(play *Play, v *yaml.Node, field string) string {
	play.RemoteUserPos = yamlnode.PosOf(p.File(), v)
	return p.userName(v, field)
}

// userName reads a remote_user (a play's, a block's or a task's): a user
// name, or a template the runner renders per host and checks then.
func (p *parser) userName(v *yaml.Node, field string) string {
	u := p.str(v, field)
	if strings.Contains(u, "{{") {
		return u
	}
	if err := CheckUser(u); err != nil {
		p.Errorf(v, field, "%v", err)
		return ""
	}
	return u
}

// CheckUser reports whether u may be an SSH user name: not empty, no
// leading -, no spaces nor shell characters.
func CheckUser(u string) error {
	switch {
	case u == "":
		return fmt.Errorf("must be a user name")
	case strings.HasPrefix(u, "-") || strings.ContainsFunc(u, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune(";|&$`'\"<>()\\{}*?[]!~,/:", r)
	}):
		return fmt.Errorf("%q is not a user name (no leading -, spaces or shell characters)", u)
	}
	return nil
}

// flushTask is an implicit meta: flush_handlers at pos.
func flushTask(pos Pos) *Task {
	return &Task{Pos: pos, ModulePos: pos, Module: "meta", Field: "flush_handlers",
		Args:   &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "flush_handlers"},
		KeyPos: map[string]Pos{}, Implicit: true}
}

// hosts reads a pattern: a string or a list of strings, joined with ",".
func (p *parser) hosts(v *yaml.Node) string {
	var parts []string
	switch v.Kind {
	case yaml.ScalarNode:
		if !yamlnode.IsNull(v) {
			parts = []string{strings.TrimSpace(v.Value)}
		}
	case yaml.SequenceNode:
		for i, item := range v.Content {
			if s := strings.TrimSpace(p.str(yamlnode.Resolve(item), yamlnode.IndexPath("hosts", i))); s != "" {
				parts = append(parts, s)
			}
		}
	default:
		p.Errorf(v, "hosts", "must be a pattern or a list of patterns, not %s", yamlnode.Describe(v))
		return ""
	}
	joined := strings.Join(parts, ",")
	if strings.Trim(joined, ", ") == "" {
		p.Errorf(v, "hosts", "must not be empty")
	}
	return joined
}

// serial reads a batch size or a list of them: counts, percentages or
// templates.
func (p *parser) serial(v *yaml.Node) []string {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	var out []string
	for _, item := range items {
		item = yamlnode.Resolve(item)
		if yamlnode.HasTemplate(item) {
			out = append(out, item.Value) // rendered and checked by the runner
			continue
		}
		s := strings.TrimSuffix(item.Value, "%")
		ok := item.Kind == yaml.ScalarNode && yamlnode.IsDecimal(s) && !strings.HasPrefix(s, "-") && s != "0"
		if !ok {
			p.Errorf(item, "serial", "must be a positive count (5), a percentage (\"30%%\") or a list of them, not %s", yamlnode.Describe(item))
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

// percentage reads an integer 0..100.
func (p *parser) percentage(v *yaml.Node, field string) *int {
	i, ok := p.Int(v, field, 64)
	if !ok {
		return nil
	}
	if i < 0 || i > 100 {
		p.Errorf(v, field, "must be between 0 and 100")
		return nil
	}
	pct := int(i)
	return &pct
}
