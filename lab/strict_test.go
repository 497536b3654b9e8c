package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// The /strict/… paths are checked here byte for byte, written out by hand
// (not with the lab's own encoder), and judged by a small strict client
// built on wsframe: each must break exactly the rule it names.

// b concatenates header bytes and payload strings into expected wire bytes.
func b(parts ...any) []byte {
	var out []byte
	for _, p := range parts {
		switch p := p.(type) {
		case int:
			out = append(out, byte(p))
		case string:
			out = append(out, p...)
		case []byte:
			out = append(out, p...)
		default:
			panic(fmt.Sprintf("b: %T", p))
		}
	}
	return out
}

// strictWant is each path's bytes after the handshake (and "before").
var strictWant = map[string][]byte{
	"masked": func() []byte {
		p := []byte("masked")
		for i := range p {
			p[i] ^= strictMask[i%4]
		}
		return b(0x81, 0x86, 0x37, 0xfa, 0x21, 0x3d, p)
	}(),
	"rsv1":             b(0xc1, 4, "rsv1"),
	"rsv2":             b(0xa1, 4, "rsv2"),
	"rsv3":             b(0x91, 4, "rsv3"),
	"opcode3":          b(0x83, 7, "opcode3"),
	"opcode11":         b(0x8b, 8, "opcode11"),
	"fragmented-ping":  b(0x09, 10, "fragmented"),
	"long-ping":        b(0x89, 126, 0, 126, strings.Repeat("p", 126)),
	"long-close":       b(0x88, 126, 0, 126, 0x03, 0xe8, strings.Repeat("c", 124)),
	"continuation":     b(0x80, 12, "continuation"),
	"data-in-fragment": b(0x01, 5, "first", 0x81, 6, "second"),
	"nonminimal16":     b(0x81, 126, 0, 5, "short"),
	"nonminimal64":     b(0x81, 127, 0, 0, 0, 0, 0, 0, 0, 5, "short"),
	"msb":              b(0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 5, "short"),
	"close-1byte":      b(0x88, 1, 0x03),
	"close-1005":       b(0x88, 2, 0x03, 0xed),
	"close-1006":       b(0x88, 2, 0x03, 0xee),
	"close-1015":       b(0x88, 2, 0x03, 0xf7),
	"close-999":        b(0x88, 2, 0x03, 0xe7),
	"close-2999":       b(0x88, 2, 0x0b, 0xb7),
	"close-5000":       b(0x88, 2, 0x13, 0x88),
	"close-bad-utf8":   b(0x88, 4, 0x03, 0xe8, 0xff, 0xfe),
	"bad-utf8":         b(0x81, 8, "hi \xff\xfe \xc3\x28"),
	"bad-utf8-split":   b(0x01, 6, "euro \xe2", 0x00, 8, "\x82\xac then ", 0x80, 6, "cut \xe2\x82"),
	"good-utf8-split":  b(0x01, 7, "grin \xf0\x9f", 0x89, 7, "between", 0x00, 1, "\x98", 0x80, 4, "\x80 ok"),
	"huge":             b(0x82, 127, 0x40, 0, 0, 0, 0, 0, 0, 0),
	"big":              b(0x82, 127, 0, 0, 0, 0, 0x01, 0x40, 0, 0),
	"data-after-close": b(0x88, 2, 0x03, 0xe8, 0x81, 11, "after close"),
	"ordered":          b(0x81, 1, "a", 0x89, 1, "p", 0x81, 1, "b", 0x88, 6, 0x0f, 0xab, "done"),
}

// handshakeFrames are what every handshake-* path sends after its
// response: binary [close 4000 "forged"], then close 4011 "done".
var handshakeFrames = b(0x82, 10, 0x88, 8, 0x0f, 0xa0, "forged", 0x88, 6, 0x0f, 0xab, "done")

// beforeFrame and afterFrame are the optional text messages.
var (
	beforeFrame = b(0x81, 6, "before")
	afterFrame  = b(0x81, 5, "after")
)

// judged is what the test's strict client made of some server bytes.
type judged struct {
	rule   string           // the first rule broken, "" if none
	heads  []wsframe.Header // every header read up to it
	texts  []string         // whole text and binary messages before it
	closed bool             // a valid close frame came before it
}

