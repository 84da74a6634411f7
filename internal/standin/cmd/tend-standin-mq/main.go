// Command tend-standin-mq is a stand-in ActiveMQ listener for integration
// tests: it greets like a broker and never closes a connection, so clients
// that disconnect leave CLOSE_WAIT sockets behind. See package standin.
package main

import (
	"os"

	"tend/internal/standin"
)

func main() { os.Exit(standin.Main(os.Args[1:], os.Stderr)) }
