package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests: every
// Server.Close must have waited for everything it started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// logBuffer is a concurrency-safe Options.Log for tests.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLog waits until the log contains substr, or fails the test.
func waitLog(t *testing.T, log *logBuffer, substr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), substr) {
		if time.Now().After(deadline) {
			t.Fatalf("log never contained %q; log:\n%s", substr, log.String())
		}
		time.Sleep(5 * time.Millisecond)
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
}

// dialRaw opens TCP to the server and completes the opening handshake.
func dialRaw(t *testing.T, s *Server, path string) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial TCP: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(15 * time.Second))
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
	b := appendFrameHeader(nil, fin, opcode, len(payload))
	b[1] |= 0x80
	var mask [4]byte
	rand.Read(mask[:])
	b = append(b, mask[:]...)
	for i, x := range payload {
		b = append(b, x^mask[i%4])
	}
	return b
}

// read reads one server frame.
func (c *rawClient) read() (rawFrame, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return rawFrame{}, err
	}
	f := rawFrame{fin: h[0]&0x80 != 0, rsv: h[0] & 0x70 >> 4, opcode: h[0] & 0x0f, masked: h[1]&0x80 != 0}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return rawFrame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return rawFrame{}, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.payload); err != nil {
		return rawFrame{}, err
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
