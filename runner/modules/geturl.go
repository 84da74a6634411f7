package modules

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// getURLSpec downloads a file on the host: Ansible's get_url. The host
// itself fetches (curl, else python3), into a temporary file beside dest;
// the file replaces dest atomically only once its status and checksum are
// right. Check sends a HEAD (a read) to learn the status and the final file
// name; a server's answer can change at any time, so get_url is not
// Verifiable.
var getURLSpec = Spec{New: newGetURL}

// getURLArgs are get_url's YAML arguments.
type getURLArgs struct {
	URL            string            `yaml:"url"`
	Dest           string            `yaml:"dest"`
	Checksum       string            `yaml:"checksum"`
	Force          bool              `yaml:"force"`
	Timeout        *int              `yaml:"timeout"`
	Headers        map[string]string `yaml:"headers"`
	URLUsername    string            `yaml:"url_username"`
	Username       string            `yaml:"username"`
	URLPassword    string            `yaml:"url_password"`
	Password       string            `yaml:"password"`
	ForceBasicAuth bool              `yaml:"force_basic_auth"`
	ValidateCerts  *bool             `yaml:"validate_certs"`
	UseProxy       *bool             `yaml:"use_proxy"`
	HTTPAgent      string            `yaml:"http_agent"`
	Backup         bool              `yaml:"backup"`
	TmpDest        string            `yaml:"tmp_dest"`
	fileCommonArgs `yaml:",inline"`
}

// getURLModule is one get_url task, validated.
type getURLModule struct {
	url           string
	dest          string
	algo          string // checksum algorithm, "" for none
	sum           string // the expected digest (lower-case hex), or
	sumURL        string // the URL of a checksum file to find it in
	force         bool
	timeout       int
	headers       map[string]string
	username      string
	password      string // never logged nor put in argv
	basicAuth     bool   // send credentials without a challenge
	validateCerts bool
	useProxy      bool
	agent         string
	backup        bool
	tmpDest       string
	attrs         fileAttrs
	tool          string // "" (curl, else python3) or "python3": tests force the fallback
}

// getURLAlgos are the checksum algorithms get_url accepts, as the probe's
// operations name them.
var getURLAlgos = map[string]bool{"md5": true, "sha1": true, "sha224": true, "sha256": true, "sha384": true, "sha512": true}

var nonWordRE = regexp.MustCompile(`\W+`)

func newGetURL(a Args) (Module, error) {
	var args getURLArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	perr := func(key, format string, v ...any) error {
		return posErr(a.File, argValueNode(a.Node, key), "get_url", format, v...)
	}
	m := &getURLModule{url: args.URL, force: args.Force, timeout: 10, headers: args.Headers,
		basicAuth: args.ForceBasicAuth, validateCerts: args.ValidateCerts == nil || *args.ValidateCerts,
		useProxy: args.UseProxy == nil || *args.UseProxy, agent: args.HTTPAgent, backup: args.Backup}
	if m.agent == "" {
		m.agent = "ansible-httpget"
	}
	var err error
	if m.username, _, err = pickAlias(a, "get_url", alias{"url_username", args.URLUsername}, alias{"username", args.Username}); err != nil {
		return nil, err
	}
	if m.password, _, err = pickAlias(a, "get_url", alias{"url_password", args.URLPassword}, alias{"password", args.Password}); err != nil {
		return nil, err
	}
	if args.URL == "" {
		return nil, perr("url", "url is required")
	}
	if !templated(args.URL) {
		if err := checkFetchURL(args.URL); err != nil {
			return nil, perr("url", "url %v", err)
		}
	}
	if args.Dest == "" {
		return nil, perr("dest", "dest is required")
	}
	if m.dest, err = checkRemotePath(a, "get_url", "dest", args.Dest); err != nil {
		return nil, err
	}
	if args.TmpDest != "" {
		if m.tmpDest, err = checkRemotePath(a, "get_url", "tmp_dest", args.TmpDest); err != nil {
			return nil, err
		}
	}
	if args.Timeout != nil {
		if *args.Timeout <= 0 {
			return nil, perr("timeout", "timeout must be a positive number of seconds")
		}
		m.timeout = *args.Timeout
	}
	for k, v := range m.headers {
		if k == "" || strings.ContainsAny(k, " :\r\n\"\\") {
			return nil, perr("headers", "headers: not a header name: %q", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, perr("headers", "headers: %s: a value cannot hold a line break", k)
		}
	}
	if strings.ContainsAny(m.username+m.password+m.agent, "\r\n") {
		return nil, perr("url_username", "url_username, url_password and http_agent cannot hold a line break")
	}
	if args.Checksum != "" && !templated(args.Checksum) {
		algo, val, ok := strings.Cut(args.Checksum, ":")
		if !ok {
			return nil, perr("checksum", "checksum must be ALGORITHM:DIGEST or ALGORITHM:URL (sha256:..., sha256:https://.../SHA256SUMS)")
		}
		m.algo = strings.ToLower(algo)
		if !getURLAlgos[m.algo] {
			return nil, perr("checksum", "checksum algorithm %q is not one of md5, sha1, sha224, sha256, sha384, sha512", algo)
		}
		if u, err := url.Parse(val); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			if err := checkFetchURL(val); err != nil {
				return nil, perr("checksum", "checksum URL %v", err)
			}
			m.sumURL = val
		} else if m.sum, err = normalizeDigest(val); err != nil {
			return nil, perr("checksum", "checksum: %v", err)
		}
	}
	if m.attrs, err = args.fileCommonArgs.attrs(a, "get_url"); err != nil {
		return nil, err
	}
	return m, nil
}

