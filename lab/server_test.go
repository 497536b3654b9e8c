package lab

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestLoopbackAddr(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"", "127.0.0.1:0", false},
		{"127.0.0.1:8765", "127.0.0.1:8765", false},
		{":8765", "127.0.0.1:8765", false},
		{"localhost:0", "127.0.0.1:0", false},
		{"0.0.0.0:8765", "", true},
		{"[::]:8765", "", true},
		{"192.168.1.2:80", "", true},
		{"example.com:80", "", true},
		{"8765", "", true},
	}
	for _, tt := range tests {
		got, err := loopbackAddr(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("loopbackAddr(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := Start(Options{Addr: "0.0.0.0:0"}); err == nil {
		t.Fatal("Start on 0.0.0.0 succeeded, want a refusal")
	}
}

func TestURLAndAddr(t *testing.T) {
	s, _ := startLab(t)
	host, _, err := net.SplitHostPort(s.Addr())
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("Addr() = %q, want 127.0.0.1:PORT", s.Addr())
	}
	if got, want := s.URL("/close?code=4000"), "ws://"+s.Addr()+"/close?code=4000"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if got, want := s.URL("echo"), "ws://"+s.Addr()+"/echo"; got != want {
		t.Errorf("URL without slash = %q, want %q", got, want)
	}
	if s.CertPEM() != nil {
		t.Error("CertPEM without TLS is not nil")
	}
}

func TestPathsAndPrintURLs(t *testing.T) {
	want := []string{"/echo", "/headers", "/auth", "/close", "/reject", "/slow", "/mute", "/drop", "/fin",
		"/fragments", "/ping", "/big", "/badutf8", "/hostile", "/ticks", "/room", "/flood", "/silent"}
	seen := map[string]bool{}
	for _, p := range Paths() {
		if seen[p.Path] {
			t.Errorf("path %s listed twice", p.Path)
		}
		seen[p.Path] = true
		if p.Description == "" || strings.Contains(p.Description, "\n") {
			t.Errorf("path %s: description %q is not one line", p.Path, p.Description)
		}
	}
	for _, p := range want {
		if !seen[p] {
			t.Errorf("path %s missing from Paths()", p)
		}
	}
	s, _ := startLab(t)
	var b bytes.Buffer
	s.PrintURLs(&b)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != len(Paths()) {
		t.Fatalf("PrintURLs wrote %d lines, want %d", len(lines), len(Paths()))
	}
	for i, p := range Paths() {
		if !strings.HasPrefix(lines[i], s.URL(p.Path)+" ") || !strings.HasSuffix(lines[i], p.Description) {
			t.Errorf("line %d = %q, want URL of %s and its description", i, lines[i], p.Path)
		}
	}
}

func TestIndexAndUnknownPath(t *testing.T) {
	s, _ := startLab(t)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for _, tt := range []struct {
		path   string
		status int
	}{{"/", 200}, {"/nope", 404}} {
		resp, err := client.Get("http://" + s.Addr() + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(body), s.URL("/mute")) {
			t.Errorf("GET %s: %d %q, want %d and the list of paths", tt.path, resp.StatusCode, body, tt.status)
		}
	}
}

func TestTLS(t *testing.T) {
	s, err := Start(Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL("/echo"), "wss://127.0.0.1:") {
		t.Fatalf("URL = %q, want wss://127.0.0.1:…", s.URL("/echo"))
	}
	block, _ := pem.Decode(s.CertPEM())
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("CertPEM is not a PEM certificate: %q", s.CertPEM())
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("certificate key is %T, want ECDSA", cert.PublicKey)
	}
	if err := cert.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	if err := cert.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CertPEM())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	ctx := guardCtx(t)
	for _, path := range []string{"/echo", "/mute"} { // library side and raw side
		c, _, err := websocket.Dial(ctx, s.URL(path), &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
		if err != nil {
			t.Fatalf("wss dial %s: %v", path, err)
		}
		if err := c.Write(ctx, websocket.MessageText, []byte("over tls")); err != nil {
			t.Fatal(err)
		}
		if got := readText(t, ctx, c); got != "over tls" {
			t.Errorf("%s echoed %q", path, got)
		}
		c.CloseNow()
	}

	// Without the certificate the dial must fail verification.
	plain := &http.Transport{}
	defer plain.CloseIdleConnections()
	if c, _, err := websocket.Dial(ctx, s.URL("/echo"), &websocket.DialOptions{HTTPClient: &http.Client{Transport: plain}}); err == nil {
		c.CloseNow()
		t.Fatal("dial without the lab CA succeeded")
	}
}

func TestTLSFin(t *testing.T) {
	s, err := Start(Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CertPEM())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	ctx := guardCtx(t)
	c, _, err := websocket.Dial(ctx, s.URL("/fin?after=10ms"), &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	readText(t, ctx, c)
	_, _, err = c.Read(ctx)
	if !errors.Is(err, io.EOF) || websocket.CloseStatus(err) != -1 {
		t.Fatalf("read after FIN over TLS: %v, want io.EOF without close status", err)
	}
}

// TestCloseEndsEverything opens every kind of long-lived connection, closes
// the server, and checks that Close returns promptly and every client sees
// its connection end. TestMain's leak check then proves the goroutines
// ended too.
func TestCloseEndsEverything(t *testing.T) {
	log := &logBuffer{}
	s, err := Start(Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx := guardCtx(t)
	var conns []*websocket.Conn
	for _, path := range []string{"/echo", "/mute", "/fin?after=1h", "/drop?after=1h", "/ping?interval=1h",
		"/ticks?interval=1h", "/room", "/silent", "/close?after=1h", "/fragments", "/flood?n=100000000&size=1000"} {
		conns = append(conns, mustDial(t, ctx, s.URL(path), nil))
	}
	// A handshake held open, and a TCP connection that never finishes its request.
	slowErr := make(chan error, 1)
	go func() {
		c, _, err := dial(t, ctx, s.URL("/slow?delay=1h"), nil)
		if c != nil {
			c.CloseNow()
		}
		slowErr <- err
	}()
	half, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	half.Write([]byte("GET /echo HTTP/1.1\r\nHost: x\r\n"))
	waitLog(t, log, "/slow holding the handshake")

	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for i, c := range conns {
		readCtx := testCtx(t, 5*time.Second)
		for {
			if _, _, err := c.Read(readCtx); err != nil {
				if errors.Is(err, readCtx.Err()) && readCtx.Err() != nil {
					t.Errorf("connection %d still open after Close", i)
				}
				break
			}
		}
	}
	if err := <-slowErr; err == nil {
		t.Error("held handshake succeeded after Close")
	}
	half.SetReadDeadline(time.Now().Add(5 * time.Second))
	// A reset closes it too: Close may come before net/http has read the
	// partial request, and closing a socket with unread bytes resets it.
	if _, err := io.ReadAll(half); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("half-sent request: %v, want the server to close it", err)
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Error("server still accepts TCP after Close")
	}
}
