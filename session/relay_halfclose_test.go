package session

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// rawUpstream is a WebSocket server written by hand: it answers one
// upgrade with 101 and hands the connection to the test, which then
// reads and writes frames (and half-closes TCP) itself.
func rawUpstream(t *testing.T) (url string, conns <-chan *rawPeer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan *rawPeer, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			nc.Close()
			return
		}
		fmt.Fprintf(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acceptKey(req.Header.Get("Sec-WebSocket-Key")))
		ch <- &rawPeer{nc: nc.(*net.TCPConn), br: br, req: req}
	}()
	return "ws://" + ln.Addr().String(), ch
}

// rawPair runs a relay (o, its upstream set) between two hand-driven
// peers: the app, a raw client, and the server, rawUpstream; it returns
// once both legs are open.
func rawPair(t *testing.T, o RelayOptions) (r *recorder, app, srv *rawPeer) {
	t.Helper()
	upURL, ups := rawUpstream(t)
	o.Upstream.URL = upURL
	r, url := startRelay(t, o)
	nc, br := rawClient(t, url)
	app = &rawPeer{nc: nc.(*net.TCPConn), br: br, masked: true}
	select {
	case srv = <-ups:
	case <-time.After(10 * time.Second):
		t.Fatal("the relay did not dial")
	}
	t.Cleanup(func() { srv.nc.Close() })
	r.waitState(1, StateOpen)
	r.waitState(2, StateOpen)
	return r, app, srv
}

// rawPeer is one end of a relayed connection driven frame by frame.
type rawPeer struct {
	nc     *net.TCPConn
	br     *bufio.Reader
	masked bool          // a client masks its frames
	req    *http.Request // rawUpstream: the upgrade request it answered
}

func (p *rawPeer) send(t *testing.T, text string) {
	t.Helper()
	h := wsframe.Header{Fin: true, Opcode: wsframe.OpText, Masked: p.masked, Mask: [4]byte{1, 2, 3, 4}}
	if _, err := p.nc.Write(wsframe.AppendFrame(nil, h, []byte(text))); err != nil {
		t.Fatal(err)
	}
}

// read returns the next frame's payload, or the error that ended reading
// (io.EOF for a half-close).
func (p *rawPeer) read(t *testing.T) (wsframe.Header, string, error) {
	t.Helper()
	_ = p.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	return p.readFrom(t)
}

// readFrom reads the next frame from p.br, with no deadline of its own.
func (p *rawPeer) readFrom(t *testing.T) (wsframe.Header, string, error) {
	t.Helper()
	h, err := wsframe.ReadHeader(p.br)
	if err != nil {
		return h, "", err
	}
	b := make([]byte, h.Length)
	if _, err := io.ReadFull(p.br, b); err != nil {
		return h, "", err
	}
	if h.Masked {
		wsframe.Unmask(b, h.Mask, 0)
	}
	return h, string(b), nil
}

func (p *rawPeer) wantText(t *testing.T, who, want string) {
	t.Helper()
	if h, got, err := p.read(t); err != nil || h.Opcode != wsframe.OpText || got != want {
		t.Fatalf("%s read %v %q %v, want text %q", who, h.Opcode, got, err, want)
	}
}

func (p *rawPeer) wantEOF(t *testing.T, who string) {
	t.Helper()
	if h, got, err := p.read(t); !errors.Is(err, io.EOF) {
		t.Fatalf("%s read %v %q %v, want the half-close passed on (EOF)", who, h.Opcode, got, err)
	}
}

// TestRelayHalfClose: a half-close is passed on as a half-close, and the
// other direction keeps working until that side half-closes too: what
// the server writes after the app's FIN reaches the app (and the other
// way round), then the second FIN reaches the first side, and both legs
// end. Before, what came after the first FIN was dropped ("socket is
// closing"), the second FIN too, and both legs stayed closing for ever.
func TestRelayHalfClose(t *testing.T) {
	for _, first := range []string{LegApp, LegUpstream} {
		t.Run(first+" first", func(t *testing.T) {
			r, app, srv := rawPair(t, RelayOptions{})
			a, b := app, srv
			aName, bName := "the app", "the server"
			if first == LegUpstream {
				a, b, aName, bName = srv, app, bName, aName
			}
			if err := a.nc.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			b.wantEOF(t, bName)
			b.send(t, "after the first FIN")
			a.wantText(t, aName, "after the first FIN")
			if err := b.nc.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			a.wantEOF(t, aName)
			for _, conn := range []int{1, 2} {
				if ev := r.waitState(conn, StateClosed); ev.Clean || ev.Code != wsframe.CloseAbnormal {
					t.Fatalf("#%d: %s", conn, ev.AppendJSON(nil))
				}
			}
			if n := count(r.all(), func(ev Event) bool { return ev.Type == EventDropped }); n != 0 {
				t.Fatalf("%d items dropped", n)
			}
		})
	}
}
