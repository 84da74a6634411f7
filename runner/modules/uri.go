package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// uriSpec sends an HTTP(S) request from the host's side: Ansible's uri. The
// TCP stream is opened by the host (an SSH direct-tcpip channel), so
// 127.0.0.1 is the host's loopback and the host needs no HTTP client. A GET
// or HEAD is a read: it is sent in check mode too. Any other method is
// reported as "would send" in check mode and sent by Apply. A request's
// effect cannot be re-checked, so uri is not Verifiable.
var uriSpec = Spec{New: newURI, RunsInCheckMode: true}

// Dialer is what a connection offers when it can open TCP streams from the
// host (transport's SSH and local connections). A wrapping connection (the
// runner's become wrapper) exposes the connection it wraps with
// `Unwrap() transport.Conn`, and dialerOf looks through it.
type Dialer interface {
	// DialContext opens a stream to addr as seen from the host.
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// dialerOf finds conn's Dialer, unwrapping wrappers.
func dialerOf(conn transport.Conn) (Dialer, bool) {
	for i := 0; conn != nil && i < 10; i++ {
		if d, ok := conn.(Dialer); ok {
			return d, true
		}
		u, ok := conn.(interface{ Unwrap() transport.Conn })
		if !ok {
			break
		}
		conn = u.Unwrap()
	}
	return nil, false
}

// uriArgs are the YAML arguments of uri.
type uriArgs struct {
	URL             string            `yaml:"url,required"`
	Method          string            `yaml:"method"`
	Body            *yaml.Node        `yaml:"body"`
	BodyFormat      string            `yaml:"body_format"`
	Headers         map[string]string `yaml:"headers"`
	StatusCode      *yaml.Node        `yaml:"status_code"`
	ReturnContent   bool              `yaml:"return_content"`
	Timeout         time.Duration     `yaml:"timeout"`
	ValidateCerts   *bool             `yaml:"validate_certs"`
	FollowRedirects string            `yaml:"follow_redirects"`
	URLUsername     string            `yaml:"url_username"`
	User            string            `yaml:"user"`
	URLPassword     string            `yaml:"url_password"`
	Password        string            `yaml:"password"`
	ForceBasicAuth  bool              `yaml:"force_basic_auth"`
	CAPath          string            `yaml:"ca_path"`
	ClientCert      string            `yaml:"client_cert"`
	ClientKey       string            `yaml:"client_key"`
	UnixSocket      string            `yaml:"unix_socket"`
}

// uriModule is one uri task, validated.
type uriModule struct {
	url             *url.URL
	method          string
	body            []byte
	headers         map[string]string
	statusCodes     []int
	returnContent   bool
	timeout         time.Duration
	validateCerts   bool
	followRedirects string // safe, all or none
	username        string
	password        string // never logged
	forceBasicAuth  bool
	tls             uriTLSPaths // files on the host: CA bundle, client certificate and key
	unixSocket      string      // a socket path on the host: every request goes through it
}

var uriMethodRE = regexp.MustCompile(`^[A-Z]+$`)

// uriRedirectModes maps Ansible's follow_redirects choices to tend's three.
var uriRedirectModes = map[string]string{"safe": "safe", "urllib2": "safe", "all": "all", "yes": "all", "none": "none", "no": "none"}

func newURI(a Args) (Module, error) {
	args := uriArgs{Method: "GET", BodyFormat: "raw", FollowRedirects: "safe", Timeout: 30 * time.Second}
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	m := &uriModule{method: strings.ToUpper(args.Method), headers: args.Headers, returnContent: args.ReturnContent,
		timeout: args.Timeout, validateCerts: args.ValidateCerts == nil || *args.ValidateCerts, forceBasicAuth: args.ForceBasicAuth}
	perr := func(key, format string, v ...any) error {
		return posErr(a.File, argValueNode(a.Node, key), "uri", format, v...)
	}
	var err error
	if m.username, _, err = pickAlias(a, "uri", alias{"url_username", args.URLUsername}, alias{"user", args.User}); err != nil {
		return nil, err
	}
	if m.password, _, err = pickAlias(a, "uri", alias{"url_password", args.URLPassword}, alias{"password", args.Password}); err != nil {
		return nil, err
	}
	if !templated(args.Method) && !uriMethodRE.MatchString(m.method) {
		return nil, perr("method", "method must be one word, like GET or POST, not %q", args.Method)
	}
	mode, ok := uriRedirectModes[args.FollowRedirects]
	if !ok && !templated(args.FollowRedirects) {
		return nil, perr("follow_redirects", "follow_redirects must be safe, all or none, not %q", args.FollowRedirects)
	}
	m.followRedirects = mode
	if args.Timeout <= 0 && !templatedArg(a.Node, "timeout") {
		return nil, perr("timeout", "timeout must be positive")
	}
	if m.statusCodes, err = uriStatusCodes(a, args.StatusCode); err != nil {
		return nil, err
	}
	if !templated(args.URL) {
		u, err := url.Parse(args.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, perr("url", "url must be http:// or https:// with a host, not %q", redactURL(args.URL))
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return nil, perr("url", "url port must be between 1 and 65535, not %s", p)
			}
		}
		m.url = u
	}
	for k := range m.headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			return nil, perr("headers", "headers: not a header name: %q", k)
		}
		if strings.ContainsAny(m.headers[k], "\r\n") {
			return nil, perr("headers", "headers: %s: a value cannot hold a line break", k)
		}
	}
	if m.body, err = uriBody(a, args.Body, args.BodyFormat, m); err != nil {
		return nil, err
	}
	m.tls = uriTLSPaths{caPath: args.CAPath, clientCert: args.ClientCert, clientKey: args.ClientKey}
	m.unixSocket = args.UnixSocket
	for _, p := range []struct{ key, val string }{{"ca_path", args.CAPath}, {"client_cert", args.ClientCert},
		{"client_key", args.ClientKey}, {"unix_socket", args.UnixSocket}} {
		if p.val != "" && !templated(p.val) && !path.IsAbs(p.val) {
			return nil, perr(p.key, "%s must be an absolute path on the host, not %q", p.key, p.val)
		}
	}
	return m, nil
}

