package session

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// helloFrame is an unmasked text frame "hello", as a server sends it.
var helloFrame = []byte{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'}

// listenRaw accepts TCP connections on 127.0.0.1 and hands each to serve.
// Cleanup closes the listener and every accepted connection, then waits
// for serve to return.
func listenRaw(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// rawServer is a hand-written HTTP server: serve reads nothing more than
// the request and writes whatever bytes it likes.
func rawServer(t *testing.T, serve func(c net.Conn, req *http.Request)) string {
	t.Helper()
	return listenRaw(t, func(c net.Conn) {
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		serve(c, req)
	})
}

// upgradeHead is a correct 101 header block for req, with extra header
// lines ("Name: value\r\n" each) before the blank line.
func upgradeHead(req *http.Request, extra string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + acceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n" + extra + "\r\n"
}

// drain reads until the peer has gone, so a server never answers.
func drain(c net.Conn) { io.Copy(io.Discard, c) }

// dialOpts is the dial configuration for o, failing the test on error.
func dialOpts(t *testing.T, o Options) (*dialConfig, Options) {
	t.Helper()
	cfg, err := newDialConfig(o)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, o.withDefaults()
}

// handshake runs clientHandshake with a generous bound.
func handshake(t *testing.T, o Options) (*handshakeResult, error) {
	t.Helper()
	cfg, o := dialOpts(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := clientHandshake(ctx, cfg, o)
	if res != nil {
		t.Cleanup(func() { res.Conn.Close() })
	}
	return res, err
}

// expectFirst checks that the first bytes res.Reader yields are want.
func expectFirst(t *testing.T, res *handshakeResult, want []byte) {
	t.Helper()
	got := make([]byte, len(want))
	res.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(res.Reader, got); err != nil {
		t.Fatalf("reading what follows the 101: %v", err)
	}
	res.Conn.SetReadDeadline(time.Time{})
	if !bytes.Equal(got, want) {
		t.Fatalf("after the 101: got % x, want % x", got, want)
	}
}

// TestHandshakeAcceptKey checks the accept key against RFC 6455 §1.3.
func TestHandshakeAcceptKey(t *testing.T) {
	if got := acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("acceptKey = %q", got)
	}
}

// TestHandshakeInterimResponses: 100 Continue and 102 Processing come before
// the 101, and a frame follows in the same write: the interim answers are
// recorded and the frame is the first thing the reader yields.
func TestHandshakeInterimResponses(t *testing.T) {
	addr := rawServer(t, func(c net.Conn, req *http.Request) {
		c.Write([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-Step: 2\r\n\r\n" + upgradeHead(req, "") + string(helloFrame)))
		drain(c)
	})
	res, err := handshake(t, Options{URL: "ws://" + addr + "/"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 101 || len(res.Interim) != 2 || res.Interim[0].Status != 100 || res.Interim[1].Status != 102 || res.Interim[1].Header.Get("X-Step") != "2" {
		t.Fatalf("status %d, interim %+v", res.Status, res.Interim)
	}
	expectFirst(t, res, helloFrame)
}

// TestHandshakeOddResponses: answers a lenient parser accepts must not
// desync the frame reader.
func TestHandshakeOddResponses(t *testing.T) {
	big := "X-Big: " + strings.Repeat("b", 60<<10) + "\r\n"
	cases := map[string]func(req *http.Request) string{
		"bare LF": func(req *http.Request) string {
			return strings.ReplaceAll(upgradeHead(req, "X-A: 1\r\n"), "\r\n", "\n")
		},
		"double space": func(req *http.Request) string {
			return strings.Replace(upgradeHead(req, ""), "HTTP/1.1 101", "HTTP/1.1  101", 1)
		},
		"60 KiB header": func(req *http.Request) string { return upgradeHead(req, big) },
		"101 with a length": func(req *http.Request) string {
			return upgradeHead(req, "Content-Length: 3\r\n")
		},
		"103 early hints": func(req *http.Request) string {
			return "HTTP/1.1 103 Early Hints\nLink: </a>\n\n" + upgradeHead(req, "")
		},
	}
	for name, head := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			addr := rawServer(t, func(c net.Conn, req *http.Request) {
				c.Write(append([]byte(head(req)), helloFrame...))
				drain(c)
			})
			res, err := handshake(t, Options{URL: "ws://" + addr})
			if err != nil {
				t.Fatal(err)
			}
			expectFirst(t, res, helloFrame)
		})
	}
}

// TestHandshakeHugeHeader: headers past 64 KiB, in one header or in an
// endless run of 100 Continue, fail with a clear error.
func TestHandshakeHugeHeader(t *testing.T) {
	cases := map[string]func(c net.Conn, req *http.Request){
		"200 KiB header": func(c net.Conn, req *http.Request) {
			c.Write([]byte(upgradeHead(req, "X-Big: "+strings.Repeat("b", 200<<10)+"\r\n")))
		},
		"endless 100 Continue": func(c net.Conn, req *http.Request) {
			for {
				if _, err := c.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n")); err != nil {
					return
				}
			}
		},
	}
	for name, serve := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			addr := rawServer(t, serve)
			_, err := handshake(t, Options{URL: "ws://" + addr})
			if err == nil || !strings.Contains(err.Error(), "larger than 64 KiB") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// TestHandshakeRejected: a 401 is a HandshakeError with status, headers
// and the start of the body; a body that never ends does not hold the
// handshake.
func TestHandshakeRejected(t *testing.T) {
	t.Run("401 with body", func(t *testing.T) {
		body := "token expired\nsee the docs"
		addr := rawServer(t, func(c net.Conn, req *http.Request) {
			fmt.Fprintf(c, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			drain(c)
		})
		_, err := handshake(t, Options{URL: "ws://" + addr})
		var he *HandshakeError
		if !errors.As(err, &he) {
			t.Fatalf("err = %v (%T)", err, err)
		}
		if he.Status != 401 || he.Body != body || he.Header.Get("WWW-Authenticate") != "Bearer" || he.RequestHeader.Get("Sec-WebSocket-Key") == "" {
			t.Fatalf("%+v", he)
		}
		if want := "upgrade rejected: 401 Unauthorized: token expired …"; err.Error() != want {
			t.Fatalf("Error() = %q, want %q", err.Error(), want)
		}
	})
	t.Run("body without end", func(t *testing.T) {
		addr := rawServer(t, func(c net.Conn, req *http.Request) {
			c.Write([]byte("HTTP/1.1 503 Service Unavailable\r\n\r\nbusy, " + strings.Repeat("x", 2000)))
			drain(c)
		})
		start := time.Now()
		_, err := handshake(t, Options{URL: "ws://" + addr})
		var he *HandshakeError
		if !errors.As(err, &he) || he.Status != 503 || len(he.Body) != maxErrorBody || !strings.HasPrefix(he.Body, "busy, ") {
			t.Fatalf("err = %v", err)
		}
		_ = start // it returned at all: the body with no end did not hold it
	})
	t.Run("short body kept open", func(t *testing.T) {
		addr := rawServer(t, func(c net.Conn, req *http.Request) {
			c.Write([]byte("HTTP/1.1 403 Forbidden\r\n\r\nno"))
			drain(c)
		})
		_, err := handshake(t, Options{URL: "ws://" + addr})
		var he *HandshakeError
		if !errors.As(err, &he) || he.Status != 403 || he.Body != "no" {
			t.Fatalf("err = %v", err)
		}
	})
}

// redirectServer answers /r/N with a 302 to the relative /r/N+1 until N
// reaches upgradeAt, which upgrades; paths it saw are sent on seen.
func redirectServer(t *testing.T, upgradeAt int, seen chan<- *http.Request) string {
	return rawServer(t, func(c net.Conn, req *http.Request) {
		seen <- req
		var n int
		fmt.Sscanf(req.URL.Path, "/r/%d", &n)
		if n == upgradeAt {
			c.Write([]byte(upgradeHead(req, "")))
		} else {
			fmt.Fprintf(c, "HTTP/1.1 302 Found\r\nLocation: /r/%d?q=1\r\nContent-Length: 0\r\n\r\n", n+1)
		}
		drain(c)
	})
}

// TestHandshakeRedirect: a 302 fails and shows its Location; with
// FollowRedirects up to 5 hops are followed and reported, a 6th fails.
func TestHandshakeRedirect(t *testing.T) {
	t.Run("not followed", func(t *testing.T) {
		seen := make(chan *http.Request, 10)
		addr := redirectServer(t, 5, seen)
		_, err := handshake(t, Options{URL: "ws://" + addr + "/r/0"})
		var he *HandshakeError
		if !errors.As(err, &he) || he.Status != 302 || he.Location != "http://"+addr+"/r/1?q=1" {
			t.Fatalf("err = %v", err)
		}
		if want := "redirected (302) to http://" + addr + "/r/1?q=1: WebSocket clients do not follow redirects; use --follow-redirects"; err.Error() != want {
			t.Fatalf("Error() = %q", err.Error())
		}
		if len(seen) != 1 {
			t.Fatalf("%d requests", len(seen))
		}
	})
	t.Run("5 hops", func(t *testing.T) {
		seen := make(chan *http.Request, 10)
		addr := redirectServer(t, 5, seen)
		res, err := handshake(t, Options{URL: "ws://me:pw@" + addr + "/r/0", FollowRedirects: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Redirects) != 5 {
			t.Fatalf("redirects %+v", res.Redirects)
		}
		for i, h := range res.Redirects {
			from := fmt.Sprintf("ws://%s/r/%d", addr, i)
			if i > 0 {
				from += "?q=1"
			}
			if h.Status != 302 || h.From != from || h.Location != fmt.Sprintf("ws://%s/r/%d?q=1", addr, i+1) {
				t.Fatalf("hop %d: %+v", i, h)
			}
		}
		for range 6 {
			if r := <-seen; r.Header.Get("Authorization") == "" {
				t.Fatalf("%s: the same host lost its credentials", r.URL)
			}
		}
	})
	t.Run("6 hops", func(t *testing.T) {
		seen := make(chan *http.Request, 10)
		addr := redirectServer(t, 6, seen)
		_, err := handshake(t, Options{URL: "ws://" + addr + "/r/0", FollowRedirects: true})
		var he *HandshakeError
		if !errors.As(err, &he) || he.Status != 302 || len(he.Redirects) != 5 || !strings.Contains(err.Error(), "too many redirects (5 followed)") {
			t.Fatalf("err = %v", err)
		}
		if len(seen) != 6 {
			t.Fatalf("%d requests", len(seen))
		}
	})
	t.Run("other host", func(t *testing.T) {
		seen := make(chan *http.Request, 1)
		final := rawServer(t, func(c net.Conn, req *http.Request) {
			seen <- req
			c.Write([]byte(upgradeHead(req, "")))
			drain(c)
		})
		first := rawServer(t, func(c net.Conn, req *http.Request) {
			fmt.Fprintf(c, "HTTP/1.1 308 Permanent Redirect\r\nLocation: http://%s/there\r\n\r\n", final)
			drain(c)
		})
		res, err := handshake(t, Options{URL: "ws://" + first + "/", Auth: "me:pw", FollowRedirects: true})
		if err != nil {
			t.Fatal(err)
		}
		r := <-seen
		if r.Header.Get("Authorization") != "" || r.URL.Path != "/there" || r.Host != final {
			t.Fatalf("request to the other host: %s %s %v", r.Host, r.URL, r.Header)
		}
		if len(res.Redirects) != 1 || res.Redirects[0].Location != "ws://"+final+"/there" {
			t.Fatalf("%+v", res.Redirects)
		}
	})
}

// TestHandshakeBadUpgrade: a 101 that breaks RFC 6455 fails, saying what is
// wrong.
func TestHandshakeBadUpgrade(t *testing.T) {
	cases := []struct {
		name     string
		opts     Options
		response func(req *http.Request) string
		want     string
	}{
		{"wrong accept", Options{}, func(*http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
		}, `Sec-WebSocket-Accept is "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", expected`},
		{"no accept", Options{}, func(*http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
		}, "no Sec-WebSocket-Accept header"},
		{"no upgrade", Options{}, func(req *http.Request) string {
			return strings.Replace(upgradeHead(req, ""), "Upgrade: websocket\r\n", "", 1)
		}, `Upgrade header is "", not websocket`},
		{"subprotocol not offered", Options{Subprotocols: []string{"chat"}}, func(req *http.Request) string {
			return upgradeHead(req, "Sec-WebSocket-Protocol: superchat\r\n")
		}, `server chose subprotocol "superchat", which we did not offer (we offered chat)`},
		{"subprotocol without offer", Options{}, func(req *http.Request) string {
			return upgradeHead(req, "Sec-WebSocket-Protocol: chat\r\n")
		}, `server chose subprotocol "chat", but we offered none`},
		{"two subprotocols", Options{Subprotocols: []string{"a", "b"}}, func(req *http.Request) string {
			return upgradeHead(req, "Sec-WebSocket-Protocol: a, b\r\n")
		}, `server chose several subprotocols ("a, b"); it must choose one`},
		{"extension not offered", Options{Compress: true}, func(req *http.Request) string {
			return upgradeHead(req, "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n")
		}, `server accepted extension "x-webkit-deflate-frame", which we did not offer`},
		{"deflate not offered", Options{}, func(req *http.Request) string {
			return upgradeHead(req, "Sec-WebSocket-Extensions: permessage-deflate\r\n")
		}, `server accepted extension "permessage-deflate", which we did not offer`},
		{"bad deflate parameter", Options{Compress: true}, func(req *http.Request) string {
			return upgradeHead(req, "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99\r\n")
		}, "bad permessage-deflate parameters"},
		{"window bits without value", Options{Compress: true}, func(req *http.Request) string {
			return upgradeHead(req, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")
		}, "client_max_window_bits needs a value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := rawServer(t, func(c net.Conn, req *http.Request) {
				c.Write([]byte(tc.response(req)))
				drain(c)
			})
			o := tc.opts
			o.URL = "ws://" + addr
			_, err := handshake(t, o)
			var he *HandshakeError
			if !errors.As(err, &he) || he.Status != 101 || !strings.Contains(err.Error(), "bad upgrade response: "+tc.want) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// TestHandshakeNegotiated: the chosen subprotocol and the deflate
// parameters of the answer are reported as sent.
func TestHandshakeNegotiated(t *testing.T) {
	const ext = "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"
	addr := rawServer(t, func(c net.Conn, req *http.Request) {
		c.Write([]byte(upgradeHead(req, "Sec-WebSocket-Protocol: b\r\nSec-WebSocket-Extensions: "+ext+"\r\n")))
		drain(c)
	})
	res, err := handshake(t, Options{URL: "ws://" + addr, Subprotocols: []string{"a", "b"}, Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	want := wsflate.Parameters{ServerNoContextTakeover: true, ClientMaxWindowBits: 10}
	if res.Subprotocol != "b" || res.Extensions != ext || res.Deflate == nil || *res.Deflate != want {
		t.Fatalf("subprotocol %q extensions %q deflate %+v", res.Subprotocol, res.Extensions, res.Deflate)
	}
	if res.TCP == nil || res.Duration <= 0 {
		t.Fatalf("TCP %v duration %s", res.TCP, res.Duration)
	}
}

// TestHandshakeRequestHeader: RequestHeader is exactly what the server
// received.
func TestHandshakeRequestHeader(t *testing.T) {
	got := make(chan *http.Request, 1)
	addr := rawServer(t, func(c net.Conn, req *http.Request) {
		got <- req
		c.Write([]byte(upgradeHead(req, "")))
		drain(c)
	})
	h := http.Header{}
	h.Set("X-Trace", "abc\r\nInjected: yes")
	h.Add("X-Multi", "1")
	h.Add("X-Multi", "2")
	h.Set("Sec-WebSocket-Protocol", "extra")
	res, err := handshake(t, Options{
		URL:          "ws://me:s3cret@" + addr + "/path?q=1",
		Header:       h,
		Origin:       "http://example.test",
		Subprotocols: []string{"chat", "superchat"},
		Compress:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	req := <-got
	if req.RequestURI != "/path?q=1" {
		t.Fatalf("request URI %q", req.RequestURI)
	}
	received := req.Header.Clone()
	received.Set("Host", req.Host)
	if fmt.Sprint(received) != fmt.Sprint(res.RequestHeader) {
		t.Fatalf("server received\n%v\nwe report\n%v", received, res.RequestHeader)
	}
	for k, v := range map[string]string{
		"Host":                     addr,
		"Upgrade":                  "websocket",
		"Connection":               "Upgrade",
		"Sec-WebSocket-Version":    "13",
		"Sec-WebSocket-Protocol":   "chat, superchat, extra",
		"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
		"Origin":                   "http://example.test",
		"Authorization":            "Basic bWU6czNjcmV0",
		"X-Trace":                  "abc  Injected: yes",
	} {
		if got := res.RequestHeader.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(res.RequestHeader.Values("X-Multi")) != 2 || len(res.RequestHeader.Get("Sec-WebSocket-Key")) != 24 {
		t.Errorf("request header %v", res.RequestHeader)
	}
}

// TestHandshakeCancel: cancelling ctx ends the handshake at once, whatever
// it is waiting for: the upgrade response, a proxy's CONNECT answer, or a
// TLS handshake.
func TestHandshakeCancel(t *testing.T) {
	arrived := make(chan struct{}, 8)
	silent := listenRaw(t, func(c net.Conn) {
		arrived <- struct{}{}
		drain(c)
	})
	cases := map[string]Options{
		"upgrade response": {URL: "ws://" + silent},
		"proxy CONNECT":    {URL: "ws://example.test", Proxy: "http://" + silent},
		"TLS handshake":    {URL: "wss://" + silent},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, o := dialOpts(t, o)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				res, err := clientHandshake(ctx, cfg, o)
				if res != nil {
					res.Conn.Close()
				}
				done <- err
			}()
			<-arrived
			start := time.Now()
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "cancelled while") {
					t.Fatalf("err = %v", err)
				}
				_ = start
			case <-time.After(10 * time.Second):
				t.Fatal("still waiting 10s after the cancel")
			}
		})
	}
	t.Run("deadline", func(t *testing.T) {
		cfg, o := dialOpts(t, Options{URL: "ws://" + silent})
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_, err := clientHandshake(ctx, cfg, o)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "connect timeout: no upgrade from "+silent+" in time (while ") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestHandshakeDialErrors: failures before any HTTP answer keep the words
// of describeDialError.
func TestHandshakeDialErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	plain := listenRaw(t, func(c net.Conn) {
		c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
		drain(c)
	})
	hangUp := listenRaw(t, func(c net.Conn) {
		// Read the whole ClientHello record first: closing with unread
		// bytes would send a reset instead of an end of stream.
		var h [5]byte
		if _, err := io.ReadFull(c, h[:]); err == nil {
			io.CopyN(io.Discard, c, int64(h[3])<<8|int64(h[4]))
		}
	})
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	tlsSrv.Config.ErrorLog = discardLog()
	cases := []struct {
		url  string
		want string
		is   error
	}{
		{"ws://" + closed, "connection refused by " + closed, syscall.ECONNREFUSED},
		{"wss://" + strings.TrimPrefix(tlsSrv.URL, "https://"), "TLS certificate not trusted", nil},
		{"wss://" + plain, "the server does not speak TLS (try ws://)", nil},
		{"wss://" + hangUp, "TLS handshake with " + hangUp + " failed: the server closed the connection", io.EOF},
	}
	for _, tc := range cases {
		_, err := handshake(t, Options{URL: tc.url})
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%s: err = %v", tc.url, err)
		}
	}
	_, err = handshake(t, Options{URL: "ws://example.test", Proxy: "http://" + closed})
	if err == nil || err.Error() != "cannot reach proxy: connection refused by "+closed || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("proxy refused: %v", err)
	}
}

// TestHandshakePeers: upgrades to servers written by others, with a
// subprotocol and with compression, then an echo through the reader.
func TestHandshakePeers(t *testing.T) {
	for _, kind := range peerKinds {
		for _, deflate := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/deflate=%v", kind, deflate), func(t *testing.T) {
				t.Parallel()
				var p peer
				if deflate {
					p = startPeer(t, kind, "deflate")
				} else {
					p = startPeer(t, kind)
				}
				res, err := handshake(t, Options{URL: p.base + "/echo", Subprotocols: []string{"nope", "chat"}, Compress: deflate})
				if err != nil {
					t.Fatal(err)
				}
				if res.Subprotocol != "chat" || (res.Deflate != nil) != deflate || strings.Contains(res.Extensions, "permessage-deflate") != deflate {
					t.Fatalf("subprotocol %q extensions %q deflate %+v", res.Subprotocol, res.Extensions, res.Deflate)
				}
				if err := ws.WriteFrame(res.Conn, ws.MaskFrame(ws.NewTextFrame([]byte("hello")))); err != nil {
					t.Fatal(err)
				}
				if got := readText(t, res); got != "hello" {
					t.Fatalf("echo %q", got)
				}
				ws.WriteFrame(res.Conn, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(1000, ""))))
			})
		}
	}
}

// readText reads one unfragmented text frame from res, decompressing it
// when RSV1 is set, and unmasking it when it is masked.
func readText(t *testing.T, res *handshakeResult) string {
	t.Helper()
	res.Conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	defer res.Conn.SetReadDeadline(time.Time{})
	f, err := ws.ReadFrame(res.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if f.Header.Masked {
		f = ws.UnmaskFrameInPlace(f)
	}
	if f.Header.OpCode != ws.OpText || !f.Header.Fin {
		t.Fatalf("frame %+v", f.Header)
	}
	if f.Header.Rsv1() {
		if res.Deflate == nil {
			t.Fatal("RSV1 without permessage-deflate")
		}
		if f, err = wsflate.DecompressFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	return string(f.Payload)
}

// upgradeServer serves serverHandshake with sc under httptest, with ctx
// (nil: the request's). Each upgrade is handled by then (which may be nil)
// before the connection is closed, and each handler's outcome is sent on
// the returned channel.
func upgradeServer(t *testing.T, ctx context.Context, sc serverConfig, then func(*handshakeResult)) (string, <-chan error) {
	t.Helper()
	out := make(chan error, 8)
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		hctx := ctx
		if hctx == nil {
			hctx = r.Context()
		}
		res, err := serverHandshake(hctx, w, r, sc)
		if err == nil {
			if res.Status != 101 || res.RequestHeader.Get("Host") == "" || res.TCP == nil {
				err = fmt.Errorf("result %+v", res)
			} else if then != nil {
				then(res)
			}
			res.Conn.Close()
		}
		out <- err
	}))
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	return strings.TrimPrefix(srv.URL, "http://"), out
}

