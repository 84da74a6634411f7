package modules

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"tend/runner/plan"
	"tend/runner/template"
	"tend/runner/transport"
)

// uriMaxRedirects bounds a redirect chain, as Python's urllib does (10).
const uriMaxRedirects = 10

// uriMaxContent caps the response body kept (content, json).
const uriMaxContent = transport.DefaultMaxOutput

// errNoDialer is returned for a connection that cannot open TCP streams
// from the host.
var errNoDialer = errors.New("uri: this host's connection cannot open TCP streams from the host (only SSH and local connections can)")

// errTooManyRedirects ends a redirect chain longer than uriMaxRedirects.
var errTooManyRedirects = fmt.Errorf("stopped after %d redirects", uriMaxRedirects)

// client builds an HTTP client whose every stream the host opens (a TCP
// stream, or unix_socket's socket), with tc's TLS settings.
func (m *uriModule) client(dial func(context.Context, string, string) (net.Conn, error), tc *tls.Config) *http.Client {
	tr := &http.Transport{
		Proxy:               nil, // the controller's proxy settings mean nothing on the host
		DialContext:         dial,
		TLSClientConfig:     tc,
		TLSHandshakeTimeout: m.timeout,
		DisableKeepAlives:   true,
		DisableCompression:  false,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   m.timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			switch {
			case m.followRedirects == "none":
				return http.ErrUseLastResponse
			case m.followRedirects == "safe" && !m.safe():
				return http.ErrUseLastResponse
			case len(via) > uriMaxRedirects: // via holds every request so far: 10 redirects followed
				return errTooManyRedirects
			}
			return nil
		},
	}
}

// newRequest builds the request, with basic auth when asked.
func (m *uriModule) newRequest(ctx context.Context, auth bool) (*http.Request, error) {
	var body io.Reader
	if m.body != nil {
		body = bytes.NewReader(m.body)
	}
	req, err := http.NewRequestWithContext(ctx, m.method, m.url.String(), body)
	if err != nil {
		return nil, fmt.Errorf("uri: %w", err)
	}
	for k, v := range m.headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "tend-uri")
	}
	user, pass := m.username, m.password
	if m.url.User != nil && user == "" {
		user = m.url.User.Username()
		pass, _ = m.url.User.Password()
	}
	if auth && user != "" {
		req.SetBasicAuth(user, pass)
	}
	return req, nil
}