// judge reads server bytes as a strict client would, with wsframe, and
// names the first RFC 6455 rule they break. maxMessage is 16 MiB, the
// engine's default. A frame cut short ends the judgement without a rule.
func judge(wire []byte) judged {
	var j judged
	br := bufio.NewReader(bytes.NewReader(wire))
	chk := wsframe.Checker{MaxMessage: 16 << 20}
	var u wsframe.UTF8
	var msg []byte
	text := false
	for {
		h, err := wsframe.ReadHeader(br)
		switch {
		case err == io.EOF:
			return j
		case errors.Is(err, wsframe.ErrLengthMSB):
			j.rule = wsframe.RuleLengthMSB
			return j
		case err != nil:
			j.rule = "unreadable: " + err.Error()
			return j
		}
		j.heads = append(j.heads, h)
		if j.closed {
			j.rule = wsframe.RuleDataAfterClose
			return j
		}
		if v := chk.Header(h); v != nil {
			j.rule = v.Rule
			return j
		}
		if int64(br.Buffered()) < h.Length {
			return j // the payload never comes
		}
		p := make([]byte, h.Length)
		io.ReadFull(br, p)
		if h.Masked {
			wsframe.Unmask(p, h.Mask, 0)
		}
		switch h.Opcode {
		case wsframe.OpClose:
			if _, _, v := wsframe.ParseClose(p); v != nil {
				j.rule = v.Rule
				return j
			}
			j.closed = true
		case wsframe.OpText, wsframe.OpBinary, wsframe.OpContinuation:
			if h.Opcode != wsframe.OpContinuation {
				text, msg = h.Opcode == wsframe.OpText, nil
			}
			msg = append(msg, p...)
			if text && (!u.Write(p) || h.Fin && !u.Done()) {
				j.rule = wsframe.RuleInvalidUTF8
				return j
			}
			if h.Fin {
				j.texts = append(j.texts, string(msg))
			}
		}
	}
}

// segment returns the bytes of the server's next write: what the client
// has buffered already, or else what one read of the connection returns.
// On loopback a write this small arrives whole, so a short segment means
// the server split its bytes.
func (c *rawClient) segment(t *testing.T) []byte {
	t.Helper()
	if n := c.br.Buffered(); n > 0 {
		p, _ := c.br.Peek(n)
		p = bytes.Clone(p)
		c.br.Discard(n)
		return p
	}
	p := make([]byte, 64<<10) // larger than br's buffer: one read of the connection
	n, err := c.br.Read(p)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return p[:n]
}

// finish sends pongs for pings, a close frame with code and a TCP FIN,
// then returns whatever the lab still sent before it closed TCP.
func (c *rawClient) finish(t *testing.T, pings []string, code int) []byte {
	t.Helper()
	for _, p := range pings {
		c.write(t, true, wsframe.OpPong, []byte(p))
	}
	c.write(t, true, wsframe.OpClose, wsframe.ClosePayload(code, ""))
	if err := c.conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	rest, err := io.ReadAll(c.br)
	if err != nil {
		t.Fatalf("read until the lab closes TCP: %v", err)
	}
	return rest
}

