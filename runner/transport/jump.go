package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// Jump is an SSH connection to a jump host (bastion) used only to open TCP
// streams to other hosts, as OpenSSH's ProxyJump does. Set its DialContext
// as SSHConfig.Dial of a target: the target's SSH handshake then runs over
// the stream, end to end, and the target's key is checked under the
// target's own name. A Jump may also carry the streams of a further Jump
// (a chain). One Jump serves any number of targets at once; each stream is
// one direct-tcpip channel of the jump host's connection.
type Jump struct {
	c *sshConn
}

// DialJump connects and authenticates to a jump host, exactly as DialSSH
// does (its host key checked under cfg.Host, keepalives included).
func DialJump(ctx context.Context, cfg SSHConfig) (*Jump, error) {
	conn, err := DialSSH(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c, ok := conn.(*sshConn)
	if !ok { // cannot happen: DialSSH returns *sshConn
		conn.Close()
		return nil, errors.New("transport: jump: unexpected connection type")
	}
	return &Jump{c: c}, nil
}

// Host is the jump host's host:port.
func (j *Jump) Host() string { return j.c.host }

// DialContext opens a TCP stream from the jump host to addr ("host:port",
// resolved by the jump host). It fails when the jump connection was lost.
func (j *Jump) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	select {
	case <-j.c.done:
		return nil, fmt.Errorf("transport: jump host %s: connection closed", j.c.host)
	default:
	}
	j.c.mu.Lock()
	lost := j.c.lost
	j.c.mu.Unlock()
	if lost != nil {
		return nil, fmt.Errorf("transport: jump host %s: %w", j.c.host, lost)
	}
	nc, err := j.c.client.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("transport: via jump host %s: %w", j.c.host, err)
	}
	return nc, nil
}

// Close closes the jump connection, and with it every stream through it.
func (j *Jump) Close() error { return j.c.Close() }
