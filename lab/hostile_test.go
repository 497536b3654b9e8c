package lab

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

func TestHostilePayloadsCorpus(t *testing.T) {
	ps := HostilePayloads()
	must := map[string]string{
		"ESC[2J":          "\x1b[2J",
		"SGR colour":      "\x1b[31;1m",
		"OSC 52":          "\x1b]52;",
		"OSC 8":           "\x1b]8;;",
		"BEL":             "\x07",
		"backspace":       "\b",
		"NUL":             "\x00",
		"C1 CSI":          "\u009b",
		"RLO":             "\u202e",
		"ZWJ":             "\u200d",
		"wide CJK":        "漢字",
		"emoji":           "🚀",
		"combining mark":  "\u0301",
		"CR without LF":   "%\rprogress",
		"invalid UTF-8":   "\xff\xfe",
		"long line (4KB)": strings.Repeat("a very long line without any break, ", 100),
	}
	all := bytes.Join(ps, []byte{0})
	for name, sub := range must {
		if !bytes.Contains(all, []byte(sub)) {
			t.Errorf("corpus lacks %s", name)
		}
	}
	if utf8.Valid(ps[len(ps)-1]) {
		t.Error("last payload is valid UTF-8")
	}
	ps[0][0] = 'X'
	if HostilePayloads()[0][0] != '\x1b' {
		t.Error("HostilePayloads shares its storage with callers")
	}
}

func TestHostile(t *testing.T) {
	s, _ := startLab(t)
	ctx := guardCtx(t)
	c := mustDial(t, ctx, s.URL("/hostile"), nil)
	text, bin := hostileMessages()
	if len(bin) != len(HostilePayloads()) || len(text) != len(bin)-1 {
		t.Fatalf("%d text and %d binary messages for %d payloads", len(text), len(bin), len(HostilePayloads()))
	}
	for i, want := range append(text, bin...) {
		typ, p, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ != want.typ || !bytes.Equal(p, want.p) {
			t.Fatalf("message %d: %v %q, want %v %q", i, typ, p, want.typ, want.p)
		}
	}
	c.Write(ctx, websocket.MessageText, []byte("\x1b[2J back"))
	if got := readText(t, ctx, c); got != "\x1b[2J back" {
		t.Fatalf("echo %q", got)
	}
}

// TestHostileClients throws garbage at every path and at the listener; the
// server must stay up and serve a normal client afterwards. Panics in a
// handler would be recovered by net/http, so the log is checked too.
func TestHostileClients(t *testing.T) {
	s, log := startLab(t)
	inputs := []string{
		"",
		"\x00\xff\x16\x03\x01garbage\r\n\r\n",
		"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConn", // cut mid-header
		"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n",                       // not an upgrade
		"POST /mute HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
		"GET /mute HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"GET /fin HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"GET /fragments HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
		// A valid upgrade followed at once by garbage frames, then a cut.
		"GET /mute HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\x81\xfe\xff",
		"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
		"GET /room HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\x81\x85",
	}
	for _, path := range []string{"/drop", "/ping", "/big?size=10", "/slow?delay=10ms", "/close", "/ticks", "/flood?n=5", "/silent", "/headers", "/auth", "/reject", "/badutf8", "/hostile"} {
		inputs = append(inputs, "GET "+path+" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\x88\x80\x00\x00\x00\x00garbage")
	}
	for _, in := range inputs {
		conn, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(in))
		conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		io.Copy(io.Discard, conn)
		conn.Close()
	}
	// A non-upgrade request to a raw path gets an HTTP error, not a hang.
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://" + s.Addr() + "/mute")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("GET /mute without upgrade: %d, want 426", resp.StatusCode)
	}
	// TLS garbage against a plain server, and a TLS server with a plain client.
	ts, err := Start(Options{TLS: true, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	if conn, err := net.Dial("tcp", ts.Addr()); err == nil {
		conn.Write([]byte("GET /echo HTTP/1.1\r\n\r\n"))
		conn.SetReadDeadline(time.Now().Add(time.Second))
		io.Copy(io.Discard, conn)
		conn.Close()
	}
	if conn, err := tls.Dial("tcp", s.Addr(), &tls.Config{InsecureSkipVerify: true}); err == nil {
		conn.Close()
		t.Error("TLS handshake with a plain server succeeded")
	}

	ctx := guardCtx(t)
	c := mustDial(t, ctx, s.URL("/echo"), nil)
	c.Write(ctx, websocket.MessageText, []byte("still fine"))
	if got := readText(t, ctx, c); got != "still fine" {
		t.Fatalf("echo after garbage: %q", got)
	}
	if strings.Contains(log.String(), "panic") {
		t.Fatalf("a handler panicked:\n%s", log.String())
	}
}