// rawUpgrade sends an upgrade request by hand (head is the request line
// and headers, without the blank line), followed at once by early, and
// reads the answer.
func rawUpgrade(t *testing.T, addr, head string, early []byte) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write(append([]byte(head+"\r\n"), early...)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, br, resp
}

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// upgradeRequestHead is a valid upgrade request head with extra header lines.
func upgradeRequestHead(extra string) string {
	return "GET /chat?room=1 HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n" + extra
}

// TestUpgradeSubprotocol: the subprotocol is chosen by our preference
// among those offered.
func TestUpgradeSubprotocol(t *testing.T) {
	got := make(chan *handshakeResult, 2)
	addr, errs := upgradeServer(t, nil, serverConfig{Subprotocols: []string{"superchat", "chat"}}, func(res *handshakeResult) { got <- res })
	for offer, want := range map[string]string{"chat, superchat": "superchat", "chat": "chat", "other": ""} {
		_, _, resp := rawUpgrade(t, addr, upgradeRequestHead("Sec-WebSocket-Protocol: "+offer+"\r\n"), nil)
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		res := <-got
		if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Protocol") != want || res.Subprotocol != want ||
			resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
			t.Fatalf("offer %q: %d %v, result %q", offer, resp.StatusCode, resp.Header, res.Subprotocol)
		}
		if fmt.Sprint(res.Header) != fmt.Sprint(resp.Header) {
			t.Fatalf("we report %v, the client got %v", res.Header, resp.Header)
		}
	}
}