// waitStrict is WaitStrict bounded by 20 s.
func waitStrict(t *testing.T, s *Server, path string) StrictResult {
	t.Helper()
	res, err := s.WaitStrict(guardCtx(t), path)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestStrictPathsListed(t *testing.T) {
	want := []string{"masked", "rsv1", "rsv2", "rsv3", "opcode3", "opcode11", "fragmented-ping", "long-ping",
		"long-close", "continuation", "data-in-fragment", "nonminimal16", "nonminimal64", "msb", "close-1byte",
		"close-1005", "close-1006", "close-1015", "close-999", "close-2999", "close-5000", "close-bad-utf8",
		"bad-utf8", "bad-utf8-split", "good-utf8-split", "huge", "big", "fragmented-big", "data-after-close",
		"ordered", "handshake-lf", "handshake-spaces", "handshake-continue"}
	var got []string
	for _, sp := range StrictPaths() {
		got = append(got, strings.TrimPrefix(sp.Path, strictPrefix))
		if !slices.ContainsFunc(Paths(), func(p Path) bool { return p.Path == sp.Path && p.Description == sp.Description }) {
			t.Errorf("%s is not in Paths()", sp.Path)
		}
		legal := sp.Rule == ""
		if !legal && !slices.Contains([]int{1000, 1002, 1007, 1009}, sp.Code) {
			t.Errorf("%s: code %d", sp.Path, sp.Code)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("strict paths\n%q\nwant\n%q", got, want)
	}
}

// TestStrictWire checks the bytes of every path but the handshake-* ones
// and fragmented-big: exactly the expected bytes in one write, after
// "before" when asked, breaking exactly the rule the path names; then the
// lab's record of the client's answer.
func TestStrictWire(t *testing.T) {
	t.Parallel()
	s, log := startLab(t)
	for _, sp := range StrictPaths() {
		name := strings.TrimPrefix(sp.Path, strictPrefix)
		if sp.Path == strictPrefix+"fragmented-big" || strings.HasPrefix(name, "handshake-") {
			continue
		}
		want, ok := strictWant[name]
		if !ok {
			t.Errorf("%s: no expected bytes in strictWant", sp.Path)
			continue
		}
		for vi, q := range []string{"", "&before=1", "&before=1&after=1"} {
			t.Run(name+q, func(t *testing.T) {
				t.Parallel()
				withAfter := strings.Contains(q, "after")
				if withAfter && (name == "huge" || name == "big" || name == "msb" || name == "ordered") {
					t.Skip("after=1 is refused here (TestStrictParams)")
				}
				url := fmt.Sprintf("%s?id=%s-%d%s", sp.Path, name, vi, q)
				rc := dialRaw(t, s, url)
				if strings.Contains(q, "before") {
					if f := rc.mustRead(t); !f.fin || f.opcode != wsframe.OpText || string(f.payload) != strictBefore {
						t.Fatalf("first frame %+v, want text %q", f, strictBefore)
					}
				}
				wantSeg := want
				if withAfter {
					wantSeg = b(want, afterFrame)
				}
				seg := rc.segment(t)
				if !bytes.Equal(seg, wantSeg) {
					t.Fatalf("bytes in one write:\n% x\nwant\n% x", seg, wantSeg)
				}
				j := judge(seg)
				if j.rule != sp.Rule {
					t.Errorf("a strict client finds rule %q, want %q", j.rule, sp.Rule)
				}
				if withAfter && sp.Rule != "" && slices.Contains(j.texts, strictAfter) {
					t.Errorf("the judge reached %q: the violation is not before it", strictAfter)
				}
				var pings []string
				for _, h := range j.heads {
					if h.Opcode == wsframe.OpPing && sp.Rule == "" {
						pings = append(pings, map[string]string{"ordered": "p", "good-utf8-split": "between"}[name])
					}
				}
				code := sp.Code
				if code == 0 {
					code = 1000
				}
				rest := rc.finish(t, pings, code)
				res := waitStrict(t, s, url)

				wantRest, wantEnd := []byte(nil), StrictClientClosed
				switch {
				case name == "good-utf8-split": // legal, lab sent no close: it answers
					wantRest, wantEnd = b(0x88, 2, 0x03, 0xe8), StrictLabClosed
				case name == "ordered" || name == "data-after-close": // the lab's close was answered
					wantEnd = StrictLabClosed
				}
				if !bytes.Equal(rest, wantRest) {
					t.Errorf("after our close the lab sent % x, want % x", rest, wantRest)
				}
				wantWrites := 2 // the 101, then the path's bytes in one write
				if strings.Contains(q, "before") {
					wantWrites++
				}
				if name == "good-utf8-split" {
					wantWrites++ // the close echo
				}
				if !res.GotClose || res.CloseCode != code || res.End != wantEnd || res.Path != sp.Path || res.Writes != wantWrites {
					t.Errorf("result %+v; want close %d, end %s, %d writes", res, code, wantEnd, wantWrites)
				}
				if n := len(res.Frames); n != len(pings)+1 || res.Frames[n-1].Opcode != wsframe.OpClose {
					t.Errorf("frames the lab saw: %+v", res.Frames)
				}
				for i, p := range pings {
					if f := res.Frames[i]; f.Opcode != wsframe.OpPong || string(f.Payload) != p {
						t.Errorf("frame %d the lab saw: %+v, want pong %q", i, f, p)
					}
				}
				if !strings.Contains(log.String(), fmt.Sprintf("#%d %s client sent close %d", res.Conn, sp.Path, code)) {
					t.Errorf("log lacks the close code of #%d", res.Conn)
				}
			})
		}
	}
}

// handshakeWant is each handshake-* path's response for an accept value.
var handshakeWant = map[string]string{
	"handshake-lf":       "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: %s\n\n",
	"handshake-spaces":   "HTTP/1.1  101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
	"handshake-continue": "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
}

// TestStrictHandshakes checks that each handshake-* path sends its response
// and frames in one write, that a real HTTP parser accepts the response, and
// that what follows is a binary message holding close-4000 bytes, then
// close 4011.
func TestStrictHandshakes(t *testing.T) {
	t.Parallel()
	s, _ := startLab(t)
	for name, resp := range handshakeWant {
		for _, before := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/before=%v", name, before), func(t *testing.T) {
				t.Parallel()
				path := fmt.Sprintf("%s%s?id=%v", strictPrefix, name, before)
				if before {
					path += "&before=1"
				}
				conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(hangGuard))
				key := make([]byte, 16)
				rand.Read(key)
				k := base64.StdEncoding.EncodeToString(key)
				fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
					"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, s.Addr(), k)
				want := b(fmt.Sprintf(resp, acceptKey(k)))
				if before {
					want = b(want, beforeFrame)
				}
				want = b(want, handshakeFrames)
				seg := make([]byte, 64<<10)
				n, err := conn.Read(seg)
				if err != nil {
					t.Fatal(err)
				}
				if seg = seg[:n]; !bytes.Equal(seg, want) {
					t.Fatalf("one read:\n%q\nwant\n%q", seg, want)
				}

				br := bufio.NewReader(bytes.NewReader(seg))
				r, err := http.ReadResponse(br, nil)
				for err == nil && r.StatusCode == http.StatusContinue {
					r, err = http.ReadResponse(br, nil)
				}
				if err != nil || r.StatusCode != http.StatusSwitchingProtocols || r.Header.Get("Sec-WebSocket-Accept") != acceptKey(k) {
					t.Fatalf("net/http reads the response as %+v, %v", r, err)
				}
				frames, _ := io.ReadAll(br)
				j := judge(frames)
				wantTexts := []string{"\x88\x08\x0f\xa0forged"}
				if before {
					wantTexts = []string{strictBefore, wantTexts[0]}
				}
				if j.rule != "" || !j.closed || !slices.Equal(j.texts, wantTexts) {
					t.Fatalf("frames after the response: %+v", j)
				}

				rc := &rawClient{conn: conn, br: bufio.NewReader(conn)}
				if rest := rc.finish(t, nil, strictDoneCode); len(rest) != 0 {
					t.Errorf("after our close: % x", rest)
				}
				if res := waitStrict(t, s, path); res.CloseCode != strictDoneCode || res.End != StrictLabClosed || res.Writes != 1 {
					t.Errorf("result %+v", res)
				}
			})
		}
	}
}