// send makes the request from the host and returns its result. A refused
// status, a connection refused or a timeout is a failed result; a lost
// connection to the host is an error (the host is unreachable).
func (m *uriModule) send(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	d, ok := dialerOf(conn)
	if !ok {
		return plan.Change{}, errNoDialer
	}
	shown := redactURL(m.url.String())
	start := time.Now()
	tc, err := m.tlsConfig(ctx, conn)
	if err != nil {
		var f *uriFailed
		if !errors.As(err, &f) {
			return plan.Change{}, err
		}
		data := map[string]any{"url": shown, "redirected": false, "elapsed": 0, "status": -1, "msg": f.msg}
		return plan.Change{Action: plan.Read, Failed: true, Msg: f.msg, Data: data,
			Summary: fmt.Sprintf("%s %s failed: %s", m.method, shown, f.msg)}, nil
	}
	cl := m.client(m.dialFunc(d, conn), tc)
	defer cl.CloseIdleConnections()
	hasUser := m.username != "" || m.url.User != nil
	req, err := m.newRequest(ctx, m.forceBasicAuth || m.url.User != nil)
	if err != nil {
		return plan.Change{}, err
	}
	resp, err := cl.Do(req)
	if err == nil && resp.StatusCode == http.StatusUnauthorized && hasUser && !m.forceBasicAuth &&
		strings.HasPrefix(strings.ToLower(resp.Header.Get("WWW-Authenticate")), "basic") {
		// As Ansible's urllib handler: credentials go out once challenged.
		resp.Body.Close()
		if req, err = m.newRequest(ctx, true); err != nil {
			return plan.Change{}, err
		}
		resp, err = cl.Do(req)
	}
	elapsed := time.Since(start)
	data := map[string]any{"url": shown, "redirected": false, "elapsed": int(elapsed.Seconds()), "status": -1}
	if err != nil {
		var u *transport.UnreachableError
		if errors.As(err, &u) {
			return plan.Change{}, u
		}
		if ctx.Err() != nil {
			return plan.Change{}, fmt.Errorf("uri: %s %s: %w", m.method, shown, ctx.Err())
		}
		msg := "Request failed: " + uriErrText(err, m.timeout)
		data["msg"] = msg
		return plan.Change{Action: plan.Read, Failed: true, Msg: msg, Data: data,
			Summary: fmt.Sprintf("%s %s failed: %s", m.method, shown, uriErrText(err, m.timeout))}, nil
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, uriMaxContent+1))
	if err != nil {
		msg := "Request failed: reading the body: " + uriErrText(err, m.timeout)
		data["msg"] = msg
		return plan.Change{Action: plan.Read, Failed: true, Msg: msg, Data: data}, nil
	}
	var warnings []string
	truncated := len(raw) > uriMaxContent
	if truncated {
		raw = raw[:uriMaxContent]
		warnings = append(warnings, fmt.Sprintf("the response body was cut at %d bytes", uriMaxContent))
	}
	final := redactURL(resp.Request.URL.String())
	for k, vs := range resp.Header {
		data[strings.ReplaceAll(strings.ToLower(k), "-", "_")] = strings.Join(vs, ", ")
	}
	data["url"], data["status"], data["redirected"] = final, resp.StatusCode, final != shown
	data["elapsed"] = int(elapsed.Seconds())
	size := "unknown"
	if resp.ContentLength >= 0 {
		size = fmt.Sprint(resp.ContentLength)
	}
	msg := fmt.Sprintf("OK (%s bytes)", size)
	if resp.StatusCode >= 400 {
		msg = fmt.Sprintf("HTTP Error %d: %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if isJSONType(resp.Header.Get("Content-Type")) && !truncated {
		if js, ok := decodeJSON(raw); ok {
			data["json"] = js
		}
	}
	if m.returnContent {
		data["content"] = string(raw)
	}
	c := plan.Change{Action: plan.Read, Data: data, Warnings: warnings,
		Summary: fmt.Sprintf("%s %s: %d %s", m.method, shown, resp.StatusCode, http.StatusText(resp.StatusCode))}
	if final != shown {
		c.Summary += " (redirected to " + final + ")"
	}
	if !slices.Contains(m.statusCodes, resp.StatusCode) {
		c.Failed = true
		msg = fmt.Sprintf("Status code was %d and not %v: %s", resp.StatusCode, m.statusCodes, msg)
	}
	c.Msg, data["msg"] = msg, msg
	return c, nil
}

// isJSONType reports a JSON (or JavaScript) Content-Type, as Ansible
// decides whether to parse the body.
func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	_, sub, _ := strings.Cut(mt, "/")
	return strings.Contains(sub, "json") || strings.Contains(sub, "javascript")
}

// uriErrText says why a request failed, without Go's "Get "URL": " prefix.
func uriErrText(err error, timeout time.Duration) string {
	var ue interface{ Timeout() bool }
	if errors.As(err, &ue) && ue.Timeout() {
		return fmt.Sprintf("timed out after %s", timeout)
	}
	if errors.Is(err, errTooManyRedirects) {
		return errTooManyRedirects.Error()
	}
	var uerr interface{ Unwrap() error }
	if errors.As(err, &uerr) {
		if inner := uerr.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return err.Error()
}

// decodeJSON decodes a JSON body as Python's json does: integral numbers
// become ints (a count prints 5 in a template, not 5.0), others float64.
func decodeJSON(raw []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return nil, false
	}
	return template.JSONNumbers(v), true
}
