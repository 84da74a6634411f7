// Package standin is a stand-in for an ActiveMQ broker in tests: it accepts
// TCP connections, greets each with a fake OpenWire WireFormatInfo frame
// (which carries the magic "ActiveMQ") and never closes them, so every
// connection its clients close stays in CLOSE_WAIT on the server side, as in
// the incident tend's first playbook handles. Its client mode makes such
// connections. The real broker closes properly; only the leak needs this.
package standin

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Greeting is the frame sent to each new connection: size, type 1
// (WireFormatInfo), magic "ActiveMQ", version 12, no properties.
var Greeting = func() []byte {
	body := append([]byte{1}, "ActiveMQ"...)
	body = binary.BigEndian.AppendUint32(body, 12)
	body = append(body, 0)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}()

// Main runs the stand-in with command-line args (without the program name)
// and returns the process exit code.
//
//	tend-standin-mq [-listen 127.0.0.1:61616] [-greeting=false] [-keepalive] [-nofile N] [-pidfile F] [-lifetime 10m]
//	tend-standin-mq -load N [-listen ADDR] [-greeting=false]   connect N times, read the greeting, close
func Main(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("tend-standin-mq", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("listen", "127.0.0.1:61616", "address to listen on (or to connect to with -load)")
	greet := fs.Bool("greeting", true, "greet each connection with an OpenWire WireFormatInfo")
	pidfile := fs.String("pidfile", "", "write the process ID here once listening")
	lifetime := fs.Duration("lifetime", 0, "exit after this long (0: never), so a stray test process ends")
	load := fs.Int("load", 0, "client mode: connect this many times and close from the client side")
	keepalive := fs.Bool("keepalive", false, "set SO_KEEPALIVE on accepted connections (ActiveMQ's transport.keepAlive=true; off by default, as in ActiveMQ)")
	nofile := fs.Uint64("nofile", 0, "lower the soft RLIMIT_NOFILE to this many fds (0: leave it)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var err error
	switch {
	case *load > 0:
		err = Load(*addr, *load, *greet)
	case *nofile > 0:
		err = setNofile(*nofile)
	}
	if err == nil && *load == 0 {
		err = Serve(*addr, *greet, *keepalive, *pidfile, *lifetime)
	}
	if err != nil {
		fmt.Fprintln(stderr, "tend-standin-mq:", err)
		return 1
	}
	return 0
}

// Serve listens on addr and holds every accepted connection open forever
// (or until lifetime passes), reading and discarding what clients send.
// With keepalive it sets SO_KEEPALIVE on them and nothing else, as Java
// does (the kernel's tcp_keepalive_* sysctls time the probes); without, the
// connections have none, as ActiveMQ's by default (Go would enable it).
func Serve(addr string, greet, keepalive bool, pidfile string, lifetime time.Duration) error {
	lc := net.ListenConfig{KeepAlive: -1}
	if keepalive {
		lc.KeepAliveConfig = net.KeepAliveConfig{Enable: true, Idle: -1, Interval: -1, Count: -1}
	}
	ln, err := listen(lc, addr)
	if err != nil {
		return err
	}
	if pidfile != "" {
		tmp := filepath.Join(filepath.Dir(pidfile), "."+filepath.Base(pidfile)+".tmp")
		if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, pidfile); err != nil {
			return err
		}
	}
	if lifetime > 0 {
		time.AfterFunc(lifetime, func() { os.Exit(0) })
	}
	var held []net.Conn // referenced forever: a collected conn would be closed
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		held = append(held, c)
		go func() {
			if greet {
				_, _ = c.Write(Greeting)
			}
			_, _ = io.Copy(io.Discard, c) // until the client's FIN; never Close
		}()
	}
}

// setNofile lowers the soft limit on open files, so that a test reaches a
// high share of it with a few connections.
func setNofile(n uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("nofile: %w", err)
	}
	lim.Cur = min(n, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("nofile: %w", err)
	}
	return nil
}

// listen listens on addr, retrying for up to 10 s while the address is in
// use: a restart script sees the old process gone once its main thread is a
// zombie, while its other threads may still hold the listening socket.
func listen(lc net.ListenConfig, addr string) (net.Listener, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := lc.Listen(context.Background(), "tcp", addr)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return ln, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Load connects n times to addr and closes each connection; with greet it
// first reads the whole greeting, since closing with unread data would send
// a reset instead of a FIN and leave no CLOSE_WAIT behind.
func Load(addr string, n int, greet bool) error {
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		if greet {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			var size [4]byte
			if _, err := io.ReadFull(c, size[:]); err == nil {
				_, _ = io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint32(size[:])))
			}
		}
		if err := c.Close(); err != nil {
			return err
		}
	}
	return nil
}
