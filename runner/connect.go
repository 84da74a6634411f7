package runner

import (
	"context"

	"tend/inventory"
	"tend/runner/transport"
)

// Connector opens the connection to a host. The engine asks it once per
// host per run; cmd builds it (package runner/connect: SSH, local, or one
// chosen per host), tests give an in-memory host. Close is called once,
// after every host's Conn is closed (jump host connections shared by
// several targets end last).
type Connector interface {
	Connect(ctx context.Context, h *inventory.Host) (transport.Conn, error)
	Close() error
}
