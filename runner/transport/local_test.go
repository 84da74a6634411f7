package transport

import (
	"context"
	"testing"
)

func TestLocalContract(t *testing.T) {
	runConnContract(t, func(t *testing.T) Conn { return Local() })
}

func TestLocalCloseIdempotent(t *testing.T) {
	c := Local()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(context.Background(), Command{Argv: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
}