// TestStrictLegalWithLibrary checks that coder/websocket, a conforming
// client, accepts the legal paths as they are meant.
func TestStrictLegalWithLibrary(t *testing.T) {
	t.Parallel()
	s, _ := startLab(t)
	ctx := guardCtx(t)
	for name := range handshakeWant {
		c := mustDial(t, ctx, s.URL(strictPrefix+name), nil)
		typ, p, err := c.Read(ctx)
		if err != nil || typ != websocket.MessageBinary || !bytes.Equal(p, b(0x88, 8, 0x0f, 0xa0, "forged")) {
			t.Errorf("%s: first message %v % x %v", name, typ, p, err)
		}
		_, _, err = c.Read(ctx)
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != strictDoneCode || ce.Reason != strictDoneReason {
			t.Errorf("%s: then %v, want close 4011 done", name, err)
		}
		if res := waitStrict(t, s, strictPrefix+name); res.CloseCode != strictDoneCode || res.End != StrictLabClosed {
			t.Errorf("%s: result %+v", name, res)
		}
	}

	c := mustDial(t, ctx, s.URL("/strict/ordered"), nil)
	for _, want := range []string{"a", "b"} {
		if got := readText(t, ctx, c); got != want {
			t.Errorf("ordered: %q, want %q", got, want)
		}
	}
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != strictDoneCode {
		t.Errorf("ordered: %v, want close 4011", err)
	}
	if res := waitStrict(t, s, "ordered"); res.CloseCode != strictDoneCode {
		t.Errorf("ordered: result %+v", res)
	}

	c = mustDial(t, ctx, s.URL("/strict/good-utf8-split?before=1"), nil)
	for _, want := range []string{strictBefore, "grin 😀 ok"} {
		if got := readText(t, ctx, c); got != want {
			t.Errorf("good-utf8-split: %q, want %q", got, want)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, "thanks"); err != nil {
		t.Errorf("good-utf8-split: close: %v", err)
	}
	if res := waitStrict(t, s, "good-utf8-split"); res.CloseCode != 1000 || res.CloseReason != "thanks" || res.End != StrictLabClosed {
		t.Errorf("good-utf8-split: result %+v", res)
	}
}

// TestStrictParams checks hold, answer and the refused combinations.
func TestStrictParams(t *testing.T) {
	t.Parallel()
	s, _ := startLab(t)

	// hold: a client that never answers is given up on.
	rc := dialRaw(t, s, "/strict/masked?hold=50ms")
	rc.segment(t)
	res := waitStrict(t, s, "masked")
	if res.GotClose || res.End != StrictHoldPassed || res.EndAfter < 50*time.Millisecond {
		t.Errorf("hold: %+v", res)
	}
	if rest, err := io.ReadAll(rc.br); len(rest) != 0 || err != nil {
		t.Errorf("hold: then % x %v, want TCP closed", rest, err)
	}

	// answer=1: the client's close is echoed and the lab drops TCP.
	rc = dialRaw(t, s, "/strict/rsv1?answer=1")
	rc.segment(t)
	if rest := rc.finish(t, nil, 1002); !bytes.Equal(rest, b(0x88, 2, 0x03, 0xea)) {
		t.Errorf("answer=1: lab sent % x, want close 1002", rest)
	}
	if res := waitStrict(t, s, "/strict/rsv1?answer=1"); res.End != StrictLabClosed || res.CloseCode != 1002 {
		t.Errorf("answer=1: %+v", res)
	}

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for _, q := range []string{"huge?after=1", "big?after=1", "msb?after=1", "fragmented-big?after=1",
		"ordered?after=1", "handshake-lf?after=1", "masked?hold=forever", "fragmented-big?mib=0"} {
		resp, err := client.Get("http://" + s.Addr() + strictPrefix + q)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d %q, want 400", q, resp.StatusCode, body)
		}
	}
}

