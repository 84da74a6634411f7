package modules

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tend/runner/transport"
)

// getURLFetchScript fetches a URL on the host with what the host has: curl,
// else python3. $1 is the method (GET or HEAD); $2 where the body goes: a
// directory (a private temporary file made in it, kept only when the
// status is 200), "-" (printed after the headers, then removed) or ""
// (HEAD: nowhere); $3 curl's configuration and $4 python3's (JSON): they
// hold the URL, the headers and the credentials, and reach the tools on
// their stdin, never in an argv; $5 forces a tool ("" for the first found).
// It prints the temporary file's path ("-" for none), a line "STATUS
// FINAL-URL", the last response's headers, a NUL, then the body when $2 is
// "-". A request that got no answer exits 70 with the tool's message.
const getURLFetchScript = `LC_ALL=C; export LC_ALL
method=$1 dir=$2 ccfg=$3 pcfg=$4 tool=$5 keep=0 t=/dev/null ok=0
umask 077
case $dir in
'') ;;
-) t=$(mktemp "${TMPDIR:-/tmp}/.tend-get_url.XXXXXX") || exit 88 ;;
*)
	[ -d "$dir" ] || { printf 'Destination %s does not exist\n' "$dir" >&2; exit 81; }
	t=$(mktemp "$dir/.tend-get_url.XXXXXX") || exit 88
	keep=1 ;;
esac
h=$(mktemp "${TMPDIR:-/tmp}/.tend-get_url-h.XXXXXX") || { [ "$t" = /dev/null ] || rm -f -- "$t"; exit 88; }
cleanup() {
	rm -f -- "$h"
	if [ "$t" != /dev/null ] && { [ "$ok" = 0 ] || [ "$keep" = 0 ]; }; then rm -f -- "$t"; fi
}
trap cleanup EXIT
trap 'exit 99' HUP INT TERM PIPE
if [ -z "$tool" ]; then
	if command -v curl >/dev/null 2>&1; then tool=curl
	elif command -v python3 >/dev/null 2>&1; then tool=python3
	else echo "neither curl nor python3 is installed on the host" >&2; exit 72; fi
fi
case $tool in
curl) w=$(printf '%s' "$ccfg" | curl -K - -o "$t" -D "$h" -w '%{http_code} %{url_effective}') || exit 70 ;;
*) w=$(printf '%s' "$pcfg" | python3 -c "$GETURL_PY" "$t" "$h") || exit 70 ;;
esac
case $w in 200\ *) ok=1 ;; esac
if [ "$ok" = 1 ] && [ "$keep" = 1 ]; then printf '%s\n' "$t"; else printf -- '-\n'; fi
printf '%s\n' "$w"
cat -- "$h"
printf '\0'
if [ "$dir" = - ]; then cat -- "$t"; fi`

// getURLPython is the python3 fallback: it reads its JSON configuration
// on stdin, writes the body to argv[1] and the headers to argv[2], and
// prints "STATUS FINAL-URL".
const getURLPython = `import sys, json, ssl, base64, urllib.request as U, urllib.error as E
c = json.load(sys.stdin)
x = ssl.create_default_context()
if not c["verify"]:
    x.check_hostname = False
    x.verify_mode = ssl.CERT_NONE
h = dict(c["headers"])
if c["user"]:
    h["Authorization"] = "Basic " + base64.b64encode((c["user"] + ":" + c["password"]).encode()).decode()
hs = [U.HTTPSHandler(context=x)]
if not c["proxy"]:
    hs.append(U.ProxyHandler({}))
try:
    r = U.build_opener(*hs).open(U.Request(c["url"], headers=h, method=c["method"]), timeout=c["timeout"])
except E.HTTPError as e:
    r = e
except Exception as e:
    sys.stderr.write("%s\n" % getattr(e, "reason", e))
    sys.exit(7)
with open(sys.argv[1], "wb") as f:
    while True:
        b = r.read(65536)
        if not b:
            break
        f.write(b)
with open(sys.argv[2], "w") as f:
    f.write("HTTP/1.1 %d\r\n" % r.getcode())
    for k, v in r.headers.items():
        f.write("%s: %s\r\n" % (k, v))
sys.stdout.write("%d %s" % (r.getcode(), r.geturl()))
`

// fetchResult is one request's answer.
type fetchResult struct {
	status   int    // -1: no answer
	errText  string // why there was no answer
	finalURL string
	headers  map[string]string // lower-case names, the last response's
	length   int64             // Content-Length, -1 unknown
	tmp      string            // the kept temporary file, "" for none
	body     []byte            // dir "-"
}

// header returns a response header's value.
func (r fetchResult) header(name string) string { return r.headers[strings.ToLower(name)] }

