// Command barerelay is the bare baseline of bench/relay-clients.sh: a
// WebSocket relay on github.com/gobwas/ws alone, run as its own process as
// wsinspect relay is. It accepts upgrades on ADDR, dials UPSTREAM with the
// app's path, and copies frames both ways (unmasking, masking), one write
// per frame: no events, no subprotocols, no close handshake of its own.
//
//	go run ./bench/barerelay 127.0.0.1:9001 ws://127.0.0.1:9000
package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"

	"github.com/gobwas/ws"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: barerelay ADDR UPSTREAM")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("barerelay on %s\n", ln.Addr())
	for {
		app, err := ln.Accept()
		if err != nil {
			return
		}
		go one(app, os.Args[2])
	}
}

// one relays one app connection.
func one(app net.Conn, upstream string) {
	defer app.Close()
	var path string
	u := ws.Upgrader{OnRequest: func(uri []byte) error { path = string(uri); return nil }}
	appR := bufio.NewReaderSize(app, 32<<10)
	if _, err := u.Upgrade(struct {
		io.Reader
		io.Writer
	}{appR, app}); err != nil {
		return
	}
	srv, srvR, _, err := ws.Dial(context.Background(), upstream+path)
	if err != nil {
		return
	}
	defer srv.Close()
	if srvR == nil {
		srvR = bufio.NewReaderSize(srv, 32<<10)
	}
	go func() { _ = cp(srv, appR, true); srv.Close() }()
	_ = cp(app, srvR, false)
}

// cp copies frames from src to dst until either fails.
func cp(dst net.Conn, src *bufio.Reader, toServer bool) error {
	var payload []byte
	var out bytes.Buffer
	for {
		h, err := ws.ReadHeader(src)
		if err != nil {
			return err
		}
		payload = slices.Grow(payload[:0], int(h.Length))[:h.Length]
		if _, err := io.ReadFull(src, payload); err != nil {
			return err
		}
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		h.Masked = toServer
		if toServer {
			h.Mask = ws.NewMask()
			ws.Cipher(payload, h.Mask, 0)
		}
		out.Reset()
		_ = ws.WriteHeader(&out, h)
		out.Write(payload)
		if _, err := dst.Write(out.Bytes()); err != nil {
			return err
		}
	}
}
