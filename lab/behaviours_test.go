package lab

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/wsinspect/wsinspect/internal/wsframe"
)

func TestEchoSubprotocols(t *testing.T) {
	s, _ := startLab(t)
	tests := []struct {
		offered []string
		want    string
	}{
		{nil, ""},
		{[]string{"chat"}, "chat"},
		{[]string{"superchat", "chat"}, "superchat"},
		{[]string{"mqtt", "chat", "superchat"}, "chat"},
		{[]string{"mqtt"}, ""},
	}
	for _, tt := range tests {
		ctx := guardCtx(t)
		c := mustDial(t, ctx, s.URL("/echo"), &websocket.DialOptions{Subprotocols: tt.offered})
		if got := c.Subprotocol(); got != tt.want {
			t.Errorf("offered %q: negotiated %q, want %q", tt.offered, got, tt.want)
		}
		c.Close(websocket.StatusNormalClosure, "")
	}
}

func TestEchoMessages(t *testing.T) {
	s, _ := startLab(t)
	for _, mode := range []websocket.CompressionMode{websocket.CompressionDisabled, websocket.CompressionNoContextTakeover, websocket.CompressionContextTakeover} {
		// Echoing 32 MiB under the race detector takes 5 s here, and over
		// 20 s on a loaded 2-core machine.
		ctx := guardCtx(t)
		c, resp, err := dial(t, ctx, s.URL("/echo"), &websocket.DialOptions{CompressionMode: mode})
		if err != nil {
			t.Fatal(err)
		}
		ext := resp.Header.Get("Sec-WebSocket-Extensions")
		if deflate := strings.Contains(ext, "permessage-deflate"); deflate != (mode != websocket.CompressionDisabled) {
			t.Errorf("mode %v: Sec-WebSocket-Extensions %q", mode, ext)
		}
		// The 32 MiB message checks the read limit; compressing it under
		// the race detector would only add time.
		big := BigPayload(32 << 20)
		if mode != websocket.CompressionDisabled {
			big = big[:1<<20]
		}
		msgs := []struct {
			typ websocket.MessageType
			p   []byte
		}{
			{websocket.MessageText, []byte("hello")},
			{websocket.MessageBinary, []byte{0, 0xff, 0x1b, '[', '2', 'J'}},
			{websocket.MessageText, bytes.Repeat([]byte("compressible "), 100)},
			{websocket.MessageText, []byte{}},
			{websocket.MessageBinary, big},
		}
		for _, m := range msgs {
			if err := c.Write(ctx, m.typ, m.p); err != nil {
				t.Fatalf("mode %v: write %d bytes: %v", mode, len(m.p), err)
			}
			typ, p, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("mode %v: read: %v", mode, err)
			}
			if typ != m.typ || !bytes.Equal(p, m.p) {
				t.Errorf("mode %v: echoed %v of %d bytes, want %v of %d", mode, typ, len(p), m.typ, len(m.p))
			}
		}
		if err := c.Close(websocket.StatusNormalClosure, "done"); err != nil {
			t.Errorf("mode %v: close: %v", mode, err)
		}
	}
}

