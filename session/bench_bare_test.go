package session

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// The bare baselines of the benchmarks: clients and a server on
// github.com/gobwas/ws alone, the library the engine takes its framing
// primitives from, doing the least that a correct program on it does.

// bareDial dials url with gobwas/ws. br is non-nil only when the server
// sent frames along with its 101.
func bareDial(ctx context.Context, url string) (net.Conn, *bufio.Reader, error) {
	conn, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to dial %s: %w", url, err)
	}
	return conn, br, nil
}

// bareCloseReply answers the server's close frame (client role: masked).
func bareCloseReply(conn net.Conn, payload []byte) error {
	code, _ := ws.ParseCloseFrameData(payload)
	body := ws.NewCloseFrameBody(code, "")
	if len(payload) < 2 {
		body = nil
	}
	return ws.WriteFrame(conn, ws.MaskFrameInPlace(ws.NewCloseFrame(body)))
}

// ingestBareFrames reads a flood with ws.ReadHeader and one payload
// buffer, reused: the tightest read loop on gobwas/ws (it answers pings and
// the close, and hands out nothing). It returns how many messages ended.
func ingestBareFrames(url string) (int, error) {
	conn, br, err := bareDial(context.Background(), url)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(floodTimeout)) // fail, never hang
	if br == nil {
		br = bufio.NewReaderSize(conn, 4096) // the engine reads through 4 KiB too
	}
	var buf []byte
	n := 0
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return n, fmt.Errorf("bare read after %d messages: %w", n, err)
		}
		if int64(cap(buf)) < h.Length {
			buf = make([]byte, h.Length)
		}
		p := buf[:h.Length]
		if _, err := io.ReadFull(br, p); err != nil {
			return n, fmt.Errorf("bare read after %d messages: %w", n, err)
		}
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpClose:
			if code, _ := ws.ParseCloseFrameData(p); code != ws.StatusNormalClosure {
				return n, fmt.Errorf("bare: closed %d after %d messages", code, n)
			}
			return n, bareCloseReply(conn, p)
		case ws.OpPing:
			if err := ws.WriteFrame(conn, ws.MaskFrameInPlace(ws.NewPongFrame(p))); err != nil {
				return n, err
			}
		case ws.OpPong:
		default:
			if h.Fin {
				n++
			}
		}
	}
}

// ingestBareWsutil reads a flood with wsutil.ReadServerData, gobwas/ws's
// own message reader: a new slice per message (as the engine's events
// have), UTF-8 checked, control frames answered.
func ingestBareWsutil(url string) (int, error) {
	conn, br, err := bareDial(context.Background(), url)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(floodTimeout))
	if br == nil {
		br = bufio.NewReaderSize(conn, 4096)
	}
	rw := struct {
		io.Reader
		io.Writer
	}{br, conn}
	n := 0
	for {
		if _, _, err := wsutil.ReadServerData(rw); err != nil {
			var ce wsutil.ClosedError
			if errors.As(err, &ce) && ce.Code == ws.StatusNormalClosure {
				return n, nil
			}
			return n, fmt.Errorf("wsutil read after %d messages: %w", n, err)
		}
		n++
	}
}

// bareIdleClient holds one idle client socket the way a program on gobwas/ws
// does: one goroutine blocked in wsutil.ReadServerData on the connection,
// answering pings and the close.
func bareIdleClient(conn net.Conn, br *bufio.Reader, wg *sync.WaitGroup) {
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	rw := struct {
		io.Reader
		io.Writer
	}{r, conn}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer conn.Close()
		for {
			if _, _, err := wsutil.ReadServerData(rw); err != nil {
				return
			}
		}
	}()
}

// bareServer is a gobwas/ws accept loop: Accept, ws.Upgrade on the raw
// connection, then one goroutine per socket in wsutil.ReadClientData
// (answering pings and the close) until the connection ends.
type bareServer struct {
	ln     net.Listener
	wg     sync.WaitGroup
	opened atomic.Int64 // upgrades completed
	ended  atomic.Int64 // sockets ended after their upgrade
	notify chan struct{}

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func startBareServer() (*bareServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &bareServer{ln: ln, notify: make(chan struct{}, 1), conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// URL is the ws:// URL of the server.
func (s *bareServer) URL() string { return "ws://" + s.ln.Addr().String() + "/" }

func (s *bareServer) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(conn)
	}
}

func (s *bareServer) serve(conn net.Conn) {
	defer s.wg.Done()
	defer func() {
		conn.Close()
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
	}()
	if _, err := ws.Upgrade(conn); err != nil {
		return
	}
	s.signal(&s.opened)
	defer s.signal(&s.ended)
	for {
		if _, _, err := wsutil.ReadClientData(conn); err != nil {
			return
		}
	}
}

func (s *bareServer) signal(n *atomic.Int64) {
	n.Add(1)
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// wait blocks until count reports at least n, or ctx is done.
func (s *bareServer) wait(ctx context.Context, count *atomic.Int64, n int64) error {
	for count.Load() < n {
		select {
		case <-s.notify:
		case <-ctx.Done():
			return fmt.Errorf("bare server: %d of %d: %w", count.Load(), n, ctx.Err())
		}
	}
	return nil
}

// Close stops accepting, drops every connection and waits for every
// goroutine.
func (s *bareServer) Close() {
	s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