// checkFetchURL accepts an http:// or https:// URL with a host.
func checkFetchURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be http:// or https:// with a host, not %q", redactURL(s))
	}
	if strings.ContainsAny(s, "\r\n\x00") {
		return fmt.Errorf("cannot hold a line break or a NUL")
	}
	return nil
}

// normalizeDigest is Ansible's: every non-word character dropped (a
// zero-width space pasted with it), lower case, hex digits only.
func normalizeDigest(s string) (string, error) {
	d := strings.ToLower(nonWordRE.ReplaceAllString(s, ""))
	if d == "" || strings.Trim(d, "0123456789abcdef") != "" {
		return "", fmt.Errorf("the digest %q is not hexadecimal", s)
	}
	return d, nil
}

// urlFilename is the last part of the URL's path, index.html when empty.
func urlFilename(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "index.html"
	}
	p := u.Path
	if i := strings.LastIndex(p, "/"); i >= 0 {
		p = p[i+1:]
	}
	if p == "" {
		return "index.html"
	}
	return p
}

var contentDispRE = regexp.MustCompile(`^attachment; ?filename="?([^"]+)`)

// dispositionFilename is the file name a Content-Disposition header gives,
// as Ansible 2.14 reads it (attachment; filename=...), its directory
// parts dropped.
func dispositionFilename(h string) string {
	mm := contentDispRE.FindStringSubmatch(h)
	if mm == nil {
		return ""
	}
	return path.Base(mm[1])
}

// digestFor finds the digest of file in a checksum file: a lone digest,
// or GNU "DIGEST  NAME" / "DIGEST *NAME" lines, as Ansible 2.14 reads
// them.
func digestFor(file string, text string) (string, bool) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) == 1 && len(strings.Fields(lines[0])) == 1 {
		return strings.TrimSpace(lines[0]), true
	}
	for _, l := range lines {
		d, name, ok := strings.Cut(l, " ")
		if !ok {
			continue
		}
		if strings.HasPrefix(name, " ") || strings.HasPrefix(name, "*") {
			name = name[1:]
		}
		if strings.TrimLeft(name, "./") == file {
			return d, true
		}
	}
	return "", false
}

// Secrets are the password and the headers' values (a bearer token): the
// runner hides them from every output.
func (m *getURLModule) Secrets() []string {
	var out []string
	if m.password != "" {
		out = append(out, m.password)
	}
	for k, v := range m.headers {
		if strings.EqualFold(k, "Authorization") && v != "" {
			out = append(out, v)
		}
	}
	if u, err := url.Parse(m.url); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p)
		}
	}
	return out
}

// getURLState is what Check found and planned.
type getURLState struct {
	sum       string // expected digest, resolved (checksum URL fetched)
	ims       string // If-Modified-Since to send, "" for none
	destIsDir bool
	final     string // the file written: dest, or dest/NAME
}

// Check resolves the checksum, compares an existing dest and sends a HEAD
// (a read) to learn the answer and the file name.
func (m *getURLModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	c, _, err := m.plan(ctx, conn)
	return c, err
}

