package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/wsinspect/wsinspect/internal/wsframe"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests: every
// Server.Close must have waited for everything it started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// logBuffer is a concurrency-safe Options.Log for tests.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed by the next Write; nil until someone waits
}

// Write appends p and wakes waitLog.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// next returns everything logged so far and a channel closed by the next
// Write.
func (b *logBuffer) next() (string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	return b.buf.String(), b.changed
}

// waitLog waits until the log contains substr, woken by each write, or
// fails the test after the hang guard.
func waitLog(t *testing.T, log *logBuffer, substr string) {
	t.Helper()
	guard := time.NewTimer(hangGuard)
	defer guard.Stop()
	for {
		s, changed := log.next()
		if strings.Contains(s, substr) {
			return
		}
		select {
		case <-changed:
		case <-guard.C:
			t.Fatalf("log never contained %q; log:\n%s", substr, log.String())
		}
	}
}

// startLab starts a server with a captured log, closed when the test ends.
func startLab(t *testing.T) (*Server, *logBuffer) {
	t.Helper()
	log := &logBuffer{}
	s, err := Start(Options{Log: log})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, log
}

// hangGuard bounds a wait that should end in well under a second: it only
// turns a hang into a failure, so it is generous enough for -race on a
// loaded 2-core machine (timing assertions, where a test makes one, are
// separate from it).
const hangGuard = 2 * time.Minute

// guardCtx is a context that ends with the test or after hangGuard.
func guardCtx(t *testing.T) context.Context { return testCtx(t, hangGuard) }

// testCtx is a context that ends with the test or after d.
func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// dial connects a coder/websocket client; its own HTTP transport is cleaned
// up with the test so no keep-alive goroutine is left behind.
func dial(t *testing.T, ctx context.Context, url string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	if opts == nil {
		opts = &websocket.DialOptions{}
	}
	if opts.HTTPClient == nil {
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		opts.HTTPClient = &http.Client{Transport: tr}
	}
	c, resp, err := websocket.Dial(ctx, url, opts)
	if c != nil {
		c.SetReadLimit(maxMessage)
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

// mustDial is dial that fails the test on error.
func mustDial(t *testing.T, ctx context.Context, url string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	c, _, err := dial(t, ctx, url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return c
}

// readText reads one message and requires it to be text.
func readText(t *testing.T, ctx context.Context, c *websocket.Conn) string {
	t.Helper()
	typ, p, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("read a %v message %q, want text", typ, p)
	}
	return string(p)
}

// rawClient is a hand-made WebSocket client that sees every frame, for the
// behaviours only the wire shows.
type rawClient struct {
	conn net.Conn
	br   *bufio.Reader
}

// rawFrame is one frame as the raw client read it.
type rawFrame struct {
	fin     bool
	rsv     byte
	masked  bool
	opcode  byte
	payload []byte
	header  wsframe.Header
}

// dialRaw opens TCP to the server and completes the opening handshake.
func dialRaw(t *testing.T, s *Server, path string) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial TCP: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(hangGuard))
	key := make([]byte, 16)
	rand.Read(key)
	k := base64.StdEncoding.EncodeToString(key)
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, s.Addr(), k)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read handshake response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d, want 101", resp.StatusCode)
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), acceptKey(k); got != want {
		t.Fatalf("Sec-WebSocket-Accept %q, want %q", got, want)
	}
	return &rawClient{conn: conn, br: br}
}

// write sends one masked client frame.
func (c *rawClient) write(t *testing.T, fin bool, opcode byte, payload []byte) {
	t.Helper()
	if _, err := c.conn.Write(maskedFrame(fin, opcode, payload)); err != nil {
		t.Fatalf("write frame: %v", err)
	}
}

// maskedFrame encodes a client frame with a random mask.
func maskedFrame(fin bool, opcode byte, payload []byte) []byte {
	return wsframe.AppendFrame(nil, wsframe.Header{Fin: fin, Opcode: opcode, Masked: true, Mask: wsframe.NewMask()}, payload)
}

// readHeader reads one server frame header, leaving its payload unread.
func (c *rawClient) readHeader() (wsframe.Header, error) {
	return wsframe.ReadHeader(c.br)
}

// read reads one server frame, unmasking its payload if it was masked.
func (c *rawClient) read() (rawFrame, error) {
	h, err := c.readHeader()
	if err != nil {
		return rawFrame{}, err
	}
	f := rawFrame{fin: h.Fin, masked: h.Masked, opcode: h.Opcode, header: h}
	for i, set := range []bool{h.RSV3, h.RSV2, h.RSV1} {
		if set {
			f.rsv |= 1 << i
		}
	}
	if h.Length > 256<<20 {
		return rawFrame{}, fmt.Errorf("frame announces %d bytes, more than a test reads", h.Length)
	}
	f.payload = make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, f.payload); err != nil {
		return rawFrame{}, err
	}
	if h.Masked {
		wsframe.Unmask(f.payload, h.Mask, 0)
	}
	return f, nil
}

// mustRead reads one server frame or fails the test.
func (c *rawClient) mustRead(t *testing.T) rawFrame {
	t.Helper()
	f, err := c.read()
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if f.masked {
		t.Fatalf("server frame is masked")
	}
	return f
}
