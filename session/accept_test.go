package session

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/internal/wsframe"
	"github.com/wsinspect/wsinspect/lab"
)

// sendRaw writes req to addr and returns the answer (nil when the
// connection ended without one) and its body.
func sendRaw(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestListenBadRequests: what is not an upgrade request we can read gets
// an HTTP answer that says why, and an error event of no socket names the
// client; no socket is made for it.
func TestListenBadRequests(t *testing.T) {
	r := newRecorder(t)
	l, err := r.m.Listen(ListenOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	for _, tc := range []struct {
		name, req string
		status    int
		body, ev  string
	}{
		{"malformed", "GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400, "malformed request", "sent a malformed request"},
		{"no host", "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", 400, "missing required Host header", "without a Host header"},
		{"huge headers", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 70<<10) + "\r\n\r\n", 431, "over 64 KiB", "over 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := sendRaw(t, addr, tc.req)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.body) || !resp.Close {
				t.Fatalf("answer %d %q %v", resp.StatusCode, body, resp.Header)
			}
			r.wait(0, 10*time.Second, tc.ev, func(ev Event) bool {
				return ev.Type == EventError && strings.Contains(ev.Error, tc.ev) && strings.HasPrefix(ev.Error, "client 127.0.0.1:")
			})
		})
	}
	// A request that is fine but not an upgrade is a socket that failed.
	resp, body := sendRaw(t, addr, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp.StatusCode != 400 || !strings.Contains(body, "no Upgrade: websocket header") {
		t.Fatalf("answer %d %q", resp.StatusCode, body)
	}
	r.waitState(1, StateFailed)
	if n := len(r.m.Conns()); n != 1 {
		t.Fatalf("%d sockets, want only the plain GET's", n)
	}
}

// TestListenPlainHTTPToTLS: a ws:// client at a wss:// listener is told so
// in plain HTTP, and the user sees it.
func TestListenPlainHTTPToTLS(t *testing.T) {
	cert, _, err := lab.SelfSignedCert("test")
	if err != nil {
		t.Fatal(err)
	}
	r := newRecorder(t)
	l, err := r.m.Listen(ListenOptions{Addr: "127.0.0.1:0", TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := sendRaw(t, l.Addr().String(), upgradeRequestHead("")+"\r\n")
	if resp.StatusCode != 400 || !strings.Contains(body, "HTTP request to an HTTPS server") {
		t.Fatalf("answer %d %q", resp.StatusCode, body)
	}
	r.wait(0, 10*time.Second, "plain HTTP error", func(ev Event) bool {
		return ev.Type == EventError && strings.Contains(ev.Error, "plain HTTP to this wss:// listener")
	})
	// A client that does not trust the certificate gives up in the TLS
	// handshake: that is said too, with the client's address.
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	tc := tls.Client(nc, &tls.Config{ServerName: "127.0.0.1"})
	if err := tc.Handshake(); err == nil {
		t.Fatal("the client trusted a self-signed certificate")
	}
	tc.Close()
	r.wait(0, 10*time.Second, "TLS handshake error", func(ev Event) bool {
		return ev.Type == EventError && strings.Contains(ev.Error, "client "+nc.LocalAddr().String()+" failed the TLS handshake: ")
	})
}

// TestListenCloseDropsSilentClients: Close does not wait for a client that
// connected and never sent its request (the goroutine-leak check of
// TestMain proves nothing is left behind), and sockets already open go
// on.
func TestListenCloseDropsSilentClients(t *testing.T) {
	r := newRecorder(t)
	l, err := r.m.Listen(ListenOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	open, br := rawClient(t, l.URL())
	r.waitState(1, StateOpen)
	silent, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// Half a request: the listener's goroutine for it is now reading.
	if _, err := io.WriteString(silent, "GET / HTTP/1.1\r\n"); err != nil {
		t.Fatal(err)
	}
	l.Close()
	silent.SetReadDeadline(time.Now().Add(20 * time.Second))
	if n, err := silent.Read(make([]byte, 1)); err == nil {
		t.Fatalf("the silent client read %d bytes, want the connection dropped", n)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("Close left the silent client's connection open")
	}
	cmd, err := ParseCommand("still here")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.m.Do(1, cmd); err != nil {
		t.Fatal(err)
	}
	open.SetReadDeadline(time.Now().Add(20 * time.Second))
	h, err := wsframe.ReadHeader(br)
	if err != nil || h.Opcode != wsframe.OpText || h.Length != int64(len("still here")) {
		t.Fatalf("the open socket read %+v %v", h, err)
	}
}

// TestListenClientGoneDuringDelay: a client that leaves while its 101 is
// held fails its socket at once, not after the delay.
func TestListenClientGoneDuringDelay(t *testing.T) {
	r := newRecorder(t)
	l, err := r.m.Listen(ListenOptions{Addr: "127.0.0.1:0", HandshakeDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(nc, upgradeRequestHead("")+"\r\n"); err != nil {
		t.Fatal(err)
	}
	r.waitState(1, StateConnecting)
	nc.Close()
	ev := r.wait(1, 20*time.Second, "failed", func(ev Event) bool { return ev.Type == EventState && ev.To == StateFailed })
	if !strings.Contains(ev.Error, "went away during the handshake delay") {
		t.Fatalf("failed: %s", ev.AppendJSON(nil))
	}
}