// plan is Check's work: the change and the state Apply goes on from.
func (m *getURLModule) plan(ctx context.Context, conn transport.Conn) (plan.Change, *getURLState, error) {
	if templated(m.url) || templated(m.dest) {
		return plan.Change{}, nil, fmt.Errorf("get_url: url or dest still holds a template")
	}
	shown := redactURL(m.url)
	st := &getURLState{sum: m.sum, final: m.dest}
	data := map[string]any{"url": shown, "dest": m.dest, "changed": false, "checksum_src": nil, "checksum_dest": nil, "elapsed": 0}
	failed := func(msg string) (plan.Change, *getURLState, error) {
		data["msg"] = msg
		return plan.Change{Action: plan.None, Failed: true, Msg: msg, Data: data, Summary: m.dest + ": " + msg}, nil, nil
	}
	if m.sumURL != "" {
		res, err := m.fetch(ctx, conn, m.sumURL, "GET", "-", "")
		if err != nil {
			return plan.Change{}, nil, err
		}
		if res.status != 200 {
			return failed(res.failMsg())
		}
		d, ok := digestFor(urlFilename(m.url), string(res.body))
		if !ok {
			return failed(fmt.Sprintf("Unable to find a checksum for file '%s' in '%s'", urlFilename(m.url), redactURL(m.sumURL)))
		}
		if st.sum, err = normalizeDigest(d); err != nil {
			return failed("The checksum format is invalid")
		}
	}
	ops := []fsOp{{"stat", m.dest}, {"sha1", m.dest}}
	if m.algo != "" {
		ops = append(ops, fsOp{m.algo, m.dest})
	}
	ans, _, err := fsProbe(ctx, conn, ops)
	if err != nil {
		return plan.Change{}, nil, fmt.Errorf("get_url: %s: %w", m.dest, err)
	}
	st.destIsDir = ans[0].status == "ok" && ans[0].entry.Type == 'd'
	force := m.force
	if ans[0].status == "ok" && !st.destIsDir {
		mismatch := false
		if !m.force && st.sum != "" {
			mismatch = ans[2].status != "ok" || ans[2].value != st.sum
		}
		if !m.force && st.sum != "" && !mismatch {
			c, err := m.attrsOnly(ctx, conn, data)
			return c, st, err
		}
		st.ims = httpDate(ans[0].entry.Mtime)
		if mismatch {
			force = true
		}
	}
	if force {
		st.ims = ""
	}
	res, err := m.fetch(ctx, conn, m.url, "HEAD", "", st.ims)
	if err != nil {
		return plan.Change{}, nil, err
	}
	data["status_code"] = res.status
	switch {
	case res.status == 304:
		data["msg"] = res.msg()
		return plan.Change{Action: plan.None, Data: data, Summary: m.dest + ": not modified on the server (304)"}, st, nil
	case res.status == 405 || res.status == 501:
		// The server refuses HEAD: the GET decides.
	case res.status != 200:
		return failed(res.failMsg())
	}
	if st.destIsDir {
		name := dispositionFilename(res.header("Content-Disposition"))
		if name == "" {
			name = urlFilename(res.finalURL)
		}
		st.final = path.Join(m.dest, name)
		data["dest"] = st.final
	}
	data["msg"] = res.msg()
	sum := fmt.Sprintf("%s: would download %s", st.final, shown)
	if res.length >= 0 {
		sum += fmt.Sprintf(" (%s)", humanBytes(res.length))
	}
	return plan.Change{Action: plan.Update, Data: data, Summary: sum,
		Files: []plan.FileChange{{Path: st.final, Diff: fmt.Sprintf("would download %s\n", shown)}}}, st, nil
}

// attrsOnly is the answer when dest is already the file asked for (its
// checksum matches): only mode, owner and group may change.
func (m *getURLModule) attrsOnly(ctx context.Context, conn transport.Conn, data map[string]any) (plan.Change, error) {
	data["msg"] = "file already exists"
	c := plan.Change{Action: plan.None, Data: data, Summary: m.dest + ": already there (checksum matches)"}
	if m.attrs.empty() {
		return c, nil
	}
	ops := append([]fsOp{{"stat", m.dest}}, m.attrs.ops()...)
	ans, _, err := fsProbe(ctx, conn, ops)
	if err != nil {
		return plan.Change{}, fmt.Errorf("get_url: %s: %w", m.dest, err)
	}
	ids, _, err := m.attrs.resolve(ans[1:])
	if err != nil {
		return plan.Change{}, fmt.Errorf("get_url: %s: %w", m.dest, err)
	}
	e := ans[0].entry
	e.Path = m.dest
	_, steps, changes := m.attrs.newFilePlan(m.dest, true, e, ids)
	if len(steps) == 0 {
		return c, nil
	}
	data["msg"] = "file already exists but file attributes changed"
	c.Action, c.Private = plan.Update, steps
	c.Summary = fmt.Sprintf("%s: would change %s", m.dest, pluralize(int64(len(changes)), "attribute"))
	for _, ch := range changes {
		c.Values = append(c.Values, plan.ValueChange{Key: ch.attr, Before: ch.before, After: ch.after, Status: sysctlStatusChange})
	}
	return c, nil
}