// TestUpgradeCompression: permessage-deflate is accepted only when on, and
// an offer we cannot honour is declined in favour of the next.
func TestUpgradeCompression(t *testing.T) {
	const offer = "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, permessage-deflate; client_max_window_bits\r\n"
	for _, on := range []bool{false, true} {
		got := make(chan *handshakeResult, 1)
		addr, errs := upgradeServer(t, nil, serverConfig{Compress: on}, func(res *handshakeResult) { got <- res })
		_, _, resp := rawUpgrade(t, addr, upgradeRequestHead(offer), nil)
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		res := <-got
		ext := resp.Header.Get("Sec-WebSocket-Extensions")
		if !on {
			if ext != "" || res.Deflate != nil {
				t.Fatalf("off: extensions %q", ext)
			}
			continue
		}
		if ext != "permessage-deflate;server_no_context_takeover;client_no_context_takeover" || res.Extensions != ext || res.Deflate == nil || *res.Deflate != serverDeflate {
			t.Fatalf("on: extensions %q, result %q %+v", ext, res.Extensions, res.Deflate)
		}
	}
}

// TestUpgradeReject: Reject answers with its status and body and does not
// upgrade.
func TestUpgradeReject(t *testing.T) {
	addr, errs := upgradeServer(t, nil, serverConfig{Reject: &Rejection{Status: 401, Body: "who are you?"}}, nil)
	_, _, resp := rawUpgrade(t, addr, upgradeRequestHead(""), nil)
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 100))
	if resp.StatusCode != 401 || string(body) != "who are you?\n" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	var he *HandshakeError
	if err := <-errs; !errors.As(err, &he) || he.Status != 401 || he.Body != "who are you?\n" {
		t.Fatalf("server side: %v", err)
	}
}

