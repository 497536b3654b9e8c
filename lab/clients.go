package lab

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// ClientBehaviour is one misbehaving WebSocket client of the demo: the
// client-side bugs a server (or wsinspect listen) should make visible.
type ClientBehaviour struct {
	Name        string
	Description string
	run         func(ctx context.Context, c *demoClient) error
}

// ClientBehaviours lists the demo's clients, each connecting to path
// "/client/NAME" of the listener.
func ClientBehaviours() []ClientBehaviour {
	return []ClientBehaviour{
		{"polite", "says hi, waits for an answer, closes with 1000", func(ctx context.Context, c *demoClient) error {
			if err := c.send(wsframe.OpText, []byte("hi from a polite client")); err != nil {
				return err
			}
			if _, err := c.read(ctx); err != nil {
				return err
			}
			return c.closeAndWait(ctx, 1000, "bye")
		}},
		{"early", "sends before the 101 arrives (in the same write as its upgrade request)", func(ctx context.Context, c *demoClient) error {
			// The message went out with the request; wait for the
			// answer, then close.
			if _, err := c.read(ctx); err != nil {
				return err
			}
			return c.closeAndWait(ctx, 1000, "")
		}},
		{"half-close", "sends a message, then half-closes TCP without a close frame", func(ctx context.Context, c *demoClient) error {
			if err := c.send(wsframe.OpText, []byte("and now I go quiet")); err != nil {
				return err
			}
			return c.nc.(*net.TCPConn).CloseWrite()
		}},
		{"unmasked", "sends an unmasked frame, which a server must refuse with 1002", func(ctx context.Context, c *demoClient) error {
			frame := wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpText}, []byte("no mask"))
			if _, err := c.nc.Write(frame); err != nil {
				return err
			}
			_, err := c.read(ctx)
			return err
		}},
	}
}

// demoClient is a hand-written WebSocket client: it can do what no library
// does.
type demoClient struct {
	nc net.Conn
	br *bufio.Reader
}

// dialDemoClient upgrades by hand; early, if set, is a text frame written in
// the same write as the request.
func dialDemoClient(ctx context.Context, url string, early []byte) (*demoClient, error) {
	addr, path, _ := strings.Cut(strings.TrimPrefix(url, "ws://"), "/")
	nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	req := fmt.Sprintf("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nUser-Agent: wsinspect-lab-client\r\n\r\n", path, addr)
	out := []byte(req)
	if early != nil {
		out = wsframe.AppendFrame(out, wsframe.Header{Fin: true, Opcode: wsframe.OpText, Masked: true, Mask: wsframe.NewMask()}, early)
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	if _, err := nc.Write(out); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		nc.Close()
		return nil, fmt.Errorf("upgrade refused: %s", resp.Status)
	}
	return &demoClient{nc: nc, br: br}, nil
}

func (c *demoClient) send(op byte, p []byte) error {
	_, err := c.nc.Write(wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: op, Masked: true, Mask: wsframe.NewMask()}, p))
	return err
}

// read returns the next frame's header, skipping its payload; ctx ends it.
func (c *demoClient) read(ctx context.Context) (wsframe.Header, error) {
	stop := context.AfterFunc(ctx, func() { c.nc.SetReadDeadline(time.Now()) })
	defer stop()
	h, err := wsframe.ReadHeader(c.br)
	if err != nil {
		return h, err
	}
	_, err = c.br.Discard(int(min(h.Length, 1<<20)))
	return h, err
}

// closeAndWait sends a close frame and reads until the server's close.
func (c *demoClient) closeAndWait(ctx context.Context, code int, reason string) error {
	if err := c.send(wsframe.OpClose, wsframe.ClosePayload(code, reason)); err != nil {
		return err
	}
	for {
		h, err := c.read(ctx)
		if err != nil || h.Opcode == wsframe.OpClose {
			return err
		}
	}
}

// RunClients starts every client behaviour against the listener at base
// (ws://host:port), one after another a moment apart so each is easy to
// follow; it returns a wait for them all. Cancelling ctx ends them.
func RunClients(ctx context.Context, base string, gap time.Duration) (wait func()) {
	var wg sync.WaitGroup
	for i, b := range ClientBehaviours() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTimer(time.Duration(i) * gap)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
			var early []byte
			if b.Name == "early" {
				early = []byte("sent while CONNECTING")
			}
			c, err := dialDemoClient(ctx, base+"/client/"+b.Name, early)
			if err != nil {
				return
			}
			defer c.nc.Close()
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			_ = b.run(cctx, c)
			if b.Name == "half-close" {
				// Keep reading what the server still says until it ends.
				for {
					if _, err := c.read(cctx); err != nil {
						return
					}
				}
			}
		}()
	}
	return wg.Wait
}