// TestStrictHugeThenNothing checks that huge and big send their header and
// nothing else while the client waits, and that Server.Close ends a
// connection the client keeps open.
func TestStrictHugeThenNothing(t *testing.T) {
	t.Parallel()
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rc := dialRaw(t, s, "/strict/huge?hold=10m")
	h, err := rc.readHeader()
	if err != nil || h.Length != 1<<62 || h.Opcode != wsframe.OpBinary || !h.Fin || h.Masked {
		t.Fatalf("header %+v %v, want binary announcing 2^62 bytes", h, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if rest, err := io.ReadAll(rc.br); len(rest) != 0 || err != nil {
		t.Errorf("after the header: % x %v, want nothing then EOF", rest, err)
	}
	res, err := s.WaitStrict(context.Background(), "huge")
	if err != nil || res.End != StrictServerClosed || res.GotClose {
		t.Errorf("result %+v %v", res, err)
	}
}

// TestStrictFragmentedBig checks the stream's frames, and that it stops
// at once when the client closes, whether with a close frame or by
// dropping TCP.
func TestStrictFragmentedBig(t *testing.T) {
	t.Parallel()
	s, _ := startLab(t)
	chunk := BigPayload(64 << 10)

	t.Run("whole", func(t *testing.T) {
		rc := dialRaw(t, s, "/strict/fragmented-big?mib=1&before=1")
		if f := rc.mustRead(t); string(f.payload) != strictBefore {
			t.Fatalf("first frame %q", f.payload)
		}
		for i := range 16 {
			f := rc.mustRead(t)
			wantOp := wsframe.OpContinuation
			if i == 0 {
				wantOp = wsframe.OpBinary
			}
			if f.opcode != wantOp || f.fin != (i == 15) || f.rsv != 0 || !bytes.Equal(f.payload, chunk) {
				t.Fatalf("frame %d: opcode %d fin %v %d bytes", i, f.opcode, f.fin, len(f.payload))
			}
		}
		rest := rc.finish(t, nil, 1000)
		res := waitStrict(t, s, "fragmented-big")
		if len(rest) != 0 || res.Streamed != 1<<20 || res.CloseCode != 1000 || res.End != StrictClientClosed {
			t.Errorf("rest % x, result %+v", rest, res)
		}
	})

	t.Run("close frame", func(t *testing.T) {
		rc := dialRaw(t, s, "/strict/fragmented-big")
		for range 2 {
			rc.mustRead(t)
		}
		rc.write(t, true, wsframe.OpClose, wsframe.ClosePayload(1009, ""))
		rc.conn.(*net.TCPConn).CloseWrite()
		n, err := io.Copy(io.Discard, rc.br)
		if err != nil {
			t.Fatal(err)
		}
		res := waitStrict(t, s, "fragmented-big")
		if n > 64<<20 || res.Streamed > 64<<20 || res.CloseCode != 1009 || res.End != StrictClientClosed {
			t.Errorf("read %d more bytes; result %+v", n, res)
		}
	})

	t.Run("drop", func(t *testing.T) {
		rc := dialRaw(t, s, "/strict/fragmented-big")
		rc.mustRead(t)
		rc.conn.Close()
		res := waitStrict(t, s, "fragmented-big")
		if res.Streamed >= 512<<20 || res.GotClose || res.End != StrictClientClosed {
			t.Errorf("result %+v", res)
		}
	})
}
