package oracle

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"tend/internal/lab"
)

// serveScript is the case servers' program (python3, as the hosts have it
// for Ansible): http.server's static files of argv[2] on 127.0.0.1:PORT or
// on the unix socket PATH (argv[1]; its directory made), over HTTPS that
// requires a client certificate when argv[3] names a tls-pki directory.
const serveScript = `import functools, http.server, os, socket, socketserver, ssl, sys
where, root, pki = sys.argv[1], sys.argv[2], sys.argv[3]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
if where.startswith('/'):
    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_UNIX
        def server_bind(self):
            os.makedirs(os.path.dirname(where), exist_ok=True)
            if os.path.exists(where):
                os.unlink(where)
            socketserver.TCPServer.server_bind(self)
            self.server_name, self.server_port = 'localhost', 0
        def get_request(self):
            conn, _ = self.socket.accept()
            return conn, ('local', 0)
    srv = Server(where, handler)
else:
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', int(where)), handler)
if pki:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki + '/server.crt', pki + '/server.key')
    ctx.load_verify_locations(pki + '/ca.crt')
    ctx.verify_mode = ssl.CERT_REQUIRED
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
`

// serve starts srv on h and waits until it listens.
func serve(t TB, h *lab.Host, srv Server) (*lab.Proc, error) {
	where := strconv.Itoa(srv.Port)
	wait := fmt.Sprintf("until ss -Hltn 'sport = :%d' | grep -q .; do sleep 0.05; done", srv.Port)
	if srv.Socket != "" {
		where = srv.Socket
		wait = `until [ -S "$1" ]; do sleep 0.05; done`
	}
	p := h.Start(t, "python3", "-c", serveScript, where, srv.Dir, srv.TLS)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, _, err := h.Exec(ctx, "/bin/sh", "-c", wait, "sh", where); err != nil {
		p.Stop()
		return nil, fmt.Errorf("oracle: serve %s on %s:%s: %w: %s", srv.Dir, h.Name, where, err, p.Output())
	}
	return p, nil
}