// uriStatusCodes reads status_code: one code or a list of them (default
// 200); a string with commas is a list, as Ansible's list arguments split
// one (status_code=200,409 in a free-form line).
func uriStatusCodes(a Args, n *yaml.Node) ([]int, error) {
	if n == nil || yamlnode.IsNull(n) {
		return []int{200}, nil
	}
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []int
	for _, it := range items {
		if it.Kind == yaml.ScalarNode && templated(it.Value) {
			continue
		}
		values := []string{it.Value}
		if it.Kind == yaml.ScalarNode && n.Kind != yaml.SequenceNode && strings.Contains(it.Value, ",") {
			values = strings.Split(it.Value, ",")
		}
		for _, v := range values {
			c, err := strconv.Atoi(strings.TrimSpace(v))
			if it.Kind != yaml.ScalarNode || err != nil || c < 100 || c > 599 {
				return nil, posErr(a.File, it, "uri", "status_code must be an HTTP status between 100 and 599 (or a list of them), not %s", yamlnode.Describe(it))
			}
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		out = []int{200} // only templates: judged once rendered
	}
	return out, nil
}

// uriBody encodes body by body_format, setting Content-Type when the
// headers do not.
func uriBody(a Args, n *yaml.Node, format string, m *uriModule) ([]byte, error) {
	setType := func(ct string) {
		for k := range m.headers {
			if strings.EqualFold(k, "Content-Type") {
				return
			}
		}
		if m.headers == nil {
			m.headers = map[string]string{}
		}
		m.headers["Content-Type"] = ct
	}
	isText := n != nil && n.Kind == yaml.ScalarNode
	switch format {
	case "raw":
		if n == nil || yamlnode.IsNull(n) {
			return nil, nil
		}
		if !isText {
			return nil, posErr(a.File, n, "uri", "body: with body_format raw the body must be text; use body_format: json for a mapping or a list")
		}
		return []byte(n.Value), nil
	case "json":
		setType("application/json")
		if n == nil || yamlnode.IsNull(n) {
			return nil, nil
		}
		if isText && n.Tag == "!!str" {
			return []byte(n.Value), nil // already JSON text, as in Ansible
		}
		v, err := yamlnode.DecodeValue(a.File, n)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, posErr(a.File, n, "uri", "body: %v", err)
		}
		return b, nil
	case "form-urlencoded":
		setType("application/x-www-form-urlencoded")
		if n == nil || yamlnode.IsNull(n) {
			return nil, nil
		}
		if isText {
			return []byte(n.Value), nil
		}
		if n.Kind != yaml.MappingNode {
			return nil, posErr(a.File, n, "uri", "body: with body_format form-urlencoded the body must be a mapping or text")
		}
		var parts []string // file order, as Ansible keeps it
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return nil, posErr(a.File, v, "uri", "body: %s: a form value must be a scalar", k.Value)
			}
			parts = append(parts, url.QueryEscape(k.Value)+"="+url.QueryEscape(v.Value))
		}
		return []byte(strings.Join(parts, "&")), nil
	}
	if templated(format) {
		return nil, nil
	}
	return nil, posErr(a.File, argValueNode(a.Node, "body_format"), "uri", "body_format must be raw, json or form-urlencoded, not %q", format)
}

// safe reports whether the method only reads (sent in check mode too).
func (m *uriModule) safe() bool { return m.method == "GET" || m.method == "HEAD" }

// Check sends a GET or HEAD for real: it reads. Any other method is a
// "would send" plan, sent by Apply.
func (m *uriModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	if m.url == nil {
		return plan.Change{}, fmt.Errorf("uri: url is not set")
	}
	if m.safe() {
		c, err := m.send(ctx, conn)
		if err == nil {
			c.Summary += " (a read: sent in check mode too)"
		}
		return c, err
	}
	if _, ok := dialerOf(conn); !ok {
		return plan.Change{}, errNoDialer
	}
	sum := fmt.Sprintf("would send %s %s", m.method, redactURL(m.url.String()))
	if len(m.body) > 0 {
		sum += fmt.Sprintf(" with a %d-byte body", len(m.body))
	}
	return plan.Change{Action: plan.Run, Summary: sum}, nil
}

// Apply sends the request. As in Ansible, a request does not mark the task
// changed (changed_when can).
func (m *uriModule) Apply(ctx context.Context, conn transport.Conn, _ plan.Change) (plan.Change, error) {
	return m.send(ctx, conn)
}

// Secrets are the password given as url_password or in the URL: the
// runner hides them wherever they would appear (a server echoing them).
func (m *uriModule) Secrets() []string {
	var out []string
	if m.password != "" {
		out = append(out, m.password)
	}
	if m.url != nil && m.url.User != nil {
		if p, ok := m.url.User.Password(); ok && p != "" {
			out = append(out, p)
		}
	}
	return out
}

// redactURL hides a password in a URL's user info.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