func TestHeaders(t *testing.T) {
	s, _ := startLab(t)
	ctx := guardCtx(t)
	h := http.Header{}
	h.Set("Origin", "http://evil.example")
	h.Set("Authorization", "Bearer t0ken")
	h.Set("X-Custom", "one")
	h.Add("X-Custom", "two")
	c := mustDial(t, ctx, s.URL("/headers"), &websocket.DialOptions{HTTPHeader: h})
	var got map[string][]string
	if err := json.Unmarshal([]byte(readText(t, ctx, c)), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"Origin":        {"http://evil.example"},
		"Authorization": {"Bearer t0ken"},
		"X-Custom":      {"one", "two"},
		"Host":          {s.Addr()},
		"Upgrade":       {"websocket"},
	}
	for k, v := range want {
		if strings.Join(got[k], "|") != strings.Join(v, "|") {
			t.Errorf("header %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got["Sec-Websocket-Key"]) != 1 {
		t.Errorf("Sec-WebSocket-Key missing from %v", got)
	}
	c.Write(ctx, websocket.MessageText, []byte("then echo"))
	if got := readText(t, ctx, c); got != "then echo" {
		t.Errorf("echo after headers: %q", got)
	}
}

func TestAuth(t *testing.T) {
	s, _ := startLab(t)
	basic := func(u, p string) http.Header {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(u, p)
		return r.Header
	}
	tests := []struct {
		name   string
		path   string
		header http.Header
		ok     bool
	}{
		{"no credentials", "/auth", nil, false},
		{"wrong password", "/auth", basic("lab", "nope"), false},
		{"default credentials", "/auth", basic("lab", "secret"), true},
		{"credentials from query", "/auth?user=ann&pass=p%40ss", basic("ann", "p@ss"), true},
		{"default refused when query differs", "/auth?user=ann&pass=x", basic("lab", "secret"), false},
		{"bearer is not basic", "/auth", http.Header{"Authorization": {"Bearer x"}}, false},
	}
	for _, tt := range tests {
		ctx := guardCtx(t)
		c, resp, err := dial(t, ctx, s.URL(tt.path), &websocket.DialOptions{HTTPHeader: tt.header})
		if tt.ok {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			c.Write(ctx, websocket.MessageText, []byte("in"))
			if got := readText(t, ctx, c); got != "in" {
				t.Errorf("%s: echoed %q", tt.name, got)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: upgrade succeeded, want 401", tt.name)
			continue
		}
		if resp == nil || resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Basic realm="lab"` {
			t.Errorf("%s: response %+v, want 401 with a Basic challenge", tt.name, resp)
		}
	}
}

func TestServerClose(t *testing.T) {
	t.Parallel()
	s, log := startLab(t)
	tests := []struct {
		path   string
		code   websocket.StatusCode
		reason string
		after  time.Duration
	}{
		{"/close", 4001, "bye", 0},
		{"/close?code=1000&reason=", 1000, "", 0},
		{"/close?code=3000&reason=going+away+for+maintenance&after=300ms", 3000, "going away for maintenance", 300 * time.Millisecond},
	}
	for _, tt := range tests {
		ctx := guardCtx(t)
		start := time.Now()
		c := mustDial(t, ctx, s.URL(tt.path), nil)
		if tt.after > 0 {
			c.Write(ctx, websocket.MessageText, []byte("before close"))
			if got := readText(t, ctx, c); got != "before close" {
				t.Errorf("%s: echo before close: %q", tt.path, got)
			}
		}
		_, _, err := c.Read(ctx)
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != tt.code || ce.Reason != tt.reason {
			t.Errorf("%s: read error %v, want close %d %q", tt.path, err, tt.code, tt.reason)
		}
		if d := time.Since(start); d < tt.after {
			t.Errorf("%s: closed after %v, want at least %v", tt.path, d, tt.after)
		}
	}
	waitLog(t, log, "close handshake complete, client answered 3000")
}

func TestReject(t *testing.T) {
	s, _ := startLab(t)
	tests := []struct {
		path      string
		status    int
		body      string
		hdr, want string
	}{
		{"/reject", 401, "rejected by the wsinspect lab: HTTP 401 Unauthorized", "WWW-Authenticate", `Basic realm="lab"`},
		{"/reject?status=403&body=go+away", 403, "go away", "X-Lab-Behaviour", "reject"},
		{"/reject?status=503", 503, "HTTP 503 Service Unavailable", "Retry-After", "5"},
		{"/reject?status=302", 302, "HTTP 302 Found", "Location", "/echo"},
		{"/reject?status=200&body=", 200, "", "X-Lab-Behaviour", "reject"},
	}
	for _, tt := range tests {
		ctx := guardCtx(t)
		tr := &http.Transport{}
		hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		c, resp, err := dial(t, ctx, s.URL(tt.path), &websocket.DialOptions{HTTPClient: hc})
		tr.CloseIdleConnections()
		if err == nil {
			c.CloseNow()
			t.Errorf("%s: upgrade succeeded", tt.path)
			continue
		}
		if resp == nil || resp.StatusCode != tt.status {
			t.Errorf("%s: response %+v, want status %d", tt.path, resp, tt.status)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), tt.body) || (tt.body == "" && len(body) != 0) {
			t.Errorf("%s: body %q, want %q", tt.path, body, tt.body)
		}
		if got := resp.Header.Get(tt.hdr); got != tt.want {
			t.Errorf("%s: %s = %q, want %q", tt.path, tt.hdr, got, tt.want)
		}
	}
}

func TestSlow(t *testing.T) {
	t.Parallel()
	s, log := startLab(t)

	// A short hold ends in an upgrade no earlier than the delay.
	ctx := guardCtx(t)
	start := time.Now()
	c := mustDial(t, ctx, s.URL("/slow?delay=300ms"), nil)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("upgraded after %v, want at least 300ms", d)
	}
	c.Write(ctx, websocket.MessageText, []byte("late"))
	if got := readText(t, ctx, c); got != "late" {
		t.Errorf("echo after slow handshake: %q", got)
	}

	// A client that gives up is noticed at once, not after the delay.
	dialCtx := testCtx(t, 200*time.Millisecond)
	if _, _, err := dial(t, dialCtx, s.URL("/slow?delay=1h"), nil); err == nil {
		t.Fatal("dial with a 200ms timeout against a 1h hold succeeded")
	}
	waitLog(t, log, "client went away")
}

func TestBigOneFrame(t *testing.T) {
	s, _ := startLab(t)
	// The raw client sees that the message is a single frame.
	rc := dialRaw(t, s, "/big?size=100000")
	f := rc.mustRead(t)
	if !f.fin || f.opcode != wsframe.OpBinary || !bytes.Equal(f.payload, BigPayload(100000)) {
		t.Fatalf("got frame fin=%v opcode=%d len=%d, want one final binary frame of the pattern", f.fin, f.opcode, len(f.payload))
	}

	ctx := guardCtx(t)
	c := mustDial(t, ctx, s.URL("/big"), nil)
	typ, p, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if typ != websocket.MessageBinary || len(p) != 20971520 || !bytes.Equal(p, BigPayload(len(p))) {
		t.Fatalf("got %v of %d bytes, want the 20 MiB pattern", typ, len(p))
	}
}

func TestBadUTF8(t *testing.T) {
	s, _ := startLab(t)
	rc := dialRaw(t, s, "/badutf8")
	f := rc.mustRead(t)
	if f.opcode != wsframe.OpText || !f.fin || !bytes.Equal(f.payload, badUTF8) {
		t.Fatalf("frame opcode %d payload %q, want a text frame of %q", f.opcode, f.payload, badUTF8)
	}
	if utf8.Valid(f.payload) {
		t.Fatal("payload is valid UTF-8")
	}
}