// TestUpgradeDelay: the 101 is held for HandshakeDelay, and a frame the
// client sent meanwhile is the first thing the server's reader yields.
func TestUpgradeDelay(t *testing.T) {
	const delay = 300 * time.Millisecond
	early := ws.MustCompileFrame(ws.MaskFrame(ws.NewTextFrame([]byte("sent while connecting"))))
	for _, together := range []bool{true, false} {
		t.Run(fmt.Sprintf("same write=%v", together), func(t *testing.T) {
			got := make(chan string, 1)
			addr, errs := upgradeServer(t, nil, serverConfig{HandshakeDelay: delay}, func(res *handshakeResult) {
				got <- readText(t, res)
			})
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			head := []byte(upgradeRequestHead("") + "\r\n")
			if together {
				_, err = c.Write(append(head, early...))
			} else if _, err = c.Write(head); err == nil {
				_, err = c.Write(early)
			}
			if err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(15 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); resp.StatusCode != 101 || d < delay {
				t.Fatalf("status %d after %s", resp.StatusCode, d)
			}
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
			if s := <-got; s != "sent while connecting" {
				t.Fatalf("server read %q first", s)
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		// The handler's ctx is cancelled once the request is in: the
		// handler is then in its hour-long delay, or about to be.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		entered := make(chan struct{})
		addr, errs := upgradeServer(t, &signalCtx{Context: ctx, entered: entered}, serverConfig{HandshakeDelay: time.Hour}, nil)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte(upgradeRequestHead("") + "\r\n"))
		<-entered
		cancel()
		select {
		case err := <-errs:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the delay was not cut short")
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 503 {
			t.Fatalf("client got %v %v", resp, err)
		}
	})
}

// signalCtx is a context that closes entered the first time its Done is
// asked for: a barrier for "the handler is waiting on ctx".
type signalCtx struct {
	context.Context
	entered chan struct{}
	once    sync.Once
}

func (c *signalCtx) Done() <-chan struct{} {
	c.once.Do(func() { close(c.entered) })
	return c.Context.Done()
}

// TestUpgradeBadRequests: requests that are not valid upgrades get 400
// with a plain reason, or 426 naming version 13.
func TestUpgradeBadRequests(t *testing.T) {
	addr, errs := upgradeServer(t, nil, serverConfig{}, nil)
	valid := upgradeRequestHead("")
	cases := []struct {
		name, head string
		status     int
		reason     string
	}{
		{"POST", strings.Replace(valid, "GET", "POST", 1) + "Content-Length: 0\r\n", 400, "a WebSocket upgrade is a GET, not POST"},
		{"HTTP/1.0", strings.Replace(valid, "HTTP/1.1", "HTTP/1.0", 1), 400, "needs HTTP/1.1"},
		{"no Upgrade", strings.Replace(valid, "Upgrade: websocket\r\n", "", 1), 400, "no Upgrade: websocket header"},
		{"Upgrade h2c", strings.Replace(valid, "Upgrade: websocket", "Upgrade: h2c", 1), 400, `Upgrade header is "h2c", not websocket`},
		{"no Connection upgrade", strings.Replace(valid, "keep-alive, Upgrade", "keep-alive", 1), 400, "Connection header is \"keep-alive\", without upgrade"},
		{"version 8", strings.Replace(valid, "Version: 13", "Version: 8", 1), 426, `Sec-WebSocket-Version "8" is not supported; this server speaks 13`},
		{"no version", strings.Replace(valid, "Sec-WebSocket-Version: 13\r\n", "", 1), 426, "no Sec-WebSocket-Version header"},
		{"short key", strings.Replace(valid, testKey, "c2hvcnQ=", 1), 400, `Sec-WebSocket-Key "c2hvcnQ=" is not 16 bytes in base64`},
		{"no key", strings.Replace(valid, "Sec-WebSocket-Key: "+testKey+"\r\n", "", 1), 400, "no Sec-WebSocket-Key header"},
	}
	for _, tc := range cases {
		_, _, resp := rawUpgrade(t, addr, tc.head, nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.reason) {
			t.Errorf("%s: %d %q", tc.name, resp.StatusCode, body)
		}
		if tc.status == 426 && resp.Header.Get("Sec-WebSocket-Version") != "13" {
			t.Errorf("%s: 426 without Sec-WebSocket-Version: 13: %v", tc.name, resp.Header)
		}
		var he *HandshakeError
		if err := <-errs; !errors.As(err, &he) || he.Status != tc.status || !strings.Contains(he.Reason, tc.reason) {
			t.Errorf("%s: server side %v", tc.name, err)
		}
	}
}

// TestUpgradePeerClients: clients written by others upgrade through
// serverHandshake, with our subprotocol preference and with compression on
// and off, and exchange a message each way.
func TestUpgradePeerClients(t *testing.T) {
	for _, kind := range peerKinds {
		for _, deflate := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/deflate=%v", kind, deflate), func(t *testing.T) {
				t.Parallel()
				fromClient := make(chan string, 1)
				addr, errs := upgradeServer(t, nil, serverConfig{Subprotocols: []string{"superchat", "chat"}, Compress: deflate}, func(res *handshakeResult) {
					if err := ws.WriteFrame(res.Conn, ws.NewTextFrame([]byte("welcome"))); err != nil {
						t.Error(err)
						return
					}
					fromClient <- readText(t, res)
					ws.WriteFrame(res.Conn, ws.NewCloseFrame(ws.NewCloseFrameBody(1000, "")))
				})
				mode := "plain"
				if deflate {
					mode = "deflate"
				}
				out := runPeerClient(t, kind, "ws://"+addr+"/chat", mode, "chat", "superchat")
				var got struct{ Protocol, Extensions, Got string }
				if err := json.Unmarshal(out, &got); err != nil {
					t.Fatalf("client said %q: %v", out, err)
				}
				if got.Protocol != "superchat" || got.Got != "welcome" || strings.Contains(got.Extensions, "permessage-deflate") != deflate {
					t.Fatalf("client saw %+v", got)
				}
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
				if s := <-fromClient; s != "hi" {
					t.Fatalf("server read %q", s)
				}
			})
		}
	}
}

// runPeerClient runs testdata/peers/ws_client.js or ws_client.py and
// returns what it printed.
func runPeerClient(t *testing.T, kind string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var cmd *exec.Cmd
	switch kind {
	case "node-ws":
		cmd = exec.CommandContext(ctx, "node", append([]string{"testdata/peers/ws_client.js"}, args...)...)
	case "python-websockets":
		cmd = exec.CommandContext(ctx, "/usr/bin/python3", append([]string{"testdata/peers/ws_client.py"}, args...)...)
	}
	cmd.Stderr = &prefixWriter{t: t, prefix: kind + " client: "}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s client: %v", kind, err)
	}
	return bytes.TrimSpace(out)
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
