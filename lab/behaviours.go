package lab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// Behaviours built on coder/websocket: the server side is well-behaved and
// only the script of what it sends is unusual.

// maxMessage is the read limit of lab connections: above the 32 MiB a
// client may want to echo, and far above coder/websocket's 32 KiB default.
const maxMessage = 64 << 20

// badUTF8 is the payload /badutf8 sends in a text frame: "hi", a lone 0xff,
// and a truncated two-byte sequence.
var badUTF8 = []byte{'h', 'i', ' ', 0xff, 0xfe, ' ', 0xc3, 0x28}

// accept upgrades with coder/websocket and logs the outcome; nil means the
// client has already been answered with an error. Origins are not checked:
// the lab is loopback only and tests send arbitrary Origin headers.
func accept(w http.ResponseWriter, r *http.Request, l connLog, opts *websocket.AcceptOptions, what string) *websocket.Conn {
	if opts == nil {
		opts = &websocket.AcceptOptions{}
	}
	opts.InsecureSkipVerify = true
	c, err := websocket.Accept(w, r, opts)
	if err != nil {
		l.printf("upgrade refused: %v", err)
		return nil
	}
	c.SetReadLimit(maxMessage)
	var extra string
	if sp := c.Subprotocol(); sp != "" {
		extra += fmt.Sprintf(" subprotocol=%q", sp)
	}
	if ext := w.Header().Get("Sec-WebSocket-Extensions"); ext != "" {
		extra += fmt.Sprintf(" extensions=%q", ext)
	}
	l.printf("open from %s%s; %s", r.RemoteAddr, extra, what)
	return c
}

// echo writes every message back as it came until the connection ends.
// Reading with the server's context makes Close end it at once.
func (s *Server) echo(c *websocket.Conn) error {
	for {
		typ, p, err := c.Read(s.ctx)
		if err != nil {
			return err
		}
		if err := c.Write(s.ctx, typ, p); err != nil {
			return err
		}
	}
}

// drain reads and discards until the connection ends, so that a client's
// close frame is answered while the server only writes.
func (s *Server) drain(c *websocket.Conn) error {
	for {
		if _, _, err := c.Read(s.ctx); err != nil {
			return err
		}
	}
}

// echoSubprotocols are the subprotocols /echo knows, for clients to test
// negotiation.
var echoSubprotocols = []string{"chat", "superchat"}

// firstKnown returns the first subprotocol the client offered that is in
// known. coder/websocket prefers the server's order; RFC 6455 leaves the
// choice to the server and the lab follows the client's preference.
func firstKnown(r *http.Request, known []string) string {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, offered := range strings.Split(v, ",") {
			offered = strings.TrimSpace(offered)
			for _, k := range known {
				if strings.EqualFold(offered, k) {
					return k
				}
			}
		}
	}
	return ""
}

// serveEcho echoes text and binary messages, with subprotocol and
// permessage-deflate negotiation.
func serveEcho(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	opts := &websocket.AcceptOptions{
		CompressionMode: websocket.CompressionNoContextTakeover,
		// Compress all but tiny messages so compressed frames show up in
		// ordinary use.
		CompressionThreshold: 64,
	}
	if sp := firstKnown(r, echoSubprotocols); sp != "" {
		opts.Subprotocols = []string{sp}
	}
	c := accept(w, r, l, opts, "echoing")
	if c == nil {
		return
	}
	defer c.CloseNow()
	l.end(s.echo(c))
}

// serveHeaders sends the request headers it received as JSON, then echoes,
// so a client can check what it really sent (Origin, Authorization, custom
// headers). Host is included under "Host".
func serveHeaders(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	h := r.Header.Clone()
	h.Set("Host", r.Host)
	b, err := json.Marshal(h)
	if err != nil {
		http.Error(w, "failed to encode headers", http.StatusInternalServerError)
		return
	}
	c := accept(w, r, l, nil, "sent request headers as JSON, echoing")
	if c == nil {
		return
	}
	defer c.CloseNow()
	if err := c.Write(s.ctx, websocket.MessageText, b); err != nil {
		l.end(err)
		return
	}
	l.end(s.echo(c))
}