// msg is Ansible's info msg: "OK (N bytes)" or "HTTP Error N: TEXT".
func (r fetchResult) msg() string {
	switch {
	case r.status < 0:
		return "Request failed: " + r.errText
	case r.status >= 300:
		return fmt.Sprintf("HTTP Error %d: %s", r.status, http.StatusText(r.status))
	case r.length >= 0:
		return fmt.Sprintf("OK (%d bytes)", r.length)
	}
	return "OK (unknown bytes)"
}

// failMsg says why a request failed.
func (r fetchResult) failMsg() string {
	if r.status < 0 {
		return r.msg()
	}
	return fmt.Sprintf("Request failed: %s", r.msg())
}

// curlQuote quotes a value for curl's configuration file.
func curlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// configs builds curl's and python3's configurations for one request.
func (m *getURLModule) configs(rawURL, method, ims string) (string, string, error) {
	hdrs := map[string]string{"User-Agent": m.agent}
	for k, v := range m.headers {
		hdrs[k] = v
	}
	if ims != "" {
		hdrs["If-Modified-Since"] = ims
	} else if m.force {
		hdrs["Cache-Control"] = "no-cache"
	}
	var cc strings.Builder
	fmt.Fprintf(&cc, "url = %s\nsilent\nshow-error\nlocation\nmax-redirs = 10\n", curlQuote(rawURL))
	fmt.Fprintf(&cc, "connect-timeout = %d\nspeed-time = %d\nspeed-limit = 1\n", m.timeout, m.timeout)
	if method == "HEAD" {
		cc.WriteString("head\n")
	}
	if !m.validateCerts {
		cc.WriteString("insecure\n")
	}
	if !m.useProxy {
		cc.WriteString("noproxy = \"*\"\n")
	}
	if m.username != "" {
		fmt.Fprintf(&cc, "user = %s\n", curlQuote(m.username+":"+m.password))
		if !m.basicAuth {
			cc.WriteString("anyauth\n")
		}
	}
	for k, v := range hdrs {
		fmt.Fprintf(&cc, "header = %s\n", curlQuote(k+": "+v))
	}
	pc, err := json.Marshal(map[string]any{"url": rawURL, "method": method, "headers": hdrs, "user": m.username,
		"password": m.password, "verify": m.validateCerts, "proxy": m.useProxy, "timeout": m.timeout})
	return cc.String(), string(pc), err
}

// fetch runs one request on the host (see getURLFetchScript).
func (m *getURLModule) fetch(ctx context.Context, conn transport.Conn, rawURL, method, dir, ims string) (fetchResult, error) {
	cc, pc, err := m.configs(rawURL, method, ims)
	if err != nil {
		return fetchResult{}, fmt.Errorf("get_url: %w", err)
	}
	script := "GETURL_PY='" + strings.ReplaceAll(getURLPython, "'", `'\''`) + "'\n" + getURLFetchScript
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", script, "sh", method, dir, cc, pc, m.tool},
		MaxOutput: transport.MaxReadFile})
	if err != nil {
		return fetchResult{}, fmt.Errorf("get_url: %s %s: %w", method, redactURL(rawURL), err)
	}
	out := fetchResult{status: -1, length: -1, headers: map[string]string{}}
	switch res.ExitCode {
	case 0:
	case 70:
		out.errText = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(res.Stderr)), "curl: "))
		return out, nil
	case 81:
		out.errText = strings.TrimSpace(string(res.Stderr))
		return out, nil
	default:
		return out, fmt.Errorf("get_url: %s %s on the host failed (exit %d): %s", method, redactURL(rawURL), res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	head, body, _ := bytes.Cut(res.Stdout, []byte{0})
	out.body = body
	lines := strings.Split(strings.ReplaceAll(string(head), "\r", ""), "\n")
	if len(lines) < 2 {
		return out, fmt.Errorf("get_url: unexpected answer from the host: %q", head)
	}
	if lines[0] != "-" {
		out.tmp = lines[0]
	}
	code, final, _ := strings.Cut(lines[1], " ")
	if out.status, err = strconv.Atoi(code); err != nil || out.status == 0 {
		out.status, out.errText = -1, "no answer"
		return out, nil
	}
	out.finalURL = final
	for _, l := range lines[2:] {
		if strings.HasPrefix(l, "HTTP/") {
			out.headers = map[string]string{} // a redirect's: only the last response counts
			continue
		}
		if k, v, ok := strings.Cut(l, ":"); ok {
			out.headers[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	if n, err := strconv.ParseInt(out.header("Content-Length"), 10, 64); err == nil {
		out.length = n
	}
	return out, nil
}

// httpDate renders a file's mtime (seconds since the epoch) as an HTTP date.
func httpDate(mtime float64) string {
	return time.Unix(int64(mtime), 0).UTC().Format(http.TimeFormat)
}
