package connect

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"tend/internal/suggest"
	"tend/inventory"
	"tend/runner/transport"
)

// Connector opens a host's connection: what the engine's runner.Connector
// asks for, declared again here (where ByHost uses it) so that this package
// never imports the engine.
type Connector interface {
	// Connect opens h's connection.
	Connect(ctx context.Context, h *inventory.Host) (transport.Conn, error)
	// Close ends what the connector shares between hosts, after every
	// host's connection is closed.
	Close() error
}

// Local is the connector of hosts whose commands run on this machine
// (ansible_connection=local).
type Local struct{}

// Connect returns a connection that runs commands here, whatever h says.
func (Local) Connect(context.Context, *inventory.Host) (transport.Conn, error) {
	return transport.Local(), nil
}

// Close does nothing: local connections share nothing.
func (Local) Close() error { return nil }

// DefaultType is the connection type of a host that sets no
// ansible_connection, as in Ansible.
const DefaultType = "ssh"

// Types lists the connection types tend knows (ansible_connection and -c
// values), sorted. A new one is a Connector and a name here.
func Types() []string { return []string{"local", "ssh"} }

// ByHost chooses each host's connector by its connection type: Force when
// set (-c), else the host's ansible_connection, else DefaultType.
type ByHost struct {
	// Force is the type of every host when set (-c), whatever its inventory says.
	Force string
	// By maps a type of Types to its connector. A type may be missing when
	// no host uses it (no SSH connector, and no ssh_config read, under -c
	// local); a host of that type then fails to connect.
	By map[string]Connector
}

// TypeOf returns the connection type h runs with under b.
func (b *ByHost) TypeOf(h *inventory.Host) string {
	if b.Force != "" {
		return b.Force
	}
	if s := h.Connection(); s != "" {
		return s
	}
	return DefaultType
}

// CheckType refuses a connection type tend does not know (-c, or a host's
// ansible_connection), naming the known ones or the closest.
func CheckType(t string) error {
	for _, k := range Types() {
		if t == k {
			return nil
		}
	}
	hint := fmt.Sprintf("want %s", strings.Join(Types(), " or "))
	if s := suggest.Closest(t, Types()); s != "" {
		hint = fmt.Sprintf("did you mean %q?", s)
	}
	return fmt.Errorf("connection type %q is not supported (%s)", t, hint)
}

// Check refuses, before any host is contacted, hosts whose connection type
// tend does not know: every such host is named, with its ansible_connection.
func (b *ByHost) Check(hosts []*inventory.Host) error {
	if b.Force != "" {
		if err := CheckType(b.Force); err != nil {
			return fmt.Errorf("connect: --connection: %w", err)
		}
		return nil
	}
	var errs []error
	for _, h := range hosts {
		if err := CheckType(b.TypeOf(h)); err != nil {
			errs = append(errs, fmt.Errorf("connect: host %s: ansible_connection: %w", h.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Connect opens h's connection with the connector of its type.
func (b *ByHost) Connect(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
	t := b.TypeOf(h)
	if err := CheckType(t); err != nil {
		return nil, fmt.Errorf("connect: host %s: %w", h.Name, err)
	}
	c, ok := b.By[t]
	if !ok {
		return nil, fmt.Errorf("connect: host %s: no %s connector in this run", h.Name, t)
	}
	return c.Connect(ctx, h)
}

// Close closes every connector once, in type order.
func (b *ByHost) Close() error {
	names := make([]string, 0, len(b.By))
	for n := range b.By {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		if err := b.By[n].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