// serveAuth refuses the upgrade with 401 and a Basic challenge unless the
// request carries the expected credentials; then it echoes.
func serveAuth(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	p := newParams(r)
	user, pass := p.str("user", "lab"), p.str("pass", "secret")
	if !p.check(w, l) {
		return
	}
	u, pw, ok := r.BasicAuth()
	if !ok || u != user || pw != pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="lab"`)
		http.Error(w, "unauthorized: this lab path needs HTTP Basic auth", http.StatusUnauthorized)
		l.printf("rejected with 401 (credentials present: %v)", ok)
		return
	}
	c := accept(w, r, l, nil, "authenticated, echoing")
	if c == nil {
		return
	}
	defer c.CloseNow()
	l.end(s.echo(c))
}

// serveClose echoes until after has passed, then starts the close handshake
// with the requested code and reason and waits for the client's answer.
func serveClose(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	p := newParams(r)
	code := p.int("code", 4001, 1000, 4999)
	reason := p.str("reason", "bye")
	after := p.duration("after", 0, 0, time.Hour)
	if !wsframe.ValidCloseCode(code) {
		p.invalid("code=%d: not a code a close frame may carry (1000-1003, 1007-1014, 3000-4999)", code)
	}
	if len(reason) > 123 || !utf8.ValidString(reason) {
		p.invalid("reason: want at most 123 bytes of UTF-8")
	}
	if !p.check(w, l) {
		return
	}
	c := accept(w, r, l, nil, fmt.Sprintf("will close with %d after %v", code, after))
	if c == nil {
		return
	}
	defer c.CloseNow()
	var closeErr error
	acted, readErr := afterDelay(s, after, func() error { return s.echo(c) }, func() {
		l.printf("starting close handshake: code %d, reason %q", code, reason)
		closeErr = c.Close(websocket.StatusCode(code), reason)
	})
	if !acted {
		l.end(readErr)
		return
	}
	switch got := websocket.CloseStatus(readErr); {
	case got == websocket.StatusCode(code):
		l.printf("end: close handshake complete, client answered %d", got)
	case got != -1:
		l.printf("end: client answered with %d instead of %d", got, code)
	default:
		l.printf("end: close handshake incomplete: %v (%s)", closeErr, s.describeEnd(readErr))
	}
}

// serveReject refuses the upgrade with the requested status, a body and a
// few headers, so a client can show why a socket never opened.
func serveReject(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	p := newParams(r)
	status := p.int("status", http.StatusUnauthorized, 200, 599)
	body := p.str("body", fmt.Sprintf("rejected by the wsinspect lab: HTTP %d %s (this path never upgrades)",
		status, http.StatusText(status)))
	if !p.check(w, l) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Lab-Behaviour", "reject")
	switch {
	case status == http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Basic realm="lab"`)
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		h.Set("Retry-After", "5")
	case status >= 300 && status < 400:
		h.Set("Location", "/echo")
	}
	w.WriteHeader(status)
	fmt.Fprint(w, body)
	l.printf("rejected upgrade with %d", status)
}

// serveSlow holds the handshake for delay before answering, like a server
// that hangs; it gives up at once when the client leaves or the server
// closes.
func serveSlow(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	p := newParams(r)
	delay := p.duration("delay", 30*time.Second, 0, 24*time.Hour)
	if !p.check(w, l) {
		return
	}
	l.printf("holding the handshake for %v", delay)
	start := time.Now()
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done(): // the client left, or Close (BaseContext)
		why := "client went away"
		if s.ctx.Err() != nil {
			why = "server shutting down"
		}
		l.printf("end: stopped holding after %v: %s", time.Since(start).Round(time.Millisecond), why)
		return
	}
	c := accept(w, r, l, nil, "answered late, echoing")
	if c == nil {
		return
	}
	defer c.CloseNow()
	l.end(s.echo(c))
}
